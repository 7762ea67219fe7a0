import type { KinesisStreamRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { nextBatchLength, type StreamRecord, toKinesisEvent, toStreamRecord } from "#local/esm/kinesis-event";

const context = {
  shardId: "shardId-000000000003",
  eventSourceArn: "arn:aws:kinesis:us-east-1:000000000000:stream/events",
  awsRegion: "us-east-1",
  invokeIdentityArn: "arn:aws:iam::000000000000:role/score-role",
};

describe("toStreamRecord", () => {
  it("builds the record exactly as Lambda puts it in a KinesisStreamEvent", () => {
    const record = toStreamRecord(
      {
        SequenceNumber: "49590338271490256608559692538361571095921575989136588898",
        PartitionKey: "user-1",
        Data: new TextEncoder().encode("Hello, this is a test."),
        ApproximateArrivalTimestamp: new Date(1545084650987),
      },
      context,
    );
    const expected: KinesisStreamRecord = {
      kinesis: {
        kinesisSchemaVersion: "1.0",
        partitionKey: "user-1",
        sequenceNumber: "49590338271490256608559692538361571095921575989136588898",
        data: "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
        approximateArrivalTimestamp: 1545084650.987,
      },
      eventSource: "aws:kinesis",
      eventVersion: "1.0",
      eventID: "shardId-000000000003:49590338271490256608559692538361571095921575989136588898",
      eventName: "aws:kinesis:record",
      invokeIdentityArn: context.invokeIdentityArn,
      awsRegion: "us-east-1",
      eventSourceARN: context.eventSourceArn,
    };
    expect(record.event).toEqual(expected);
    expect(toKinesisEvent([record])).toEqual({ Records: [expected] });
    expect(record.eventBytes).toBe(Buffer.byteLength(JSON.stringify(expected)));
  });
});

describe("nextBatchLength", () => {
  const sized = (eventBytes: number, n: number) =>
    Array.from({ length: n }, () => ({ eventBytes }) as StreamRecord);

  it("takes at most the batch size", () => {
    expect(nextBatchLength(sized(100, 25), 10)).toBe(10);
    expect(nextBatchLength(sized(100, 3), 10)).toBe(3);
  });

  it("stops before the serialized event would exceed the payload limit", () => {
    // 14 bytes of envelope + 10 records of 100 bytes + 9 commas = 1023 bytes.
    expect(nextBatchLength(sized(100, 20), 100, 1023)).toBe(10);
    expect(nextBatchLength(sized(100, 20), 100, 1022)).toBe(9);
  });

  it("always takes one record, so an oversized record cannot stall the shard", () => {
    expect(nextBatchLength(sized(10_000, 2), 100, 1000)).toBe(1);
  });
});
