import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { ensurePseudonymKeyFile, FilePseudonymKeySource } from "#shared/adapters/file-pseudonym-key";
import { pseudonymKeySourceFromEnv } from "#shared/adapters/pseudonym-key-from-env";
import { SecretsManagerPseudonymKeySource } from "#shared/adapters/secrets-manager-pseudonym-key";
import { PseudonymKeyError } from "#shared/domain/decision-message/index";
import { ENV } from "#shared/resources";

const dir = () => mkdtempSync(join(tmpdir(), "vigil-key-"));

describe("local key file", () => {
  it("is created once with mode 0600 and a fresh key, then kept", async () => {
    const path = join(dir(), "nested", "pseudonym-key.json");
    expect(ensurePseudonymKeyFile(path)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const first = readFileSync(path, "utf8");
    expect(ensurePseudonymKeyFile(path)).toBe(false);
    expect(readFileSync(path, "utf8")).toBe(first);
    const key = await new FilePseudonymKeySource(path).load();
    expect(key.id).toBe("local1");
    expect(key.secret.length).toBeGreaterThanOrEqual(32);
    // Two stacks get two different keys.
    const other = join(dir(), "k.json");
    ensurePseudonymKeyFile(other);
    expect(readFileSync(other, "utf8")).not.toBe(first);
  });

  it("refuses a key file others can read, a missing one, and a malformed one", async () => {
    const path = join(dir(), "k.json");
    writeFileSync(path, JSON.stringify({ keyId: "k1", key: "x".repeat(40) }), { mode: 0o644 });
    chmodSync(path, 0o644);
    await expect(new FilePseudonymKeySource(path).load()).rejects.toThrow(/readable by others/);
    await expect(new FilePseudonymKeySource(join(dir(), "none.json")).load()).rejects.toThrow(
      /does not exist/,
    );
    const bad = join(dir(), "bad.json");
    writeFileSync(bad, JSON.stringify({ keyId: "k1", key: "short" }), { mode: 0o600 });
    await expect(new FilePseudonymKeySource(bad).load()).rejects.toThrow(PseudonymKeyError);
  });
});

describe("Secrets Manager key source", () => {
  const secret = JSON.stringify({ keyId: "k7", key: "s".repeat(64) });
  const fakeClient = () => {
    const calls: string[] = [];
    return {
      calls,
      send: async (command: GetSecretValueCommand) => {
        calls.push(command.input.SecretId ?? "");
        await new Promise((r) => setTimeout(r, 5));
        return { SecretString: secret };
      },
    };
  };

  it("fetches once, shares a fetch between concurrent callers, and refreshes after the cache period", async () => {
    const client = fakeClient();
    let now = 0;
    const source = new SecretsManagerPseudonymKeySource(client as never, "arn:secret", 1_000, () => now);
    const [a, b] = await Promise.all([source.load(), source.load()]);
    expect(a.id).toBe("k7");
    expect(b).toBe(a);
    expect(client.calls).toEqual(["arn:secret"]);
    now = 999;
    await source.load();
    expect(client.calls).toHaveLength(1);
    now = 1_000;
    await source.load();
    expect(client.calls).toHaveLength(2);
  });

  it("refuses a secret without a string value", async () => {
    const source = new SecretsManagerPseudonymKeySource({ send: async () => ({}) } as never, "s");
    await expect(source.load()).rejects.toThrow(/no string value/);
  });
});

describe("pseudonymKeySourceFromEnv", () => {
  it("takes exactly one of the secret and the file", () => {
    expect(() => pseudonymKeySourceFromEnv({})).toThrow(PseudonymKeyError);
    expect(() =>
      pseudonymKeySourceFromEnv({ [ENV.pseudonymKeySecret]: "s", [ENV.pseudonymKeyFile]: "f" }),
    ).toThrow(/only one/);
    expect(pseudonymKeySourceFromEnv({ [ENV.pseudonymKeyFile]: "f" })).toBeInstanceOf(FilePseudonymKeySource);
    expect(
      pseudonymKeySourceFromEnv({ [ENV.pseudonymKeySecret]: "s" }, { send: async () => ({}) } as never),
    ).toBeInstanceOf(SecretsManagerPseudonymKeySource);
  });
});
