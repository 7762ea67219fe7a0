import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from "@aws-sdk/client-kinesis";

/** Kinesis limits for one PutRecords call. */
export const PUT_RECORDS_MAX_ENTRIES = 500;
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;

/** One record to put: raw bytes and the partition key that picks its shard. */
export interface OutgoingRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
}

/** Where each put record landed, in input order. */
export interface PutResult {
  readonly sent: number;
  /** Records still rejected after every retry, with Kinesis's error code and message. */
  readonly failed: ReadonlyArray<{
    readonly index: number;
    readonly errorCode: string;
    readonly errorMessage: string;
  }>;
  /** Shard and sequence number of each record that was accepted, by input index. */
  readonly placed: ReadonlyArray<{
    readonly index: number;
    readonly shardId: string;
    readonly sequenceNumber: string;
  }>;
  readonly requests: number;
}

export interface PutOptions {
  /** Attempts per record including the first; failed entries are retried with backoff and jitter. */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Called after every PutRecords request, for progress output. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** Splits records into PutRecords-sized chunks (at most 500 entries and 5 MiB each). */
export function chunkForPutRecords<T extends OutgoingRecord>(records: readonly T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = record.data.byteLength + Buffer.byteLength(record.partitionKey);
    if (
      current.length === PUT_RECORDS_MAX_ENTRIES ||
      (current.length > 0 && bytes + size > PUT_RECORDS_MAX_BYTES)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** "Full jitter" exponential backoff: a random delay up to base * 2^attempt, capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** attempt));
}

/**
 * Puts records on a stream with PutRecords, at most 500 a request, retrying only the entries
 * Kinesis rejected (throttling, internal errors) with exponential backoff and full jitter.
 * Order between records of one partition key is kept within a request; a retried record may
 * land after a later one of the same key, as with any Kinesis producer that retries.
 */
export async function putRecords(
  client: KinesisClient,
  streamName: string,
  records: readonly OutgoingRecord[],
  options: PutOptions = {},
): Promise<PutResult> {
  const maxAttempts = options.maxAttempts ?? 8;
  const baseDelayMs = options.baseDelayMs ?? 50;
  const maxDelayMs = options.maxDelayMs ?? 5000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const indexed = records.map((record, index) => ({ ...record, index }));
  const placed: Array<PutResult["placed"][number]> = [];
  const failed: Array<PutResult["failed"][number]> = [];
  let requests = 0;

  for (const chunk of chunkForPutRecords(indexed)) {
    let pending = chunk;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(attempt, baseDelayMs, maxDelayMs, random));
      const entries: PutRecordsRequestEntry[] = pending.map((r) => ({
        Data: r.data,
        PartitionKey: r.partitionKey,
      }));
      requests++;
      const response = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
      const results = response.Records ?? [];
      const retry: typeof pending = [];
      pending.forEach((record, i) => {
        const result = results[i];
        if (result?.SequenceNumber && result.ShardId && !result.ErrorCode) {
          placed.push({
            index: record.index,
            shardId: result.ShardId,
            sequenceNumber: result.SequenceNumber,
          });
        } else if (attempt + 1 >= maxAttempts) {
          failed.push({
            index: record.index,
            errorCode: result?.ErrorCode ?? "MissingResult",
            errorMessage: result?.ErrorMessage ?? "PutRecords returned no result for this entry",
          });
        } else {
          retry.push(record);
        }
      });
      pending = retry;
    }
    options.onProgress?.(placed.length + failed.length, records.length);
  }
  placed.sort((a, b) => a.index - b.index);
  failed.sort((a, b) => a.index - b.index);
  return { sent: placed.length, failed, placed, requests };
}
