import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LocalRuntime,
  localFunctionsFromEnv,
  runtimePaths,
  startLocalRuntime,
} from "#local/esm/local-runtime";
import { localSinkPaths } from "#local/local-sinks";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { DynamoDbAuditQuarantine } from "#shared/adapters/dynamodb-audit-quarantine";
import { putRecords } from "#shared/adapters/kinesis-producer";
import type { SnsPublishInput } from "#shared/adapters/sns-publish-input";
import {
  createPseudonymizer,
  type DecisionMessage,
  decisionPartitionKey,
  encodeDecisionMessage,
} from "#shared/domain/decision-message/index";
import { FUNCTIONS } from "#shared/resources";
import { CANARY_VALUES, sampleMessage, TEST_KEY } from "../fixtures/decision-messages.ts";

/**
 * Acceptance on the local stack: decision messages put on the decisions stream are alerted and
 * audited by the real handlers under the local runtime; redelivery (a restart without checkpoints)
 * and re-publishing (the same decisions put again) add no alert and no audit document; no planted
 * PII reaches the outbox, the audit files or the function logs.
 */
describe("alert and audit on the local stack", () => {
  let stack: LocalStack;
  let runtime: LocalRuntime;
  let stateDir: string;
  const kinesis = () => createKinesisClient({ env: stack.env });
  const start = () =>
    startLocalRuntime({
      stateDir,
      awsEnv: stack.emulators.awsEnv,
      functions: localFunctionsFromEnv(stack.env, ["alert", "audit"]),
      timing: { idlePollMaxMs: 200 },
    });

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "vigil-alerts-audit-"));
    stack = await startLocalStack({ stateDir, seedConfig: false });
    runtime = await start();
  });
  afterAll(async () => {
    await runtime?.stop();
    await stack?.stop();
  });

  const p = createPseudonymizer(TEST_KEY);
  const now = new Date().toISOString();
  const at = { decidedAt: now, event: { occurredAt: now } };
  /** A decision by entities no other decision shares. */
  const lone = (id: string, action: DecisionMessage["action"]): DecisionMessage => ({
    ...sampleMessage(id, { ...at, decision: { action } }),
    entities: { user: p("user", `u-${id}`), device: p("device", `d-${id}`), ip: p("ip", `ip-${id}`) },
  });
  /** One of an attack's decisions: new users, one device, planted PII in the source event. */
  const attack = (i: number): DecisionMessage => {
    const m = sampleMessage(`atk-${i}`, at);
    return {
      ...m,
      entities: { ...m.entities, user: p("user", `victim-${i}`), card: undefined, phone: undefined },
    };
  };
  const messages = [
    ...Array.from({ length: 6 }, (_, i) => lone(`blk-${i}`, "block")),
    ...Array.from({ length: 4 }, (_, i) => lone(`ok-${i}`, "pass")),
    ...Array.from({ length: 10 }, (_, i) => attack(i)),
  ].map((m) => JSON.parse(JSON.stringify(m)) as DecisionMessage);

  const put = async (records: Array<{ data: Uint8Array; partitionKey: string }>) => {
    const client = kinesis();
    const result = await putRecords(client, stack.names.streams.decisions, records);
    client.destroy();
    expect(result.failed).toEqual([]);
  };
  const putMessages = () =>
    put(messages.map((m) => ({ data: encodeDecisionMessage(m), partitionKey: decisionPartitionKey(m) })));
  const idle = () => runtime.waitUntilIdle({ timeoutMs: 170_000 });

  const paths = () => localSinkPaths(stateDir);
  const outbox = () =>
    readdirSync(paths().alertOutboxDir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => JSON.parse(readFileSync(join(paths().alertOutboxDir, f), "utf8")) as SnsPublishInput);
  const auditIds = () =>
    readdirSync(paths().auditDir).flatMap((f) =>
      readFileSync(join(paths().auditDir, f), "utf8")
        .split("\n")
        .filter((l) => l.startsWith('{"create"'))
        .map((l) => (JSON.parse(l) as { create: { _id: string } }).create._id),
    );
  const everything = () =>
    [
      ...readdirSync(paths().alertOutboxDir).map((f) =>
        readFileSync(join(paths().alertOutboxDir, f), "utf8"),
      ),
      ...readdirSync(paths().auditDir).map((f) => readFileSync(join(paths().auditDir, f), "utf8")),
      ...(["alert", "audit"] as const).map((k) => {
        const file = runtimePaths(stateDir, FUNCTIONS[k].id, stack.names.streams.decisions).logFile;
        return existsSync(file) ? readFileSync(file, "utf8") : "";
      }),
    ].join("\n");

  it("alerts the block decisions (the attack once per channel) and audits every decision once", async () => {
    await putMessages();
    await put([{ data: Buffer.from("not a decision"), partitionKey: "x" }]);
    await idle();
    const sent = outbox();
    expect(sent).toHaveLength(6 * 2 + 2);
    expect(sent.filter((m) => m.MessageAttributes.channel?.StringValue === "sms")).toHaveLength(7);
    expect(sent.every((m) => m.MessageAttributes.severity?.StringValue === "critical")).toBe(true);
    const ids = auditIds();
    expect(ids.sort()).toEqual(messages.map((m) => m.eventId).sort());
    const quarantine = new DynamoDbAuditQuarantine(
      createDynamoDbClient(stack.env),
      stack.names.tables.quarantine,
      86_400,
    );
    expect((await quarantine.list()).map((e) => e.reason)).toEqual(["AUDIT_UNREADABLE"]);
  });

  it("adds nothing when the decisions are redelivered (restart without checkpoints)", async () => {
    await runtime.stop();
    rmSync(join(stateDir, "checkpoints"), { recursive: true, force: true });
    runtime = await start();
    await idle();
    expect(outbox()).toHaveLength(14);
    expect(auditIds()).toHaveLength(messages.length);
    // Both functions really saw every record again, and settled them all without failures.
    for (const f of runtime.stats().functions) {
      expect(f.recordsSucceeded).toBe(messages.length + 1);
      expect(f.recordsToDestination).toBe(0);
    }
  });

  it("adds nothing when the same decisions are published again", async () => {
    await putMessages();
    await idle();
    expect(outbox()).toHaveLength(14);
    expect(new Set(auditIds()).size).toBe(messages.length);
    expect(auditIds()).toHaveLength(messages.length);
  });

  it("lets no planted PII reach an alert, an audit document or a function log", () => {
    const text = everything();
    expect(text.length).toBeGreaterThan(1000);
    for (const canary of CANARY_VALUES) expect(text).not.toContain(canary);
  });
});
