import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import type { DecisionRecord } from "#shared/ports/decision-store";
import { TTL_ATTRIBUTE } from "#shared/resources";

describe("DynamoDbDecisionStore on DynamoDB Local", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ stateDir: mkdtempSync(join(tmpdir(), "vigil-decisions-")) });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  // From the clock, a second ago: DynamoDB Local really deletes items whose TTL has passed, so a
  // fixed date would make this test fail once its one-day retention is over.
  const decidedAtMs = Math.floor(Date.now() / 1000) * 1000 - 1000;
  const decision = (action: "pass" | "block"): DecisionRecord => ({
    eventId: "evt-1",
    type: "login",
    action,
    decidedBy: "rules_and_score",
    score: 0.42,
    ruleHits: [],
    ruleErrors: [],
    reasons: ["R1"],
    contributions: [],
    listHits: [],
    band: null,
    shadow: { action, score: null, reasons: [] },
    versions: { rules: 3, lists: 1, model: "m1", shadowModel: null, features: "f1" },
    occurredAt: new Date(decidedAtMs - 1000).toISOString(),
    decidedAt: new Date(decidedAtMs).toISOString(),
    source: { shardId: "shardId-000000000001", sequenceNumber: "4960" },
  });

  it("keeps the first decision per eventId and sets the TTL from decidedAt", async () => {
    const client = createDynamoDbClient(stack.env);
    const store = new DynamoDbDecisionStore(client, stack.names.tables.decisions, 86_400);
    expect(await store.putIfAbsent(decision("pass"))).toBe("stored");
    expect(await store.putIfAbsent(decision("block"))).toBe("duplicate");
    expect(await store.get("evt-1")).toEqual(decision("pass"));
    expect(await store.get("evt-missing")).toBeUndefined();
    const raw = await client.send(
      new GetItemCommand({ TableName: stack.names.tables.decisions, Key: { eventId: { S: "evt-1" } } }),
    );
    expect(raw.Item?.[TTL_ATTRIBUTE]?.N).toBe(String(decidedAtMs / 1000 + 86_400));
  });
});
