import type { _Record } from "@aws-sdk/client-kinesis";
import type { KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";

/**
 * Lambda's limit on a synchronous invocation payload (6 MB). An event source mapping stops
 * filling a batch before the event would exceed it.
 */
export const MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** What every record of one shard shares in its event: where it came from and who reads it. */
export interface ShardEventContext {
  readonly shardId: string;
  readonly eventSourceArn: string;
  readonly awsRegion: string;
  /** The execution role ARN Lambda puts in `invokeIdentityArn`. */
  readonly invokeIdentityArn: string;
}

/** A record read from a shard, with its event form precomputed once. */
export interface StreamRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** The record's data, base64-encoded as in the event. */
  readonly data: string;
  /** Kinesis's approximate arrival time, epoch milliseconds. */
  readonly arrivalMs: number;
  /** The record as Lambda puts it in a `KinesisStreamEvent`. */
  readonly event: KinesisStreamRecord;
  /** Bytes the record adds to a serialized event (for the payload limit). */
  readonly eventBytes: number;
}

/**
 * Turns a record returned by GetRecords into the exact shape Lambda delivers: base64 data,
 * arrival time in fractional epoch seconds, `eventID` = `<shardId>:<sequenceNumber>`.
 */
export function toStreamRecord(record: _Record, context: ShardEventContext): StreamRecord {
  const { SequenceNumber: sequenceNumber, PartitionKey: partitionKey } = record;
  if (!sequenceNumber || partitionKey === undefined) {
    throw new Error(`GetRecords returned a record without sequence number or partition key`);
  }
  const data = Buffer.from(record.Data ?? new Uint8Array()).toString("base64");
  const arrivalMs = record.ApproximateArrivalTimestamp?.getTime() ?? Date.now();
  const event: KinesisStreamRecord = {
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey,
      sequenceNumber,
      data,
      approximateArrivalTimestamp: arrivalMs / 1000,
    },
    eventSource: "aws:kinesis",
    eventVersion: "1.0",
    eventID: `${context.shardId}:${sequenceNumber}`,
    eventName: "aws:kinesis:record",
    invokeIdentityArn: context.invokeIdentityArn,
    awsRegion: context.awsRegion,
    eventSourceARN: context.eventSourceArn,
  };
  return {
    shardId: context.shardId,
    sequenceNumber,
    partitionKey,
    data,
    arrivalMs,
    event,
    eventBytes: Buffer.byteLength(JSON.stringify(event)),
  };
}

/** The event Lambda passes to the handler for a batch. */
export function toKinesisEvent(records: readonly StreamRecord[]): KinesisStreamEvent {
  return { Records: records.map((r) => r.event) };
}

/** Bytes of `{"Records":[]}` around the records of a serialized event. */
const EVENT_ENVELOPE_BYTES = Buffer.byteLength(JSON.stringify({ Records: [] }));

/**
 * How many leading records of `buffer` form the next batch: at most `batchSize`, and no more than
 * fit in `maxPayloadBytes` once serialized, but always at least one so a shard can never stall.
 */
export function nextBatchLength(
  buffer: readonly StreamRecord[],
  batchSize: number,
  maxPayloadBytes = MAX_INVOKE_PAYLOAD_BYTES,
): number {
  let bytes = EVENT_ENVELOPE_BYTES;
  let count = 0;
  for (const record of buffer) {
    if (count >= batchSize) break;
    const added = record.eventBytes + (count > 0 ? 1 : 0);
    if (count > 0 && bytes + added > maxPayloadBytes) break;
    bytes += added;
    count += 1;
  }
  return count;
}

/** Account id of an ARN (`arn:partition:service:region:account:resource`), or undefined. */
export function arnAccount(arn: string): string | undefined {
  return arn.split(":")[4] || undefined;
}
