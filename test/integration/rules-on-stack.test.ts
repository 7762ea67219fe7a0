import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { DEFAULT_CONFIG_DIR } from "#shared/adapters/config-files";
import type { DecisionRecord } from "#shared/ports/decision-store";
import { makeValidEvent } from "../fixtures/valid-events.ts";
import { startTestPipeline, type TestPipeline } from "../support/pipeline.ts";
import { VIGIL_BIN } from "../support/processes.ts";

/** The reload bound this test runs with (production default: 30 s). */
const REFRESH_SECONDS = 2;

/**
 * Issue 5's acceptance on the local stack: operators change rules with the CLI while events
 * flow, and the score function follows within the reload bound.
 */
describe("rules applied with the CLI on the local stack", () => {
  let pipeline: TestPipeline;
  const dir = mkdtempSync(join(tmpdir(), "vigil-rules-"));
  let n = 0;

  beforeAll(async () => {
    pipeline = await startTestPipeline({ VIGIL_CONFIG_REFRESH_SECONDS: String(REFRESH_SECONDS) });
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  const env = () => ({ ...process.env, ...pipeline.stack.env, USER: "test-operator" });
  const vigil = (args: string[]) => {
    const r = spawnSync(process.execPath, [VIGIL_BIN, ...args], { encoding: "utf8", env: env() });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const vigilAsync = (args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((done) => {
      const child = spawn(process.execPath, [VIGIL_BIN, ...args], { env: env() });
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
      });
      child.stderr.on("data", (c: Buffer) => {
        err += c.toString();
      });
      child.on("close", (code) => done({ code, out, err }));
    });

  /** Puts a login from a fresh user on `deviceId`, waits, and returns its decision. */
  const decideLogin = async (deviceId: string): Promise<DecisionRecord> => {
    n++;
    const event = {
      ...makeValidEvent(n, "login", new Date(Date.now() - 1000), { runId: "rules" }),
      deviceId,
    };
    event.userId = `rules-user-${n}`;
    event.ip = `203.0.113.${n}`;
    await pipeline.put([{ data: Buffer.from(JSON.stringify(event)), partitionKey: event.userId }]);
    await pipeline.idle();
    const decision = (await pipeline.scan("decisions")).find((d) => d.eventId === event.eventId);
    if (!decision) throw new Error(`no decision for ${event.eventId}`);
    return decision as unknown as DecisionRecord;
  };

  const defaults = parse(readFileSync(join(DEFAULT_CONFIG_DIR, "rules.yaml"), "utf8")) as {
    rules: Array<Record<string, unknown>>;
  };
  const withRule = (rule: Record<string, unknown>) => {
    const file = join(dir, `rules-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, stringify({ ...defaults, rules: [...defaults.rules, rule] }));
    return file;
  };
  const blockEvilDevice = {
    id: "block_evil_device",
    description: "Sign-ins from the device the fraud team flagged this morning.",
    scenarios: ["login"],
    when: 'event.deviceId == "dev-evil"',
    action: "block",
    severity: "critical",
    mode: "active",
    reason: "EVIL_DEVICE",
  };
  const rulesVersion = () => {
    const listed = vigil(["rules", "list", "--versions", "--json"]);
    const lines = listed.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { version: number; inForce: boolean });
    return lines.find((l) => l.inForce)?.version;
  };

  it("a new rule changes decisions within the reload bound, and a rollback restores the earlier behaviour exactly", async () => {
    const before = await decideLogin("dev-evil");
    expect(before.action).not.toBe("block");
    expect(before.ruleHits.map((h) => h.id)).not.toContain("block_evil_device");
    const v1 = rulesVersion();
    expect(v1).toBe(1);

    const applied = vigil(["rules", "apply", withRule(blockEvilDevice), "--comment", "flagged device"]);
    expect(applied.err).toMatch(/^Applied /);
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.out)).toMatchObject({ kind: "rules", version: 2, author: "test-operator" });
    const appliedAt = Date.now();

    // Past the bound every decision uses the new rule.
    await new Promise((r) => setTimeout(r, REFRESH_SECONDS * 1000 + 200));
    const after = await decideLogin("dev-evil");
    expect(Date.parse(after.decidedAt) - appliedAt).toBeGreaterThanOrEqual(REFRESH_SECONDS * 1000);
    expect(after.action).toBe("block");
    expect(after.ruleHits.find((h) => h.id === "block_evil_device")).toMatchObject({
      action: "block",
      version: 1,
    });
    expect(after.versions.rules).toBe(2);

    const rolledBack = vigil(["rules", "rollback", "--to", "1"]);
    expect(rolledBack.code).toBe(0);
    expect(JSON.parse(rolledBack.out)).toMatchObject({ version: 3, restoredFrom: 1 });
    // The document in force is version 1's, exactly.
    expect(JSON.parse(vigil(["rules", "show", "--json"]).out)).toEqual(
      JSON.parse(vigil(["rules", "show", "--version", "1", "--json"]).out),
    );
    await new Promise((r) => setTimeout(r, REFRESH_SECONDS * 1000 + 200));
    const restored = await decideLogin("dev-evil");
    // A fresh user on the same device: everything but the device history is as for `before`.
    expect(restored.ruleHits.map((h) => h.id)).not.toContain("block_evil_device");
    expect(restored.versions.rules).toBe(3);
    const fresh = await decideLogin("dev-fresh");
    const comparable = (d: DecisionRecord) => ({
      action: d.action,
      reasons: d.reasons,
      ruleHits: d.ruleHits,
    });
    expect(comparable(fresh)).toEqual(comparable(before));
  });

  it("an invalid rule is refused with a message that points at the error, and nothing is written", () => {
    const version = rulesVersion();
    const bad = vigil([
      "rules",
      "apply",
      withRule({ ...blockEvilDevice, id: "broken_rule", when: 'event.deviceId == "x" &&' }),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/broken_rule/);
    expect(bad.err).toMatch(/line \d+/i);
    expect(rulesVersion()).toBe(version);
  });

  it("two concurrent applies on the same version cannot lose an update: one wins, the other is told", async () => {
    const version = rulesVersion();
    const [a, b] = await Promise.all([
      vigilAsync([
        "rules",
        "apply",
        withRule({ ...blockEvilDevice, id: "rule_a" }),
        "--expect-version",
        String(version),
      ]),
      vigilAsync([
        "rules",
        "apply",
        withRule({ ...blockEvilDevice, id: "rule_b" }),
        "--expect-version",
        String(version),
      ]),
    ]);
    expect([a.code, b.code].sort()).toEqual([0, 4]);
    const loser = a.code === 4 ? a : b;
    expect(loser.err).toMatch(/conflict|changed|version/i);
    expect(rulesVersion()).toBe((version ?? 0) + 1);
  });
});
