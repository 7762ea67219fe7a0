import { Stack } from "aws-cdk-lib";
import { type IGrantable, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { KeyService } from "#infra/constructs/vigil-keys";

/** KMS actions a role may be granted through a data service. */
export type ViaServiceKmsAction = "kms:Decrypt" | "kms:GenerateDataKey";

/**
 * Grants KMS actions on a key only through one AWS service (`kms:ViaService`): the grantee can use
 * the key for what that service does on its behalf (decrypting a stream's records, a table's key,
 * a secret), and never call KMS with it directly.
 */
export function grantKeyViaService(
  grantee: IGrantable,
  key: IKey,
  service: KeyService,
  actions: readonly ViaServiceKmsAction[],
): void {
  const stack = Stack.of(key);
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: [...actions],
      resources: [key.keyArn],
      conditions: { StringEquals: { "kms:ViaService": `${service}.${stack.region}.amazonaws.com` } },
    }),
  );
}

/** Grants exactly `actions` on exactly `resources` (no CDK grant helper, which would add more). */
export function grantActions(
  grantee: IGrantable,
  actions: readonly string[],
  resources: readonly string[],
): void {
  if (actions.length === 0) return;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: [...actions], resources: [...resources] }),
  );
}
