import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbQuarantineStore } from "#shared/adapters/dynamodb-quarantine-store";
import type { QuarantineEntry } from "#shared/ports/quarantine-store";

describe("DynamoDbQuarantineStore on DynamoDB Local", () => {
  let stack: LocalStack;
  let store: DynamoDbQuarantineStore;
  beforeAll(async () => {
    stack = await startLocalStack({ stateDir: mkdtempSync(join(tmpdir(), "vigil-quarantine-")) });
    store = new DynamoDbQuarantineStore(createDynamoDbClient(stack.env), stack.names.tables.quarantine, 3600);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  // Times from the clock, minutes ago: the store sets a one-hour TTL from receivedAt and DynamoDB
  // Local really deletes expired items, so fixed dates would vanish under the test.
  const base = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
  const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
  const entry = (
    id: string,
    data: Buffer,
    receivedAt: string,
    reason: QuarantineEntry["reason"],
  ): QuarantineEntry => ({
    id,
    reason,
    message: "m",
    data: data.toString("base64"),
    partitionKey: "pk",
    shardId: "shardId-000000000000",
    sequenceNumber: id.split(":")[1] ?? "",
    streamArn: "arn:aws:kinesis:us-east-1:000000000000:stream/s",
    arrivalTime: receivedAt,
    receivedAt,
  });

  it("keeps a 1 MiB record whole (above DynamoDB's 400 KB item limit) and writes each record once", async () => {
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const e = entry("shardId-000000000000:1", big, at(0), "RECORD_TOO_LARGE");
    expect(await store.putIfAbsent(e)).toBe("stored");
    expect(await store.putIfAbsent(e)).toBe("exists");
    const back = await store.get(e.id);
    expect(back?.data).toBe(e.data);
    expect(Buffer.from(back?.data ?? "", "base64").equals(big)).toBe(true);
  });

  it("lists newest first, by reason, without chunk items, and marks replays", async () => {
    await store.putIfAbsent(entry("shardId-000000000000:2", Buffer.from("x"), at(1), "NOT_JSON"));
    await store.putIfAbsent(entry("shardId-000000000000:3", Buffer.from("y"), at(2), "NOT_JSON"));
    expect((await store.list()).map((e) => e.id)).toEqual([
      "shardId-000000000000:3",
      "shardId-000000000000:2",
      "shardId-000000000000:1",
    ]);
    expect((await store.list({ reason: "NOT_JSON", limit: 1 })).map((e) => e.id)).toEqual([
      "shardId-000000000000:3",
    ]);
    await store.markReplayed("shardId-000000000000:2", at(3), "shardId-000000000001:9");
    expect(await store.get("shardId-000000000000:2")).toMatchObject({
      replayedAt: at(3),
      replayedAs: "shardId-000000000001:9",
    });
    await expect(store.markReplayed("shardId-000000000000:404", "x", "y")).rejects.toThrow();
  });
});
