import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeTableCommand, DescribeTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { DescribeStreamSummaryCommand } from "@aws-sdk/client-kinesis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import { STREAMS, type StreamKey, TABLES, type TableKey } from "#shared/resources";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("local stack", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ stateDir: mkdtempSync(join(tmpdir(), "vigil-stack-")) });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("creates every table with the keys and TTL attribute of the shared definitions", async () => {
    const dynamodb = createDynamoDbClient(stack.env);
    for (const [key, def] of Object.entries(TABLES)) {
      const name = stack.names.tables[key as TableKey];
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
      const expectedKeys = [def.partitionKey.name, ...("sortKey" in def ? [def.sortKey.name] : [])];
      expect(Table?.KeySchema?.map((k) => k.AttributeName)).toEqual(expectedKeys);
      const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: name }));
      const expectedTtl = "ttlAttribute" in def ? def.ttlAttribute : undefined;
      expect(ttl.TimeToLiveDescription?.AttributeName).toBe(expectedTtl);
    }
  });

  it("creates every stream with the defined shard count", async () => {
    const kinesis = createKinesisClient({ env: stack.env });
    for (const [key, def] of Object.entries(STREAMS)) {
      const name = stack.names.streams[key as StreamKey];
      const { StreamDescriptionSummary } = await kinesis.send(
        new DescribeStreamSummaryCommand({ StreamName: name }),
      );
      expect(StreamDescriptionSummary?.OpenShardCount).toBe(def.shardCount);
    }
  });

  it("seeds the shipped default rules, lists and model as version 1", async () => {
    const store = new DynamoDbConfigStore(createDynamoDbClient(stack.env), stack.names.tables.config);
    const heads = await store.heads(["rules", "lists", "model"]);
    expect([...heads.values()].map((h) => [h.kind, h.version]).sort()).toEqual([
      ["lists", 1],
      ["model", 1],
      ["rules", 1],
    ]);
  });

  it("writes a sourceable env file with the SDK's standard endpoint variables and resource names", () => {
    const text = readFileSync(stack.envFile, "utf8");
    expect(text).toContain(`export AWS_ENDPOINT_URL_KINESIS='${stack.emulators.kinesisEndpoint}'`);
    expect(text).toContain(`export AWS_ENDPOINT_URL_DYNAMODB='${stack.emulators.dynamodbEndpoint}'`);
    expect(text).toContain(`export ${TABLES.decisions.envVar}='${stack.names.tables.decisions}'`);
  });

  it("leaves no engine process behind after stop", async () => {
    const other = await startLocalStack({ stateDir: mkdtempSync(join(tmpdir(), "vigil-stack-")) });
    expect(other.emulators.pids.every(isAlive)).toBe(true);
    await other.stop();
    expect(other.emulators.pids.some(isAlive)).toBe(false);
  });
});
