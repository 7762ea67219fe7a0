import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  chunkForPutRecords,
  PUT_RECORDS_MAX_BYTES,
  PUT_RECORDS_MAX_ENTRIES,
  putRecords,
} from "#shared/adapters/kinesis-producer";

const record = (i: number, size = 10) => ({
  data: new Uint8Array(size).fill(i % 256),
  partitionKey: `user-${i}`,
});

describe("chunkForPutRecords", () => {
  it("keeps at most 500 entries per request", () => {
    const chunks = chunkForPutRecords(Array.from({ length: 1201 }, (_, i) => record(i)));
    expect(chunks.map((c) => c.length)).toEqual([PUT_RECORDS_MAX_ENTRIES, PUT_RECORDS_MAX_ENTRIES, 201]);
  });

  it("keeps each request under 5 MiB", () => {
    const big = Array.from({ length: 12 }, (_, i) => record(i, 900 * 1024));
    const chunks = chunkForPutRecords(big);
    for (const chunk of chunks) {
      const bytes = chunk.reduce((n, r) => n + r.data.byteLength + r.partitionKey.length, 0);
      expect(bytes).toBeLessThanOrEqual(PUT_RECORDS_MAX_BYTES);
    }
    expect(chunks.flat()).toHaveLength(12);
  });
});

describe("backoffDelay", () => {
  it("grows exponentially and is capped", () => {
    expect(backoffDelay(1, 50, 5000, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 50, 5000, () => 0.5)).toBe(200);
    expect(backoffDelay(20, 50, 5000, () => 0.999)).toBe(4995);
  });
});

// Error branches only: the put path itself is proven against Kinesis Mock in the integration suite.
describe("putRecords retries", () => {
  it("retries only the entries Kinesis rejected, then reports what still failed", async () => {
    const kinesis = mockClient(KinesisClient);
    const calls: number[] = [];
    kinesis.on(PutRecordsCommand).callsFake((input: { Records: unknown[] }) => {
      calls.push(input.Records.length);
      const throttleAll = calls.length > 1 && input.Records.length === 1;
      return {
        FailedRecordCount: 1,
        Records: input.Records.map((_, i) =>
          i === 1 || throttleAll
            ? { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded" }
            : { ShardId: "shardId-000000000000", SequenceNumber: String(100 + i) },
        ),
      };
    });
    const sleeps: number[] = [];
    const result = await putRecords(new KinesisClient({}), "s", [record(0), record(1), record(2)], {
      maxAttempts: 3,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    });
    expect(calls).toEqual([3, 1, 1]);
    expect(sleeps).toEqual([50, 100]);
    expect(result.sent).toBe(2);
    expect(result.placed.map((p) => p.index)).toEqual([0, 2]);
    expect(result.failed).toEqual([
      { index: 1, errorCode: "ProvisionedThroughputExceededException", errorMessage: "Rate exceeded" },
    ]);
    kinesis.restore();
  });
});
