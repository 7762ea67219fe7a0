import { DynamoDBClient, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import { ConfigConflictError, ConfigDependencyConflictError } from "#shared/ports/config-store";

/**
 * Error branches of a checked apply that DynamoDB Local reaches only by timing: which item of the
 * cancelled transaction failed decides the error (the conditions themselves are tested on
 * DynamoDB Local in test/integration/config/cross-kind-check.test.ts).
 */
const client = mockClient(DynamoDBDocumentClient);
const store = new DynamoDbConfigStore(new DynamoDBClient({ region: "us-east-1" }), "config");
const request = {
  kind: "rules",
  document: { rules: [] },
  expectedVersion: 3,
  author: "ann",
  now: new Date().toISOString(),
  requireHeads: [{ kind: "features", version: 2 }],
};
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: "Transaction cancelled",
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe("DynamoDbConfigStore.apply with requireHeads", () => {
  beforeEach(() => {
    client.reset();
    client.on(GetCommand).resolves({ Item: { pk: "features", sk: "head", version: 4, updatedAt: "x" } });
  });

  it("sends the required heads as ConditionChecks after the version and head writes", async () => {
    client.on(TransactWriteCommand).resolves({});
    await store.apply(request);
    const items = client.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items.map((i) => Object.keys(i)[0])).toEqual(["Put", "Update", "ConditionCheck"]);
    expect(items[2]?.ConditionCheck).toMatchObject({
      Key: { pk: "features", sk: "head" },
      ConditionExpression: "#v = :version",
      ExpressionAttributeValues: { ":version": 2 },
    });
  });

  it.each([
    ["a failed condition", "ConditionalCheckFailed"],
    ["a concurrent transaction", "TransactionConflict"],
  ])("maps %s on a required head to ConfigDependencyConflictError", async (_, code) => {
    client.on(TransactWriteCommand).rejects(cancelled("None", "None", code));
    const attempt = store.apply(request);
    await expect(attempt).rejects.toBeInstanceOf(ConfigDependencyConflictError);
    await expect(attempt).rejects.toMatchObject({
      dependency: "features",
      dependencyVersion: 2,
      currentDependencyVersion: 4,
    });
  });

  it("reports this kind's own conflict first when its head moved too", async () => {
    client
      .on(TransactWriteCommand)
      .rejects(cancelled("None", "ConditionalCheckFailed", "TransactionConflict"));
    const error = await store.apply(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigConflictError);
    expect(error).not.toBeInstanceOf(ConfigDependencyConflictError);
  });

  it("refuses a required head of the kind being written", async () => {
    await expect(store.apply({ ...request, requireHeads: [{ kind: "rules", version: 3 }] })).rejects.toThrow(
      "requireHeads names the kind being written (rules)",
    );
    expect(client.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});
