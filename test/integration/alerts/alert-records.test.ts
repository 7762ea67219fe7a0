import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AlertDependencies, alertRecords } from "#functions/alert/alert-records";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbAlertLedger } from "#shared/adapters/dynamodb-alert-ledger";
import { OutboxAlertPublisher } from "#shared/adapters/outbox-alert-publisher";
import type { SnsPublishInput } from "#shared/adapters/sns-publish-input";
import { DEFAULT_ALERT_POLICY } from "#shared/domain/alerts/alert-policy";
import { createPseudonymizer, type DecisionMessage } from "#shared/domain/decision-message/index";
import type { AlertLedger } from "#shared/ports/alert-ledger";
import type { AlertPublisher } from "#shared/ports/alert-publisher";
import { CANARY_VALUES, sampleMessage, TEST_KEY } from "../../fixtures/decision-messages.ts";
import { decisionRecord, memoryLogger } from "../../support/kinesis-records.ts";

/**
 * Times near the wall clock: DynamoDB Local runs TTL deletion, so items whose expiry (computed from
 * the injected clock) is already past would vanish under the test.
 */
const T0 = Math.floor(Date.now() / 1000) * 1000;
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const recent = (eventId: string, options: Parameters<typeof sampleMessage>[1] = {}) =>
  sampleMessage(eventId, { decidedAt: at(0), ...options, event: { occurredAt: at(-1), ...options.event } });

/** The alert use case on DynamoDB Local (ledger) with the outbox publisher. */
describe("alertRecords on DynamoDB Local", () => {
  let stack: LocalStack;
  let dynamodb: DynamoDBClient;
  let run = 0;
  beforeAll(async () => {
    stack = await startLocalStack({ stateDir: mkdtempSync(join(tmpdir(), "vigil-alerts-")) });
    dynamodb = createDynamoDbClient(stack.env);
  });
  afterAll(async () => {
    dynamodb?.destroy();
    await stack?.stop();
  });

  /** A fresh outbox and event-id namespace per test, on the shared ledger table. */
  function setup(overrides: Partial<AlertDependencies> = {}, start = at(1)) {
    run++;
    const dir = mkdtempSync(join(tmpdir(), "vigil-outbox-"));
    const logger = memoryLogger();
    let now = new Date(start);
    const deps: AlertDependencies = {
      policy: DEFAULT_ALERT_POLICY,
      ledger: new DynamoDbAlertLedger(dynamodb, stack.names.tables.alerts, {
        deliveryRetentionSeconds: 86_400,
      }),
      publisher: new OutboxAlertPublisher(dir),
      now: () => now,
      logger,
      ...overrides,
    };
    const outbox = () =>
      readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .sort()
        .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as SnsPublishInput);
    return {
      deps,
      outbox,
      logger,
      id: (n: string) => `run${run}-${n}`,
      setNow: (d: string) => (now = new Date(d)),
    };
  }

  /** A block decision by its own user, device, IP, card and phone (nothing shared with others). */
  function lone(eventId: string): DecisionMessage {
    const p = createPseudonymizer(TEST_KEY);
    const m = recent(eventId);
    return {
      ...m,
      entities: {
        user: p("user", `u-${eventId}`),
        device: p("device", `d-${eventId}`),
        ip: p("ip", `ip-${eventId}`),
        card: p("card", `c-${eventId}`),
      },
    };
  }

  it("alerts once per decision and channel, and a redelivered batch alerts nothing more", async () => {
    const { deps, outbox, id } = setup();
    const records = [
      decisionRecord(lone(id("a")), "1"),
      decisionRecord(recent(id("pass"), { decision: { action: "pass", ruleHits: [] } }), "2"),
      decisionRecord(lone(id("b")), "3"),
    ];
    const first = await alertRecords(records, deps);
    expect(first.response.batchItemFailures).toEqual([]);
    expect(first.counts).toMatchObject({
      notSelected: 1,
      sent: { "sms:critical": 2, "email:critical": 2 },
      duplicates: 0,
    });
    expect(outbox()).toHaveLength(4);
    const again = await alertRecords(records, deps);
    expect(again.counts).toMatchObject({ sent: {}, duplicates: 4 });
    expect(outbox()).toHaveLength(4);
    const sms = outbox().filter((m) => m.MessageAttributes.channel?.StringValue === "sms");
    expect(sms).toHaveLength(2);
    for (const m of outbox()) {
      expect(m.MessageAttributes.severity).toEqual({ DataType: "String", StringValue: "critical" });
      for (const canary of CANARY_VALUES) expect(JSON.stringify(m)).not.toContain(canary);
    }
  });

  it("alerts once for a decision published twice into one batch (score republishes after a crash)", async () => {
    const { deps, outbox, id } = setup();
    const decision = lone(id("twice"));
    // The crash test found this: the copy saw the first record's `allowed` delivery and published again.
    const records = [
      decisionRecord(decision, "1"),
      decisionRecord(lone(id("other")), "2"),
      decisionRecord(decision, "3"),
    ];
    const result = await alertRecords(records, deps);
    expect(result.response.batchItemFailures).toEqual([]);
    expect(result.counts).toMatchObject({ sent: { "sms:critical": 2, "email:critical": 2 }, duplicates: 2 });
    expect(outbox()).toHaveLength(4);
  });

  it("turns an attack on one entity into one alert per window, and the next alert reports what was suppressed", async () => {
    const { deps, outbox, id, setNow } = setup();
    const p = createPseudonymizer(TEST_KEY);
    // 40 users, each new, all from one device: one finding (card_velocity) on one shared entity.
    const attack = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => {
        const m = recent(id(`atk-${from + i}`));
        return decisionRecord(
          {
            ...m,
            entities: {
              user: p("user", `victim-${from + i}`),
              device: p("device", "bot-farm-1"),
              ip: p("ip", `10.0.0.${from + i}`),
            },
          },
          String(1000 + from + i),
        );
      });
    const storm = await alertRecords(attack(0, 40), deps);
    expect(storm.counts.sent).toEqual({ "sms:critical": 1, "email:critical": 1 });
    expect(storm.counts.suppressed).toEqual({ sms: 39, email: 39 });
    expect(outbox()).toHaveLength(2);

    // Still inside the window: suppressed. After it: one alert that carries the count.
    setNow(at(300));
    expect((await alertRecords(attack(40, 5), deps)).counts.suppressed).toEqual({ sms: 5, email: 5 });
    setNow(at(602));
    const next = await alertRecords(attack(45, 3), deps);
    expect(next.counts.sent).toEqual({ "sms:critical": 1, "email:critical": 1 });
    const latest = outbox().slice(-2);
    const sms = latest.find((m) => m.MessageAttributes.channel?.StringValue === "sms");
    expect(sms?.Message).toContain("+44 suppressed");
    expect(latest.find((m) => m.Subject)?.Message).toContain("44 similar alert(s)");
  });

  it("publishes again after a crash between publish and marking sent (the documented at-least-once edge)", async () => {
    const base = setup();
    const crashing: AlertLedger = {
      claim: (...a) => base.deps.ledger.claim(...a),
      throttle: (r) => base.deps.ledger.throttle(r),
      update: async (eventId, channel, change) => {
        if (change.state === "sent") throw new Error("crash after publish");
        return base.deps.ledger.update(eventId, channel, change);
      },
    };
    const records = [decisionRecord(lone(base.id("c")), "1")];
    const first = await alertRecords(records, { ...base.deps, ledger: crashing });
    expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: "1" }]);
    expect(base.outbox()).toHaveLength(2);
    const retry = await alertRecords(records, base.deps);
    expect(retry.counts.sent).toEqual({ "sms:critical": 1, "email:critical": 1 });
    expect(base.outbox()).toHaveLength(4);
    expect((await alertRecords(records, base.deps)).counts.duplicates).toBe(2);
  });

  it("publishes exactly once after a crash before publishing", async () => {
    const base = setup();
    let failing = true;
    const flaky: AlertPublisher = {
      publish: async (ns) => {
        if (failing) return ns.map(() => ({ ok: false, retryable: true, code: "Throttling", message: "x" }));
        return base.deps.publisher.publish(ns);
      },
    };
    const records = [decisionRecord(lone(base.id("d")), "1"), decisionRecord(lone(base.id("e")), "2")];
    const first = await alertRecords(records, { ...base.deps, publisher: flaky });
    expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: "1" }, { itemIdentifier: "2" }]);
    expect(base.outbox()).toHaveLength(0);
    failing = false;
    await alertRecords(records, { ...base.deps, publisher: flaky });
    await alertRecords(records, { ...base.deps, publisher: flaky });
    expect(base.outbox()).toHaveLength(4);
  });

  it("a publish call that throws fails only the records it carried, each reported, and logs no service message", async () => {
    const base = setup();
    let throwing = true;
    const down: AlertPublisher = {
      publish: async (ns) => {
        if (throwing)
          throw Object.assign(new Error(`endpoint refused ${CANARY_VALUES[0]}`), { name: "TimeoutError" });
        return base.deps.publisher.publish(ns);
      },
    };
    const records = [
      decisionRecord(lone(base.id("f")), "1"),
      decisionRecord(recent(base.id("quiet"), { decision: { action: "pass", ruleHits: [] } }), "2"),
      decisionRecord(lone(base.id("g")), "3"),
    ];
    const first = await alertRecords(records, { ...base.deps, publisher: down });
    expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: "1" }, { itemIdentifier: "3" }]);
    expect(first.counts).toMatchObject({ failed: 2, notSelected: 1, sent: {} });
    expect(base.outbox()).toHaveLength(0);
    expect(base.logger.lines.join("\n")).toContain('"error":"TimeoutError"');
    for (const canary of CANARY_VALUES) expect(base.logger.lines.join("\n")).not.toContain(canary);
    throwing = false;
    const retry = await alertRecords(records, { ...base.deps, publisher: down });
    expect(retry.response.batchItemFailures).toEqual([]);
    expect(retry.counts.sent).toEqual({ "sms:critical": 2, "email:critical": 2 });
    expect(base.outbox()).toHaveLength(4);
  });

  it("does not alert on stale decisions or unreadable records, and logs no PII", async () => {
    const { deps, outbox, id, logger } = setup({}, at(2 * 86_400));
    const result = await alertRecords(
      [
        decisionRecord(lone(id("old")), "1"),
        decisionRecord(Buffer.from(`{"phone":"${CANARY_VALUES[3]}"}`), "2"),
      ],
      deps,
    );
    expect(result.counts).toMatchObject({ stale: 1, unreadable: 1, failed: 0 });
    expect(outbox()).toHaveLength(0);
    const logs = logger.lines.join("\n");
    for (const canary of CANARY_VALUES) expect(logs).not.toContain(canary);
  });
});
