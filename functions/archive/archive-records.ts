import { gzipSync } from "node:zlib";
import type { KinesisStreamBatchResponse, KinesisStreamRecord } from "aws-lambda";
import {
  type ArchivedRecord,
  archiveObjects,
  encodeArchiveLines,
} from "#shared/domain/archive/archived-record";
import type { ObjectStore } from "#shared/ports/object-store";

/** The slice of a logger the use case needs (Powertools' Logger fits). */
export interface ArchiveLogger {
  info(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

/** What archiving a batch needs. */
export interface ArchiveDependencies {
  readonly store: ObjectStore;
  readonly logger: ArchiveLogger;
}

/** What became of a batch. */
export interface ArchiveBatchCounts {
  /** Records written to the archive. */
  readonly archived: number;
  /** Objects written. */
  readonly objects: number;
  /** Records reported back for retry (their object, or an earlier one of the batch, failed). */
  readonly failed: number;
}

/** The archived form of a delivered record: its bytes as received and where they came from. */
export function toArchivedRecord(record: KinesisStreamRecord): ArchivedRecord {
  const id = record.eventID;
  return {
    shardId: id.slice(0, id.lastIndexOf(":")),
    sequenceNumber: record.kinesis.sequenceNumber,
    arrivalTime: new Date(Math.round(record.kinesis.approximateArrivalTimestamp * 1000)).toISOString(),
    partitionKey: record.kinesis.partitionKey,
    data: record.kinesis.data,
    stream: record.eventSourceARN,
  };
}

/**
 * Archives one delivered batch (one shard's records, in sequence order): one gzip NDJSON object per
 * arrival date, every record kept as received, decodable or not (a quarantined record can be
 * replayed from here after a fix). Objects are written in order; when one cannot be written, its
 * first record is reported back, so the mapping retries from there (earlier objects stay written,
 * and writing one again gives the same key and bytes). Never throws for a record: nothing in a
 * record can make it unarchivable.
 */
export async function archiveRecords(
  records: readonly KinesisStreamRecord[],
  deps: ArchiveDependencies,
): Promise<{ readonly response: KinesisStreamBatchResponse; readonly counts: ArchiveBatchCounts }> {
  const objects = archiveObjects(records.map(toArchivedRecord));
  let archived = 0;
  let written = 0;
  for (const [i, object] of objects.entries()) {
    try {
      // mtime 0 and a fixed level: the same records always give the same bytes.
      const body = gzipSync(Buffer.from(encodeArchiveLines(object.records), "utf8"), { level: 6 });
      await deps.store.put(object.key, body, { contentType: "application/gzip" });
      archived += object.records.length;
      written++;
    } catch (error) {
      const failed = objects.slice(i).reduce((n, o) => n + o.records.length, 0);
      const first = object.records[0];
      deps.logger.error("archive object could not be written; the batch is retried from it", {
        error: error instanceof Error ? error.name : String(error),
        records: failed,
      });
      return {
        response: { batchItemFailures: first ? [{ itemIdentifier: first.sequenceNumber }] : [] },
        counts: { archived, objects: written, failed },
      };
    }
  }
  deps.logger.info("batch archived", { records: archived, objects: written });
  return { response: { batchItemFailures: [] }, counts: { archived, objects: written, failed: 0 } };
}
