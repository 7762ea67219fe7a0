import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  type PseudonymKey,
  PseudonymKeyError,
  parseStoredPseudonymKey,
} from "#shared/domain/decision-message/pseudonymize";
import type { PseudonymKeySource } from "#shared/ports/pseudonym-key-source";

/** The pseudonymization key from a Secrets Manager secret (`{"keyId":"k1","key":"…"}`), cached. */
export class SecretsManagerPseudonymKeySource implements PseudonymKeySource {
  private cached: { key: PseudonymKey; until: number } | undefined;
  private pending: Promise<PseudonymKey> | undefined;

  constructor(
    private readonly client: Pick<SecretsManagerClient, "send">,
    /** Secret name or ARN. */
    private readonly secretId: string,
    /** How long a fetched key is used before it is fetched again. Default 5 minutes. */
    private readonly cacheMs = 300_000,
    private readonly now: () => number = Date.now,
  ) {}

  async load(): Promise<PseudonymKey> {
    if (this.cached && this.now() < this.cached.until) return this.cached.key;
    // Concurrent callers share one request.
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<PseudonymKey> {
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    if (out.SecretString === undefined)
      throw new PseudonymKeyError(`secret ${this.secretId} has no string value`);
    const key = parseStoredPseudonymKey(out.SecretString, `secret ${this.secretId}`);
    this.cached = { key, until: this.now() + this.cacheMs };
    return key;
  }
}
