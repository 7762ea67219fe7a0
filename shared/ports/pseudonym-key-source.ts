import type { PseudonymKey } from "#shared/domain/decision-message/pseudonymize";

/**
 * Where the pseudonymization key comes from: Secrets Manager on AWS, a local key file on a
 * laptop. Implementations cache; `load` is cheap after the first call and may be called per batch
 * (so a rotated key is picked up within the cache period without a cold start).
 */
export interface PseudonymKeySource {
  /** The key in force. Throws PseudonymKeyError when the stored key is malformed. */
  load(): Promise<PseudonymKey>;
}
