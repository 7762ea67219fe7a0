import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbReceiptLedger, receiptKey } from "#shared/adapters/dynamodb-receipt-ledger";
import { TTL_ATTRIBUTE } from "#shared/resources";
import { receiptLedgerContract } from "../../support/receipt-ledger-contract.ts";
import { sequenceNumber } from "../../support/score-path.ts";

describe("DynamoDbReceiptLedger on DynamoDB Local", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ stateDir: mkdtempSync(join(tmpdir(), "vigil-receipts-")) });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const ledger = () =>
    new DynamoDbReceiptLedger(createDynamoDbClient(stack.env), stack.names.tables.decisions, 86_400);

  // Two instances: two containers, each with its own cache of the marks.
  receiptLedgerContract(async () => [ledger(), ledger()] as const);

  it("an SDK retry of a mark move that had gone through still counts the records, once", async () => {
    const client = createDynamoDbClient(stack.env);
    let lost = 0;
    // The first UpdateItem reaches DynamoDB, then its answer is lost: the SDK sends it again.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === "UpdateItemCommand" && lost++ === 0) {
          throw Object.assign(new Error("socket hang up"), { name: "TimeoutError", code: "ECONNRESET" });
        }
        return result;
      },
      { step: "deserialize", name: "loseFirstAnswer" },
    );
    const shard = { stream: "retried", shardId: "shardId-000000000009" };
    const counted = await new DynamoDbReceiptLedger(client, stack.names.tables.decisions, 86_400).receive(
      shard,
      [sequenceNumber(1), sequenceNumber(2)],
      new Date(),
    );
    expect(lost).toBeGreaterThan(1);
    expect([...counted]).toEqual([sequenceNumber(1), sequenceNumber(2)]);
    expect((await ledger().read(shard))?.received).toBe(2);
  });

  it("keeps the shard's item, next to the decisions, until its retention after the last write", async () => {
    const shard = { stream: "ttl", shardId: "shardId-000000000001" };
    const before = Math.floor(Date.now() / 1000);
    await ledger().receive(shard, [sequenceNumber(1)], new Date());
    const { Item } = await createDynamoDbClient(stack.env).send(
      new GetItemCommand({
        TableName: stack.names.tables.decisions,
        Key: { eventId: { S: receiptKey(shard) } },
      }),
    );
    expect(receiptKey(shard)).toBe("recv#ttl#shardId-000000000001");
    expect(Number(Item?.[TTL_ATTRIBUTE]?.N)).toBeGreaterThanOrEqual(before + 86_400);
    expect(Item?.receivedUpTo?.S).toBe(sequenceNumber(1));
  });

  it("gives up with a named error when the mark keeps moving under it", async () => {
    const client = createDynamoDbClient(stack.env);
    const shard = { stream: "busy", shardId: "shardId-000000000002" };
    let n = 100;
    // Another writer moves the mark before every attempt.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "UpdateItemCommand") {
          await createDynamoDbClient(stack.env).send(
            new UpdateItemCommand({
              TableName: stack.names.tables.decisions,
              Key: { eventId: { S: receiptKey(shard) } },
              UpdateExpression: "SET receivedUpTo = :m",
              ExpressionAttributeValues: { ":m": { S: sequenceNumber(n++) } },
            }),
          );
        }
        return next(args);
      },
      { step: "initialize", name: "moveTheMark" },
    );
    await expect(
      new DynamoDbReceiptLedger(client, stack.names.tables.decisions, 86_400, 3).receive(
        shard,
        [sequenceNumber(1000)],
        new Date(),
      ),
    ).rejects.toMatchObject({ name: "ReceiptConflictError" });
  });
});
