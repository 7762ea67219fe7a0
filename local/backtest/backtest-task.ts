import { backtestArchiveSlice } from "#functions/backtest/archive-slice";
import { type RecomputedDecision, recomputeDecisions } from "#functions/backtest/recomputed-features";
import {
  backtestStoredVectors,
  type DecisionLookup,
  type Documents,
  storedVectorDependencies,
} from "#functions/backtest/stored-vectors";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { MapDecisionLookup, readDecisionsFile } from "#shared/adapters/decisions-file";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import { FileObjectStore } from "#shared/adapters/file-object-store";
import { createS3Client, S3ObjectStore } from "#shared/adapters/s3-object-store";
import type { ArchivedRecord } from "#shared/domain/archive/archived-record";
import { compareEventTime, decodeArchivedRecords } from "#shared/domain/backtest/archived-events";
import type { Outcome } from "#shared/domain/backtest/outcomes";
import type { BacktestTally } from "#shared/domain/backtest/tally";
import type { ObjectStore } from "#shared/ports/object-store";

/**
 * One unit of backtest work, as plain data, so that it runs the same in this thread or in a worker
 * thread (docs/backtest.md, "Using both cores"): a slice of the stored-vector path, or one side
 * (before or after) of the recomputed-features path.
 */

export type { Documents };

/** Where the archive's objects are: a local directory or an S3 bucket (with the SDK's variables). */
export type ObjectStoreSpec =
  | { readonly kind: "files"; readonly dir: string }
  | {
      readonly kind: "s3";
      readonly bucket: string;
      readonly env: Readonly<Record<string, string | undefined>>;
    };

/** Where stored decisions are: the decisions table (with the SDK's variables) or a decisions file. */
export type DecisionsSpec =
  | {
      readonly kind: "table";
      readonly table: string;
      readonly env: Readonly<Record<string, string | undefined>>;
    }
  | { readonly kind: "file"; readonly path: string };

/** A unit of work. */
export type BacktestTask =
  | {
      readonly kind: "stored";
      /**
       * Either archive objects to read (with the arrival window) or the records themselves (a
       * file's lines: records without a stream identity, matched to decisions by eventId only).
       */
      readonly archive?: {
        readonly store: ObjectStoreSpec;
        readonly keys: readonly string[];
        readonly fromMs: number;
        readonly toMs: number;
      };
      readonly records?: readonly ArchivedRecord[];
      readonly decisions: DecisionsSpec;
      readonly before: Documents;
      readonly after: Documents;
      readonly featureVersion: string;
      readonly outcomes: ReadonlyArray<readonly [string, Outcome]>;
      /** List every compared event's actions. */
      readonly collectEvents?: boolean;
    }
  | {
      readonly kind: "recompute";
      readonly records: readonly ArchivedRecord[];
      readonly documents: Documents;
      /** Records that arrived before this only build state (warm-up). */
      readonly decideFromMs: number;
    };

/** What a task gives back. */
export type BacktestTaskResult =
  | { readonly kind: "stored"; readonly tally: BacktestTally }
  | { readonly kind: "recompute"; readonly decisions: ReadonlyArray<readonly [string, RecomputedDecision]> };

/** The object store a spec names. */
export function objectStoreFor(spec: ObjectStoreSpec): ObjectStore {
  return spec.kind === "files"
    ? new FileObjectStore(spec.dir)
    : new S3ObjectStore(createS3Client(spec.env), spec.bucket);
}

/** Decisions files read by this thread, by path: every slice of a run reads the same file. */
const decisionFiles = new Map<string, Promise<MapDecisionLookup>>();

/** A lookup of stored decisions for a spec; `close` releases its client. */
export async function decisionLookupFor(spec: DecisionsSpec): Promise<DecisionLookup & { close(): void }> {
  if (spec.kind === "file") {
    let cached = decisionFiles.get(spec.path);
    if (cached === undefined) {
      cached = readDecisionsFile(spec.path).then((d) => new MapDecisionLookup(d));
      decisionFiles.clear();
      decisionFiles.set(spec.path, cached);
    }
    const lookup = await cached;
    return { getMany: (ids) => lookup.getMany(ids), close: () => {} };
  }
  const client = createDynamoDbClient(spec.env);
  const store = new DynamoDbDecisionStore(client, spec.table, 0);
  return { getMany: (ids) => store.getMany(ids), close: () => client.destroy() };
}

/** Runs one task in this thread. */
export async function runBacktestTask(task: BacktestTask): Promise<BacktestTaskResult> {
  if (task.kind === "recompute") {
    const { events } = decodeArchivedRecords(task.records);
    events.sort(compareEventTime);
    const decisions = await recomputeDecisions(events, task.documents, { decideFromMs: task.decideFromMs });
    return { kind: "recompute", decisions: [...decisions] };
  }
  const decisions = await decisionLookupFor(task.decisions);
  try {
    const deps = storedVectorDependencies(task, decisions, task.collectEvents ?? false);
    const tally = task.archive
      ? await backtestArchiveSlice(
          task.archive.keys,
          { fromMs: task.archive.fromMs, toMs: task.archive.toMs },
          { ...deps, store: objectStoreFor(task.archive.store) },
        )
      : await backtestStoredVectors(task.records ?? [], { ...deps, matchSource: false });
    return { kind: "stored", tally };
  } finally {
    decisions.close();
  }
}
