import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import {
  type PseudonymKey,
  PseudonymKeyError,
  parseStoredPseudonymKey,
} from "#shared/domain/decision-message/pseudonymize";
import type { PseudonymKeySource } from "#shared/ports/pseudonym-key-source";

/**
 * The pseudonymization key from a local file (the local stack's stand-in for Secrets Manager),
 * read once. The file must not be readable by group or others: a key anyone can read makes the
 * pseudonyms reversible by brute force over phone numbers and IPs.
 */
export class FilePseudonymKeySource implements PseudonymKeySource {
  private cached: PseudonymKey | undefined;

  constructor(private readonly path: string) {}

  async load(): Promise<PseudonymKey> {
    if (this.cached) return this.cached;
    let mode: number;
    try {
      mode = statSync(this.path).mode;
    } catch {
      throw new PseudonymKeyError(
        `pseudonym key file ${this.path} does not exist (vigil local up creates it)`,
      );
    }
    if (process.platform !== "win32" && (mode & 0o077) !== 0)
      throw new PseudonymKeyError(
        `pseudonym key file ${this.path} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
      );
    this.cached = parseStoredPseudonymKey(readFileSync(this.path, "utf8"), this.path);
    return this.cached;
  }
}

/**
 * Creates a key file with a fresh random key (mode 0600) unless one exists; returns whether it
 * created one. An existing file is kept, so pseudonyms stay stable across `local up` restarts.
 */
export function ensurePseudonymKeyFile(path: string, keyId = "local1"): boolean {
  mkdirSync(dirname(path), { recursive: true });
  const text = `${JSON.stringify({ keyId, key: randomBytes(48).toString("base64url") })}\n`;
  try {
    writeFileSync(path, text, { mode: 0o600, flag: "wx" });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}
