import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { installAuditIndex } from "#shared/adapters/opensearch-audit-setup";
import { OpenSearchAuditSink } from "#shared/adapters/opensearch-audit-sink";
import { createOpenSearchClient } from "#shared/adapters/opensearch-client";
import { auditIndexName, toAuditDocument } from "#shared/domain/audit/audit-document";
import type { DecisionMessage } from "#shared/domain/decision-message/index";
import type { AuditItem } from "#shared/ports/audit-sink";
import { CANARY_VALUES, sampleMessage } from "../../fixtures/decision-messages.ts";
import { type FakeOpenSearch, startFakeOpenSearch } from "../../support/fake-opensearch.ts";

/**
 * The OpenSearch sink and index setup on the wire. By default against a local server speaking
 * `_bulk`; with VIGIL_TEST_OPENSEARCH_ENDPOINT set (and AWS_REGION plus credentials that fine-grained
 * access control maps to a role allowed to write `vigil-test-*`), the target tests run against that
 * domain or LocalStack instead. Failure injection always runs on the local server.
 */
const realEndpoint = process.env.VIGIL_TEST_OPENSEARCH_ENDPOINT;
const PREFIX = `vigil-test-${Date.now().toString(36)}`;
const credentials = async () => ({ accessKeyId: "test", secretAccessKey: "test" });
const noSleep = async () => {};

const item = (message: DecisionMessage): AuditItem => ({
  index: auditIndexName(PREFIX, message),
  id: message.eventId,
  document: toAuditDocument(message),
});

describe("OpenSearch audit sink against the target", () => {
  let fake: FakeOpenSearch;
  let client: ReturnType<typeof createOpenSearchClient>;
  beforeAll(async () => {
    fake = await startFakeOpenSearch();
    client = realEndpoint
      ? createOpenSearchClient({ endpoint: realEndpoint, region: process.env.AWS_REGION ?? "us-east-1" })
      : createOpenSearchClient({ endpoint: fake.endpoint, region: "us-east-1", getCredentials: credentials });
    await installAuditIndex(client, { prefix: PREFIX, retentionDays: 30, replicas: 0, shards: 1 });
  });
  afterAll(async () => {
    await client.close();
    await fake.close();
  });

  it("installs the template and the ISM policy, and updates the policy with its sequence number", async () => {
    await installAuditIndex(client, { prefix: PREFIX, retentionDays: 60, replicas: 0, shards: 1 });
    if (realEndpoint) return;
    expect([...fake.templates.keys()]).toEqual([`${PREFIX}-template`]);
    const policy = fake.policies.get(`${PREFIX}-retention`)?.body as {
      policy: { states: Array<{ transitions: Array<{ conditions: { min_index_age: string } }> }> };
    };
    expect(policy.policy.states[0]?.transitions[0]?.conditions.min_index_age).toBe("60d");
    expect(fake.signedRequests).toBe(fake.requests.length);
  });

  it("creates one document per eventId, and a redelivery finds it instead of writing again", async () => {
    const sink = new OpenSearchAuditSink(client);
    const messages = [sampleMessage("os-1"), sampleMessage("os-2", { decision: { action: "review" } })];
    expect(await sink.write(messages.map(item))).toEqual([
      { ok: true, result: "created" },
      { ok: true, result: "created" },
    ]);
    // The same decisions again (a redelivered batch), one of them re-published with a later decidedAt.
    const again = [
      messages[0] as DecisionMessage,
      // date-safe: OpenSearch ages indices by creation time (ISM), not by document date; nothing expires it.
      { ...(messages[1] as DecisionMessage), decidedAt: "2026-05-01T11:00:00.000Z" },
    ];
    expect(await sink.write(again.map(item))).toEqual([
      { ok: true, result: "exists" },
      { ok: true, result: "exists" },
    ]);
    if (realEndpoint) return;
    const docs = fake.documents(`${PREFIX}-*`);
    expect(docs.map((d) => d.eventId).sort()).toEqual(["os-1", "os-2"]);
    // date-safe: the fixture's decidedAt, checked on the fake OpenSearch, which deletes nothing.
    expect(docs.find((d) => d.eventId === "os-2")?.decidedAt).toBe("2026-05-01T10:00:00.250Z");
    const text = JSON.stringify(docs);
    for (const canary of CANARY_VALUES) expect(text).not.toContain(canary);
  });
});

describe("OpenSearch audit sink failure handling on the _bulk protocol", () => {
  let fake: FakeOpenSearch;
  let client: ReturnType<typeof createOpenSearchClient>;
  let sink: OpenSearchAuditSink;
  beforeAll(async () => {
    fake = await startFakeOpenSearch();
    client = createOpenSearchClient({
      endpoint: fake.endpoint,
      region: "us-east-1",
      getCredentials: credentials,
    });
    await installAuditIndex(client, { prefix: PREFIX, retentionDays: 30, replicas: 0, shards: 1 });
    sink = new OpenSearchAuditSink(client, { attempts: 4, sleep: noSleep });
  });
  beforeEach(() => {
    fake.indices.clear();
    fake.requests.length = 0;
    fake.failItem = undefined;
    fake.throttleNext(0);
  });
  afterAll(async () => {
    await client.close();
    await fake.close();
  });

  it("retries a whole-request 429 and then indexes everything", async () => {
    fake.throttleNext(2);
    const outcomes = await sink.write([sampleMessage("t-1"), sampleMessage("t-2")].map(item));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(fake.requests.filter((r) => r.endsWith("/_bulk"))).toHaveLength(3);
    expect(fake.documents(`${PREFIX}-*`)).toHaveLength(2);
  });

  it("re-sends only the items that failed with 429 or 5xx, and returns mapping errors without retrying them", async () => {
    const left = new Map([
      ["p-2", 2],
      ["p-3", 1],
    ]);
    fake.failItem = (id) => {
      const n = left.get(id) ?? 0;
      if (n === 0) return undefined;
      left.set(id, n - 1);
      return id === "p-2"
        ? { status: 429, type: "es_rejected_execution_exception", reason: "queue full" }
        : { status: 503, type: "unavailable_shards_exception", reason: "primary shard is not active" };
    };
    // p-4 carries a field the strict mapping does not know: a real mapping error from the template.
    const bad = { ...sampleMessage("p-4"), unexpected: "x" } as DecisionMessage;
    const outcomes = await sink.write(
      [sampleMessage("p-1"), sampleMessage("p-2"), sampleMessage("p-3"), bad].map(item),
    );
    expect(outcomes.slice(0, 3)).toEqual([
      { ok: true, result: "created" },
      { ok: true, result: "created" },
      { ok: true, result: "created" },
    ]);
    expect(outcomes[3]).toMatchObject({
      ok: false,
      retryable: false,
      status: 400,
      errorType: "strict_dynamic_mapping_exception",
    });
    // Round 1: four items; round 2: p-2 and p-3; round 3: p-2.
    expect(fake.requests.filter((r) => r.endsWith("/_bulk"))).toHaveLength(3);
    expect(
      fake
        .documents(`${PREFIX}-*`)
        .map((d) => d.eventId)
        .sort(),
    ).toEqual(["p-1", "p-2", "p-3"]);
  });

  it("reports items still throttled after its attempts as retryable", async () => {
    fake.failItem = () => ({ status: 429, type: "es_rejected_execution_exception", reason: "queue full" });
    const outcomes = await sink.write([sampleMessage("r-1")].map(item));
    expect(outcomes).toEqual([
      {
        ok: false,
        retryable: true,
        status: 429,
        errorType: "es_rejected_execution_exception",
        reason: "queue full",
      },
    ]);
    expect(fake.requests.filter((r) => r.endsWith("/_bulk"))).toHaveLength(4);
  });

  it("accepts every field of a full decision under the strict mapping", async () => {
    const outcomes = await sink.write([sampleMessage("full-1")].map(item));
    expect(outcomes).toEqual([{ ok: true, result: "created" }]);
  });
});
