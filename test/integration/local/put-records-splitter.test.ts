import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulators, startEmulators } from "#local/emulators";
import { type FaultProxy, startFaultProxy } from "#local/fault-proxy";
import { type PutRecordsSplitter, startPutRecordsSplitter } from "#local/put-records-splitter";
import { createKinesisClient } from "#shared/adapters/aws-clients";

/**
 * The PutRecords splitter on Kinesis Mock: a PutRecords call through it writes what the same call
 * writes directly, in the same order, answers in PutRecords' format with the sequence numbers the
 * records got, and reports errors as PutRecords does (a throttled entry in its result, a call
 * error as the call's answer).
 */
describe("PutRecords splitter in front of Kinesis Mock", () => {
  let emulators: Emulators;
  let splitter: PutRecordsSplitter;
  let faults: FaultProxy | undefined;
  const STREAM = "splitter-test";
  const clientOf = (endpoint: string) =>
    new KinesisClient({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
      // The SDK talks HTTP/2 to Kinesis by default; the splitter, like Kinesis Mock, speaks HTTP/1.1.
      requestHandler: new NodeHttpHandler({ httpAgent: { keepAlive: true } }),
    });

  beforeAll(async () => {
    emulators = await startEmulators({ dataDir: mkdtempSync(join(tmpdir(), "vigil-splitter-")) });
    const kinesis = createKinesisClient({ env: emulators.awsEnv });
    await kinesis.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 2 }));
    for (;;) {
      const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
      if (d.StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    kinesis.destroy();
    splitter = await startPutRecordsSplitter({ target: emulators.kinesisEndpoint });
  });
  afterAll(async () => {
    await splitter?.close();
    await faults?.close();
    await emulators?.stop();
  });

  const readShard = async (kinesis: KinesisClient, shardId: string) => {
    const it = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: STREAM,
        ShardId: shardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    const page = await kinesis.send(
      new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 10_000 }),
    );
    return page.Records ?? [];
  };

  it("writes every entry in order and answers with each entry's sequence number and shard", async () => {
    const kinesis = clientOf(splitter.endpoint);
    const before = splitter.stats();
    const entries = Array.from({ length: 40 }, (_, i) => ({
      Data: new TextEncoder().encode(`record ${i}`),
      PartitionKey: `key-${i % 7}`,
    }));
    const answer = await kinesis.send(new PutRecordsCommand({ StreamName: STREAM, Records: entries }));
    expect(answer.FailedRecordCount).toBe(0);
    expect(answer.Records).toHaveLength(40);
    expect(splitter.stats().putRecordsCalls - before.putRecordsCalls).toBe(1);
    expect(splitter.stats().entries - before.entries).toBe(40);

    // What the engine holds, read directly: each entry once, under the sequence number answered,
    // and the entries of each shard in the order they were sent.
    const direct = createKinesisClient({ env: emulators.awsEnv });
    const shards = (await direct.send(new ListShardsCommand({ StreamName: STREAM }))).Shards ?? [];
    expect(shards).toHaveLength(2);
    const stored = new Map<string, { data: string; shardId: string }>();
    for (const shard of shards)
      for (const r of await readShard(direct, shard.ShardId ?? ""))
        stored.set(r.SequenceNumber ?? "", {
          data: new TextDecoder().decode(r.Data),
          shardId: shard.ShardId ?? "",
        });
    direct.destroy();
    expect(stored.size).toBe(40);
    const results = answer.Records ?? [];
    results.forEach((result, i) => {
      expect(stored.get(result.SequenceNumber ?? "")).toEqual({
        data: `record ${i}`,
        shardId: result.ShardId,
      });
    });
    for (const shard of shards) {
      const mine = results
        .filter((r) => r.ShardId === shard.ShardId)
        .map((r) => BigInt(r.SequenceNumber ?? "0"));
      expect(mine.length).toBeGreaterThan(0);
      expect([...mine].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(mine);
    }
    kinesis.destroy();
  });

  it("answers a call error on the first entry as the call's error, and forwards other calls unchanged", async () => {
    const kinesis = clientOf(splitter.endpoint);
    const before = splitter.stats();
    await expect(
      kinesis.send(
        new PutRecordsCommand({
          StreamName: "no-such-stream",
          Records: [{ Data: new Uint8Array([1]), PartitionKey: "k" }],
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    const shards = await kinesis.send(new ListShardsCommand({ StreamName: STREAM }));
    expect(shards.Shards).toHaveLength(2);
    expect(splitter.stats().forwarded - before.forwarded).toBe(1);
    kinesis.destroy();
  });

  it("reports an entry throttled by the service in its result, as PutRecords does, and writes the rest", async () => {
    // Splitter → fault proxy throttling one PutRecord in two → Kinesis Mock.
    faults = await startFaultProxy({
      service: "kinesis",
      target: emulators.kinesisEndpoint,
      rate: 0.5,
      seed: 7,
      kinds: ["throttle"],
    });
    const throttled = await startPutRecordsSplitter({ target: faults.endpoint });
    const kinesis = clientOf(throttled.endpoint);
    try {
      const entries = Array.from({ length: 30 }, (_, i) => ({
        Data: new TextEncoder().encode(`throttled ${i}`),
        PartitionKey: `t-${i}`,
      }));
      const answer = await kinesis.send(new PutRecordsCommand({ StreamName: STREAM, Records: entries }));
      const results = answer.Records ?? [];
      const failed = results.filter((r) => r.ErrorCode);
      expect(results).toHaveLength(30);
      expect(failed.length).toBe(faults.stats().faults.throttle);
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.length).toBeLessThan(30);
      expect(answer.FailedRecordCount).toBe(failed.length);
      for (const f of failed) {
        expect(f.ErrorCode).toBe("ProvisionedThroughputExceededException");
        expect(f.SequenceNumber).toBeUndefined();
      }
      for (const ok of results.filter((r) => !r.ErrorCode)) expect(ok.SequenceNumber).toMatch(/^\d+$/);
    } finally {
      kinesis.destroy();
      await throttled.close();
    }
  });
});
