import { gunzipSync } from "node:zlib";
import { backtestStoredVectors, type StoredVectorDependencies } from "#functions/backtest/stored-vectors";
import {
  ARCHIVE_SUFFIX,
  type ArchivedRecord,
  archiveDatePrefix,
  archiveDatesBetween,
  decodeArchiveLines,
} from "#shared/domain/archive/archived-record";
import type { BacktestTally } from "#shared/domain/backtest/tally";
import type { ObjectStore, StoredObject } from "#shared/ports/object-store";

/** A period of the archive, by arrival time: [fromMs, toMs). */
export interface ArchiveWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

/** The archive objects that may hold records that arrived in the window (whole arrival dates). */
export async function archiveObjectsIn(store: ObjectStore, window: ArchiveWindow): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for (const date of archiveDatesBetween(window.fromMs, window.toMs)) {
    for await (const object of store.list(archiveDatePrefix(date)))
      if (object.key.endsWith(ARCHIVE_SUFFIX)) out.push(object);
  }
  return out;
}

/**
 * The records of some archive objects that arrived in the window, in the order read. Throws
 * ArchiveFormatError for an object that is not an archive object, and an Error for one that is
 * gone (listed, then deleted by the lifecycle).
 */
export async function readArchiveRecords(
  store: ObjectStore,
  keys: readonly string[],
  window: ArchiveWindow,
): Promise<ArchivedRecord[]> {
  const out: ArchivedRecord[] = [];
  for (const key of keys) {
    const body = await store.get(key);
    if (body === undefined) throw new Error(`archive object ${key} is gone`);
    for (const record of decodeArchiveLines(gunzipSync(body).toString("utf8"), key)) {
      const t = Date.parse(record.arrivalTime);
      if (t >= window.fromMs && t < window.toMs) out.push(record);
    }
  }
  return out;
}

/**
 * One slice of a stored-vector backtest over the archive: the records of `keys` that arrived in
 * the window, re-decided from their stored vectors (what a worker thread or a Step Functions map
 * item runs; the tallies of all slices merge into the backtest's).
 */
export async function backtestArchiveSlice(
  keys: readonly string[],
  window: ArchiveWindow,
  deps: StoredVectorDependencies & { readonly store: ObjectStore },
): Promise<BacktestTally> {
  return backtestStoredVectors(await readArchiveRecords(deps.store, keys, window), deps);
}
