import { randomUUID } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import type { KinesisStreamRecord } from "aws-lambda";
import type { StreamRecord } from "#local/esm/kinesis-event";
import type { BatchFailure, DiscardCondition } from "#local/esm/retry-plan";

/**
 * One line of the local on-failure destination: AWS's invocation record for a Kinesis event source
 * (`requestContext`, `responseContext`, `version`, `timestamp`, `KinesisBatchInfo`), plus what AWS's
 * SQS and SNS destinations leave out: `payload`, the discarded records exactly as the function
 * received them, so nothing is lost locally and a batch can be replayed from the file alone.
 */
export interface FailureRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: DiscardCondition;
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: {
    readonly statusCode: number;
    readonly executedVersion: string;
    readonly functionError?: "Unhandled";
  };
  readonly version: "1.0";
  readonly timestamp: string;
  readonly KinesisBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
  /** Local extension: the discarded records in event form (base64 data, partition key, sequence number). */
  readonly payload: { readonly Records: readonly KinesisStreamRecord[] };
  /** Local extension: why the records' last invocation failed, when they were invoked. */
  readonly lastError?: { readonly errorType: string; readonly errorMessage: string };
}

/** What the mapping knows about a batch it discards. */
export interface DiscardedBatch {
  readonly records: readonly StreamRecord[];
  readonly condition: DiscardCondition;
  readonly functionArn: string;
  readonly streamArn: string;
  readonly invocations: number;
  readonly lastFailure?: BatchFailure;
}

/** Builds the destination record of a discarded batch (which is never empty). */
export function toFailureRecord(batch: DiscardedBatch, now: Date): FailureRecord {
  const first = batch.records[0];
  const last = batch.records.at(-1);
  if (!first || !last) throw new Error("a discarded batch has at least one record");
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: batch.functionArn,
      condition: batch.condition,
      approximateInvokeCount: batch.invocations,
    },
    responseContext: {
      statusCode: 200,
      executedVersion: "$LATEST",
      ...(batch.lastFailure?.functionError ? { functionError: "Unhandled" as const } : {}),
    },
    version: "1.0",
    timestamp: now.toISOString(),
    KinesisBatchInfo: {
      shardId: first.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
      batchSize: batch.records.length,
      streamArn: batch.streamArn,
    },
    payload: { Records: batch.records.map((r) => r.event) },
    ...(batch.lastFailure
      ? {
          lastError: { errorType: batch.lastFailure.errorType, errorMessage: batch.lastFailure.errorMessage },
        }
      : {}),
  };
}

/**
 * The local on-failure destination: an NDJSON file, one {@link FailureRecord} per line, appended
 * and fsynced before the mapping checkpoints past the records, so a crash can duplicate a line
 * but never lose one.
 */
export class FileFailureDestination {
  constructor(readonly path: string) {}

  /** Appends one record durably. */
  async send(record: FailureRecord): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const file = await open(this.path, "a", 0o644);
    try {
      await file.appendFile(`${JSON.stringify(record)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
  }
}
