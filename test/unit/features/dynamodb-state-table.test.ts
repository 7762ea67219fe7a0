import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbStateStore, StateStoreUnavailableError } from "#shared/adapters/dynamodb-state-store";
import { compileFeatureSet, type FeatureDefinition, type FeatureRecord } from "#shared/domain/features/index";
import { cleanEvent, SHARDS, STREAM, T0 } from "./feature-streams";

/**
 * Error branches of the DynamoDB state table that DynamoDB Local cannot produce: throttling,
 * unprocessed keys, failed writes. Happy paths and conflicts run on DynamoDB Local
 * (test/integration/features).
 */

const features: FeatureDefinition[] = [
  { id: "n", entity: ["deviceId"], aggregation: { type: "count" }, window: "1h" },
];
const set = compileFeatureSet({ features });
const record: FeatureRecord = {
  event: cleanEvent({ eventId: "a", at: T0 }),
  stream: STREAM,
  shardId: SHARDS[0],
  sequenceNumber: "1",
};
const storeFor = (client: DynamoDBClient) =>
  new DynamoDbStateStore({
    client,
    tableName: "state",
    features: set,
    clock: () => T0,
    sleep: async () => {},
  });

describe("DynamoDbStateTable error handling", () => {
  it("asks again for unprocessed keys, then fails the batch if they stay unprocessed", async () => {
    const client = new DynamoDBClient({ region: "us-east-1" });
    const mock = mockClient(client);
    const key = { pk: { S: "deviceId#d1" } };
    mock
      .on(BatchGetItemCommand)
      .resolvesOnce({ Responses: { state: [] }, UnprocessedKeys: { state: { Keys: [key] } } })
      .resolvesOnce({ Responses: { state: [] }, UnprocessedKeys: {} });
    const store = storeFor(client);
    const pass = await store.prepare([record], new Map());
    expect(pass.vectors.get("a")?.values).toEqual({ n: 1 });
    expect(store.stats.unprocessedReads).toBe(1);
    expect(mock.commandCalls(BatchGetItemCommand)).toHaveLength(2);

    mock
      .on(BatchGetItemCommand)
      .resolves({ Responses: { state: [] }, UnprocessedKeys: { state: { Keys: [key] } } });
    await expect(storeFor(client).prepare([record], new Map())).rejects.toThrow(StateStoreUnavailableError);
  });

  it("fails the batch when reads keep being throttled", async () => {
    const client = new DynamoDBClient({ region: "us-east-1" });
    mockClient(client)
      .on(BatchGetItemCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: "slow down", $metadata: {} }));
    const error = await storeFor(client)
      .prepare([record], new Map())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreUnavailableError);
    expect((error as Error).cause).toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it("reports a throttled write for retry and applies nothing of it", async () => {
    const client = new DynamoDBClient({ region: "us-east-1" });
    const mock = mockClient(client);
    mock.on(BatchGetItemCommand).resolves({ Responses: { state: [] } });
    mock
      .on(UpdateItemCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: "slow", $metadata: {} }));
    const result = await (await storeFor(client).prepare([record], new Map())).commit();
    expect(result).toEqual({
      failed: [{ shardId: SHARDS[0], sequenceNumber: "1" }],
      written: 0,
      errors: [{ entityType: "deviceId", error: "ProvisionedThroughputExceededException: slow" }],
    });
  });

  it("folds again onto the item a conflicting write returns, conditional on its revision", async () => {
    const client = new DynamoDBClient({ region: "us-east-1" });
    const mock = mockClient(client);
    mock.on(BatchGetItemCommand).resolves({ Responses: { state: [] } });
    const theirs = {
      pk: { S: "deviceId#d1" },
      rev: { N: "4" },
      s: { S: '{"v":1,"w":{},"f":{}}' },
      expiresAt: { N: "1" },
    };
    mock
      .on(UpdateItemCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: "no", $metadata: {}, Item: theirs }))
      .resolves({});
    const store = storeFor(client);
    expect(await (await store.prepare([record], new Map())).commit()).toMatchObject({
      written: 1,
      errors: [],
    });
    const [first, second] = mock.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(first?.ConditionExpression).toBe("attribute_not_exists(#pk)");
    expect(second?.ConditionExpression).toBe("#rev = :rev");
    expect(second?.ExpressionAttributeValues?.[":rev"]).toEqual({ N: "4" });
    expect(second?.ExpressionAttributeValues?.[":next"]).toEqual({ N: "5" });
    expect(store.stats.conflicts).toBe(1);
  });
});

describe("SDK retries of throttled state requests", () => {
  // A server speaking DynamoDB's JSON protocol that throttles the first two requests of each
  // kind: the client the functions use must retry them with backoff on its own.
  let server: Server;
  let endpoint: string;
  const seen: string[] = [];
  beforeAll(async () => {
    const counts = new Map<string, number>();
    server = createServer((req, res) => {
      const target = String(req.headers["x-amz-target"]).split(".")[1] ?? "";
      seen.push(target);
      const n = (counts.get(target) ?? 0) + 1;
      counts.set(target, n);
      req.resume();
      req.on("end", () => {
        res.setHeader("content-type", "application/x-amz-json-1.0");
        if (n <= 2) {
          res.statusCode = 400;
          res.end(
            JSON.stringify({
              __type: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
              message: "throttled",
            }),
          );
          return;
        }
        res.end(
          target === "BatchGetItem"
            ? JSON.stringify({ Responses: { state: [] }, UnprocessedKeys: {} })
            : "{}",
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("retries throttled reads and writes before the store sees an error", async () => {
    const client = createDynamoDbClient({
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    });
    const store = storeFor(client);
    const result = await (await store.prepare([record], new Map())).commit();
    expect(result).toEqual({ failed: [], written: 1, errors: [] });
    expect(seen).toEqual([
      "BatchGetItem",
      "BatchGetItem",
      "BatchGetItem",
      "UpdateItem",
      "UpdateItem",
      "UpdateItem",
    ]);
    expect(store.stats).toMatchObject({ readRequests: 1, writeRequests: 1 });
  });
});
