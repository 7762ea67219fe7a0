import * as z from "zod";

/**
 * The event archive's contract: every record of the events stream, as received, with where and
 * when it arrived. Records are kept raw (the exact bytes, base64) so that a record the decoder
 * quarantined can be replayed after a fix, and a backtest decodes them with the pipeline's own
 * decoder and its arrival time (docs/backtest.md). Pure: no I/O, no clock.
 *
 * Layout (the same keys in S3 and, locally, under `.vigil/archive/`):
 *
 *   events/date=<YYYY-MM-DD>/<shardId>/<first sequence number>-<last sequence number>.ndjson.gz
 *
 * one gzip-compressed NDJSON object per delivered batch and arrival date (UTC), one
 * {@link ArchivedRecord} per line, in sequence order. The key is a function of the records it
 * holds, so a retried batch rewrites the same object with the same bytes; a batch split
 * differently on a retry (bisect) can leave two objects holding the same record, so readers
 * de-duplicate by shard and sequence number ({@link dedupeRecords}).
 */

/** Key prefix of every archived event object. */
export const ARCHIVE_PREFIX = "events/";

/** Suffix of an archived event object. */
export const ARCHIVE_SUFFIX = ".ndjson.gz";

/** One archived record. */
export interface ArchivedRecord {
  /** Shard the record was read from (`shardId-000000000001`). */
  readonly shardId: string;
  /** Its Kinesis sequence number (a decimal string). */
  readonly sequenceNumber: string;
  /** When it reached the stream (Kinesis `approximateArrivalTimestamp`), ISO-8601 UTC with milliseconds. */
  readonly arrivalTime: string;
  /** The producer's partition key. */
  readonly partitionKey: string;
  /** The record's bytes as received, base64. */
  readonly data: string;
  /** ARN of the stream it was read from. */
  readonly stream: string;
}

/** Schema of one archived line (unknown keys refused: a reader must know every field). */
export const archivedRecordSchema = z.strictObject({
  shardId: z.string().min(1).max(128),
  sequenceNumber: z.string().regex(/^[0-9]{1,128}$/),
  arrivalTime: z.iso.datetime({ offset: true }),
  partitionKey: z.string().max(256),
  data: z.base64(),
  stream: z.string().min(1).max(2048),
});

/** `2026-03-01` for a time (UTC). */
export function archiveDate(arrivalTime: string | number): string {
  return new Date(arrivalTime).toISOString().slice(0, 10);
}

/** The prefix holding every object of one arrival date. */
export function archiveDatePrefix(date: string): string {
  return `${ARCHIVE_PREFIX}date=${date}/`;
}

/**
 * The key of the object holding `records` (non-empty, one shard, one arrival date, in sequence
 * order): a function of the records only, so a retried batch names the same object.
 */
export function archiveObjectKey(records: readonly ArchivedRecord[]): string {
  const first = records[0];
  const last = records[records.length - 1];
  if (first === undefined || last === undefined)
    throw new RangeError("an archive object holds at least one record");
  return `${archiveDatePrefix(archiveDate(first.arrivalTime))}${first.shardId}/${first.sequenceNumber}-${last.sequenceNumber}${ARCHIVE_SUFFIX}`;
}

/**
 * Splits a delivered batch into the objects to write: records grouped by shard and arrival date,
 * in the order given (a Kinesis batch is one shard's records in sequence order).
 */
export function archiveObjects(
  records: readonly ArchivedRecord[],
): { key: string; records: ArchivedRecord[] }[] {
  const groups: ArchivedRecord[][] = [];
  let current: ArchivedRecord[] | undefined;
  for (const record of records) {
    const head = current?.[0];
    if (
      current === undefined ||
      head === undefined ||
      head.shardId !== record.shardId ||
      archiveDate(head.arrivalTime) !== archiveDate(record.arrivalTime)
    ) {
      current = [];
      groups.push(current);
    }
    current.push(record);
  }
  return groups.map((group) => ({ key: archiveObjectKey(group), records: group }));
}

/** The NDJSON text of an object's records (one line each, newline-terminated). */
export function encodeArchiveLines(records: readonly ArchivedRecord[]): string {
  let out = "";
  for (const r of records) {
    out += `${JSON.stringify({
      shardId: r.shardId,
      sequenceNumber: r.sequenceNumber,
      arrivalTime: r.arrivalTime,
      partitionKey: r.partitionKey,
      data: r.data,
      stream: r.stream,
    })}\n`;
  }
  return out;
}

/** A line of an archive object that does not hold an archived record. */
export class ArchiveFormatError extends Error {
  override readonly name = "ArchiveFormatError";
}

/** Parses an object's NDJSON text; throws ArchiveFormatError naming the object and line. */
export function decodeArchiveLines(text: string, key: string): ArchivedRecord[] {
  const out: ArchivedRecord[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new ArchiveFormatError(`${key} line ${i + 1}: not JSON`);
    }
    const parsed = archivedRecordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ArchiveFormatError(
        `${key} line ${i + 1}: ${issue?.path.join(".") || "line"}: ${issue?.message}`,
      );
    }
    out.push(parsed.data);
  }
  return out;
}

/** The dates (YYYY-MM-DD, UTC) whose partitions hold records that arrived in [fromMs, toMs). */
export function archiveDatesBetween(fromMs: number, toMs: number): string[] {
  const out: string[] = [];
  if (!(toMs > fromMs)) return out;
  const day = 86_400_000;
  for (let t = Math.floor(fromMs / day) * day; t < toMs; t += day) out.push(archiveDate(t));
  return out;
}

/**
 * Records without the copies a re-written batch left (same shard and sequence number), the
 * first copy kept, in the order given.
 */
export function dedupeRecords(records: Iterable<ArchivedRecord>): ArchivedRecord[] {
  const seen = new Set<string>();
  const out: ArchivedRecord[] = [];
  for (const r of records) {
    const id = `${r.shardId}\u0000${r.sequenceNumber}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(r);
  }
  return out;
}
