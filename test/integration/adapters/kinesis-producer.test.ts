import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from "@aws-sdk/client-kinesis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createKinesisClient } from "#shared/adapters/aws-clients";
import { putRecords } from "#shared/adapters/kinesis-producer";

describe("putRecords against Kinesis Mock", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ stateDir: mkdtempSync(join(tmpdir(), "vigil-producer-")) });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("puts 1,201 records in three requests and every one can be read back from its shard", async () => {
    const kinesis = createKinesisClient({ env: stack.env });
    const stream = stack.names.streams.events;
    const records = Array.from({ length: 1201 }, (_, i) => ({
      data: new TextEncoder().encode(JSON.stringify({ n: i })),
      partitionKey: `user-${i % 37}`,
    }));
    let progressCalls = 0;
    const result = await putRecords(kinesis, stream, records, { onProgress: () => progressCalls++ });
    expect(result.sent).toBe(1201);
    expect(result.failed).toEqual([]);
    expect(result.requests).toBe(3);
    expect(progressCalls).toBe(3);

    const seen: number[] = [];
    const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
    for (const shard of Shards) {
      let { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard.ShardId,
          ShardIteratorType: "TRIM_HORIZON",
        }),
      );
      while (ShardIterator) {
        const page = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
        for (const r of page.Records ?? [])
          seen.push((JSON.parse(new TextDecoder().decode(r.Data)) as { n: number }).n);
        ShardIterator = page.Records?.length ? page.NextShardIterator : undefined;
      }
    }
    expect(seen.sort((a, b) => a - b)).toEqual(records.map((_, i) => i));
    kinesis.destroy();
  });
});
