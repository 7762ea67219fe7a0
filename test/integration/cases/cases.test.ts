import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CaseDependencies, listCases, resolveCaseOperation, showCase } from "#cli/case-operations";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { AuditFileDecisionHistory, OpenSearchDecisionHistory } from "#shared/adapters/audit-decision-history";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbCaseStore } from "#shared/adapters/dynamodb-case-store";
import { DynamoDbDecisionScan } from "#shared/adapters/dynamodb-decision-scan";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import { DynamoDbLabelStore } from "#shared/adapters/dynamodb-label-store";
import { NdjsonAuditSink } from "#shared/adapters/ndjson-audit-sink";
import { installAuditIndex } from "#shared/adapters/opensearch-audit-setup";
import { OpenSearchAuditSink } from "#shared/adapters/opensearch-audit-sink";
import { createOpenSearchClient } from "#shared/adapters/opensearch-client";
import { auditIndexName, toAuditDocument } from "#shared/domain/audit/audit-document";
import type { Action } from "#shared/domain/decision/action";
import { createPseudonymizer } from "#shared/domain/decision-message/index";
import type { EventType } from "#shared/domain/event/index";
import { CaseAlreadyResolvedError } from "#shared/ports/case-store";
import type { DecisionRecord } from "#shared/ports/decision-store";
import { sampleMessage, TEST_KEY } from "../../fixtures/decision-messages.ts";
import { type FakeOpenSearch, startFakeOpenSearch } from "../../support/fake-opensearch.ts";

// Decisions have a TTL: every time is relative to now, so DynamoDB Local never deletes them.
const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

function decision(
  eventId: string,
  action: Action,
  type: EventType,
  minutesAgo: number,
  rules: string[] = [],
): DecisionRecord {
  return {
    eventId,
    type,
    action,
    decidedBy: "rules_and_score",
    score: action === "pass" ? 0.1 : 0.7,
    ruleHits: rules.map((id) => ({
      id,
      version: 1,
      action,
      severity: "medium",
      reason: id.toUpperCase(),
      shadow: false,
    })),
    ruleErrors: [],
    reasons: rules.map((id) => id.toUpperCase()),
    contributions: [],
    listHits: [],
    band: null,
    shadow: { action, score: null, reasons: [] },
    versions: { rules: 1, lists: 1, model: "m1", shadowModel: null, features: "f1" },
    occurredAt: ago(minutesAgo + 1),
    decidedAt: ago(minutesAgo),
    features: { version: "f1", values: { devices_per_user_1h: 3 }, saturated: [], late: [] },
    source: { shardId: "shardId-000000000000", sequenceNumber: String(1000 + minutesAgo) },
  };
}

describe("the review queue on DynamoDB Local", () => {
  let stack: LocalStack;
  let deps: CaseDependencies;
  beforeAll(async () => {
    stack = await startLocalStack({ stateDir: mkdtempSync(join(tmpdir(), "vigil-cases-")) });
    const client = createDynamoDbClient(stack.env);
    const store = new DynamoDbDecisionStore(client, stack.names.tables.decisions, 86_400);
    for (const d of [
      decision("evt-rev-login", "review", "login", 10, ["new_device_login"]),
      decision("evt-rev-order", "review", "order", 5, ["order_brushing"]),
      decision("evt-old-order", "review", "order", 600, ["order_brushing"]),
      decision("evt-sms", "challenge_sms", "login", 3, ["new_device_login"]),
      decision("evt-pass", "pass", "login", 2),
    ])
      expect(await store.putIfAbsent(d)).toBe("stored");
    // A duplicate marker shares the table and is never a case.
    await store.recordDuplicate("evt-pass", { shardId: "shardId-000000000000", sequenceNumber: "9" }, ago(1));
    deps = {
      decisions: store,
      scan: new DynamoDbDecisionScan(client, stack.names.tables.decisions),
      cases: new DynamoDbCaseStore(client, stack.names.tables.cases, stack.names.tables.labels),
      labels: new DynamoDbLabelStore(client, stack.names.tables.labels),
    };
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("lists review decisions newest first, filtered by scenario, rule, time and action", async () => {
    const all = { status: "all", limit: 50 } as const;
    const ids = async (filter: Parameters<typeof listCases>[1]) =>
      (await listCases(deps, filter, all)).map((c) => c.caseId);
    expect(await ids({ actions: ["review"] })).toEqual(["evt-rev-order", "evt-rev-login", "evt-old-order"]);
    expect(await ids({ actions: ["review"], scenario: "order" })).toEqual(["evt-rev-order", "evt-old-order"]);
    expect(await ids({ actions: ["review"], rule: "new_device_login" })).toEqual(["evt-rev-login"]);
    expect(await ids({ actions: ["review"], sinceMs: Date.now() - 60 * 60_000 })).toEqual([
      "evt-rev-order",
      "evt-rev-login",
    ]);
    expect(await ids({ actions: ["review", "challenge_sms"], rule: "new_device_login" })).toEqual([
      "evt-sms",
      "evt-rev-login",
    ]);
    const [first] = await listCases(deps, { actions: ["review"] }, { status: "open", limit: 1 });
    expect(first).toMatchObject({
      caseId: "evt-rev-order",
      type: "order",
      status: "open",
      rules: ["order_brushing"],
    });
  });

  it("resolves a case into a review label with who and when, refuses a second resolution, amends on purpose", async () => {
    const resolvedAt = ago(0);
    const resolution = await resolveCaseOperation(deps, "evt-rev-login", {
      label: "fraud",
      category: "account_takeover",
      note: "new phone, password reset",
      resolvedBy: "alice",
      resolvedAt,
    });
    expect(resolution).toMatchObject({
      caseId: "evt-rev-login",
      label: "fraud",
      resolvedBy: "alice",
      resolvedAt,
    });
    const labels = await deps.labels.forSubject("event#evt-rev-login");
    expect(labels).toEqual([
      expect.objectContaining({
        labelId: resolution.labelId,
        label: "fraud",
        category: "account_takeover",
        source: "review",
        author: "alice",
        observedAt: resolvedAt,
      }),
    ]);
    const second = await resolveCaseOperation(deps, "evt-rev-login", {
      label: "legit",
      resolvedBy: "bob",
      resolvedAt: ago(0),
    }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(CaseAlreadyResolvedError);
    expect((second as Error).message).toMatch(/resolved as fraud by alice/);
    expect(await deps.labels.forSubject("event#evt-rev-login")).toHaveLength(1);

    const amended = await resolveCaseOperation(
      deps,
      "evt-rev-login",
      {
        label: "legit",
        resolvedBy: "bob",
        resolvedAt: new Date(Date.parse(resolvedAt) + 1000).toISOString(),
      },
      { amend: true },
    );
    expect(amended.amends).toEqual({ resolvedBy: "alice", resolvedAt, labelId: resolution.labelId });
    expect((await deps.labels.forSubject("event#evt-rev-login")).map((l) => [l.label, l.author])).toEqual([
      ["fraud", "alice"],
      ["legit", "bob"],
    ]);
    const listed = await listCases(deps, { actions: ["review"] }, { status: "resolved", limit: 10 });
    expect(listed.map((c) => [c.caseId, c.resolution?.resolvedBy])).toEqual([["evt-rev-login", "bob"]]);
    const open = await listCases(deps, { actions: ["review"] }, { status: "open", limit: 10 });
    expect(open.map((c) => c.caseId)).toEqual(["evt-rev-order", "evt-old-order"]);
  });

  it("shows a case with its exact features and labels; an unknown id is not found", async () => {
    const detail = await showCase(deps, "evt-rev-order");
    expect(detail.decision.features?.values).toEqual({ devices_per_user_1h: 3 });
    expect(detail.decision.ruleHits.map((h) => h.id)).toEqual(["order_brushing"]);
    expect(detail.resolution).toBeUndefined();
    expect(detail.history).toBeUndefined();
    await expect(showCase(deps, "evt-nope")).rejects.toThrow(/no decision for evt-nope/);
  });
});

describe("the account's recent history from the audit trail", () => {
  let fake: FakeOpenSearch;
  beforeAll(async () => {
    fake = await startFakeOpenSearch();
  });
  afterAll(async () => {
    await fake?.close();
  });

  it("is the same from the audit files and from OpenSearch: the account's decisions, newest first", async () => {
    const p = createPseudonymizer(TEST_KEY);
    const messages = Array.from({ length: 12 }, (_, i) => {
      // date-safe: audit messages go to files and the fake OpenSearch, neither of which expires anything
      const at = new Date(Date.UTC(2026, 4, 1, 10, i)).toISOString();
      const m = sampleMessage(`hist-${i}`, {
        decidedAt: at,
        event: { occurredAt: at, type: i % 2 === 0 ? "login" : "order" } as never,
        decision: { action: i === 7 ? "review" : "pass" },
      });
      return { ...m, entities: { ...m.entities, user: p("user", `user-${i % 3}`) } };
    });
    const items = messages.map((m) => ({
      index: auditIndexName("vigil-hist", m),
      id: m.eventId,
      document: toAuditDocument(m),
    }));
    const dir = mkdtempSync(join(tmpdir(), "vigil-hist-"));
    await new NdjsonAuditSink(dir).write(items);
    const client = createOpenSearchClient({
      endpoint: fake.endpoint,
      region: "us-east-1",
      getCredentials: async () => ({ accessKeyId: "test", secretAccessKey: "test" }),
    });
    await installAuditIndex(client, { prefix: "vigil-hist", retentionDays: 7, replicas: 0, shards: 1 });
    expect((await new OpenSearchAuditSink(client).write(items)).every((o) => o.ok)).toBe(true);

    const fromFiles = await new AuditFileDecisionHistory(dir).ofEvent("hist-7", 3);
    expect(fromFiles?.pseudonym).toBe(p("user", "user-1"));
    // user-1 is i = 1, 4, 7, 10: the three newest.
    expect(fromFiles?.decisions.map((d) => d.eventId)).toEqual(["hist-10", "hist-7", "hist-4"]);
    expect(fromFiles?.decisions[1]).toMatchObject({ action: "review", type: "order" });
    expect(await new OpenSearchDecisionHistory(client, "vigil-hist").ofEvent("hist-7", 3)).toEqual(fromFiles);
    expect(await new AuditFileDecisionHistory(dir).ofEvent("hist-none", 3)).toBeUndefined();
    expect(await new OpenSearchDecisionHistory(client, "vigil-hist").ofEvent("hist-none", 3)).toBeUndefined();
    await client.close();
  });
});
