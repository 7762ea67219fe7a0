import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type AwsEnv, clientConfig } from "#shared/adapters/aws-clients";
import { FilePseudonymKeySource } from "#shared/adapters/file-pseudonym-key";
import { SecretsManagerPseudonymKeySource } from "#shared/adapters/secrets-manager-pseudonym-key";
import { PseudonymKeyError } from "#shared/domain/decision-message/pseudonymize";
import type { PseudonymKeySource } from "#shared/ports/pseudonym-key-source";
import { ENV } from "#shared/resources";

/**
 * The key source an environment names: `VIGIL_PSEUDONYM_KEY_SECRET` (Secrets Manager, AWS and
 * LocalStack) or `VIGIL_PSEUDONYM_KEY_FILE` (local stack). Throws when neither or both are set,
 * so a function never runs with an accidental key. Call once at cold start.
 */
export function pseudonymKeySourceFromEnv(
  env: AwsEnv = process.env,
  secretsManager?: Pick<SecretsManagerClient, "send">,
): PseudonymKeySource {
  const secret = env[ENV.pseudonymKeySecret];
  const file = env[ENV.pseudonymKeyFile];
  if (secret && file)
    throw new PseudonymKeyError(`set only one of ${ENV.pseudonymKeySecret} and ${ENV.pseudonymKeyFile}`);
  if (secret) {
    const client = secretsManager ?? new SecretsManagerClient({ ...clientConfig("SECRETS_MANAGER", env) });
    return new SecretsManagerPseudonymKeySource(client, secret);
  }
  if (file) return new FilePseudonymKeySource(file);
  throw new PseudonymKeyError(
    `no pseudonymization key: set ${ENV.pseudonymKeySecret} (AWS) or ${ENV.pseudonymKeyFile} (local)`,
  );
}
