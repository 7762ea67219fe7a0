import { createHmac } from "node:crypto";
import * as z from "zod";

/**
 * Keyed pseudonyms for the identifiers that leave the score function (decisions stream, alerts,
 * audit index). HMAC-SHA-256 under a secret key, truncated to 128 bits: the same value under the
 * same key always gives the same pseudonym (so entities can be counted, joined and throttled), and
 * without the key a pseudonym cannot be reversed or recomputed from a guessed value (phone numbers
 * and IPv4 addresses are small spaces that a plain hash would not protect).
 *
 * Format: `<kind prefix>:<key id>:<22 base64url characters>`, e.g. `u:k1:3q2-7wEjX9aLr0b1kVZ8Xw`.
 * The key id lets a key be rotated: pseudonyms under a new key do not match old ones, and say so.
 * Pure computation (node:crypto's HMAC), no I/O: the key comes in from a PseudonymKeySource.
 */

/** The identifier kinds that are pseudonymized (the list kinds plus the full email address). */
export const ENTITY_KINDS = ["user", "device", "ip", "card", "phone", "email", "emailDomain"] as const;

/** One of ENTITY_KINDS. */
export type EntityKind = (typeof ENTITY_KINDS)[number];

/** Short prefix per kind, so a pseudonym says what it stands for. */
export const ENTITY_PREFIX: Readonly<Record<EntityKind, string>> = {
  user: "u",
  device: "d",
  ip: "ip",
  card: "c",
  phone: "ph",
  email: "em",
  emailDomain: "ed",
};

/** Key ids: short lower-case alphanumerics (they are part of every pseudonym). */
export const KEY_ID_PATTERN = /^[a-z0-9]{1,16}$/;

/** Shortest accepted secret: 32 bytes, SHA-256's output length (RFC 2104's recommended minimum). */
export const MIN_SECRET_BYTES = 32;

/** Bytes of the HMAC kept: 128 bits, collision-free for any realistic number of entities. */
export const PSEUDONYM_BYTES = 16;

/** Every pseudonym matches this. */
export const PSEUDONYM_PATTERN = /^(u|d|ip|c|ph|em|ed):[a-z0-9]{1,16}:[A-Za-z0-9_-]{22}$/;

/** A pseudonymization key: its id (in every pseudonym) and its secret bytes. */
export interface PseudonymKey {
  readonly id: string;
  readonly secret: Uint8Array;
}

/** Maps an identifier of a kind to its pseudonym under one key. */
export type Pseudonymizer = (kind: EntityKind, value: string) => string;

/**
 * The pseudonym of `value` as an identifier of `kind`: HMAC-SHA-256(secret, kind NUL value),
 * truncated to 16 bytes, base64url, prefixed by the kind and the key id. The kind is part of the
 * MAC input so equal strings of different kinds (a userId that equals a deviceId) do not collide.
 * Values must be in their canonical (cleaned) form: the decoder's E.164 phone, lower-cased email,
 * canonical IP text.
 */
export function pseudonymize(key: PseudonymKey, kind: EntityKind, value: string): string {
  const mac = createHmac("sha256", key.secret).update(kind).update("\0").update(value, "utf8").digest();
  return `${ENTITY_PREFIX[kind]}:${key.id}:${mac.subarray(0, PSEUDONYM_BYTES).toString("base64url")}`;
}

/** A {@link Pseudonymizer} bound to one key. */
export function createPseudonymizer(key: PseudonymKey): Pseudonymizer {
  assertKey(key);
  return (kind, value) => pseudonymize(key, kind, value);
}

/** A key that is not usable. */
export class PseudonymKeyError extends Error {
  override readonly name = "PseudonymKeyError";
}

function assertKey(key: PseudonymKey): void {
  if (!KEY_ID_PATTERN.test(key.id))
    throw new PseudonymKeyError(`pseudonym key id must match ${KEY_ID_PATTERN}, got '${key.id}'`);
  if (key.secret.length < MIN_SECRET_BYTES)
    throw new PseudonymKeyError(
      `pseudonym key ${key.id}: secret has ${key.secret.length} bytes; at least ${MIN_SECRET_BYTES} are needed`,
    );
}

/**
 * The stored form of a key (the Secrets Manager secret string and the local key file):
 * `{"keyId":"k1","key":"<at least 32 characters>"}`. The key string's UTF-8 bytes are the secret,
 * so both CloudFormation's generated secrets (alphanumeric) and `openssl rand -base64 48` work.
 */
export const storedPseudonymKeySchema = z.object({
  keyId: z.string().regex(KEY_ID_PATTERN),
  key: z.string().min(MIN_SECRET_BYTES),
});

/** Parses a stored key; throws PseudonymKeyError naming the problem (never the secret). */
export function parseStoredPseudonymKey(text: string, source: string): PseudonymKey {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PseudonymKeyError(`${source}: not JSON; expected {"keyId":"k1","key":"…"}`);
  }
  const parsed = storedPseudonymKeySchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new PseudonymKeyError(`${source}: invalid pseudonym key (${fields})`);
  }
  const key = { id: parsed.data.keyId, secret: Buffer.from(parsed.data.key, "utf8") };
  assertKey(key);
  return key;
}
