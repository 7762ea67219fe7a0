import { archiveObjectsIn, readArchiveRecords } from "#functions/backtest/archive-slice";
import type { RecomputedDecision } from "#functions/backtest/recomputed-features";
import {
  type BacktestTask,
  type BacktestTaskResult,
  type DecisionsSpec,
  type ObjectStoreSpec,
  objectStoreFor,
  runBacktestTask,
} from "#local/backtest/backtest-task";
import { type BacktestWorkerPool, startWorkerPool } from "#local/backtest/worker-pool";
import { type ArchivedRecord, dedupeRecords } from "#shared/domain/archive/archived-record";
import { decodeArchivedRecords } from "#shared/domain/backtest/archived-events";
import { chooseBacktestPath, type ResolvedCandidate } from "#shared/domain/backtest/configuration";
import {
  type DistributedRun,
  planStoredVectorRun,
  reportContextOf,
} from "#shared/domain/backtest/distributed";
import { type Outcome, outcomesAsOf } from "#shared/domain/backtest/outcomes";
import { type BacktestReport, type BacktestSource, buildReport } from "#shared/domain/backtest/report";
import {
  addComparison,
  addQuarantined,
  type BacktestTally,
  type EventActions,
  emptyTally,
  mergeTallies,
} from "#shared/domain/backtest/tally";
import { compileFeatureDocument } from "#shared/domain/decision/index";
import type { Label } from "#shared/domain/labels/index";
import type { StoredObject } from "#shared/ports/object-store";

/** Where a backtest's events come from. */
export type BacktestInput =
  | {
      readonly kind: "archive";
      readonly store: ObjectStoreSpec;
      /** The period, by arrival time: [fromMs, toMs). */
      readonly fromMs: number;
      readonly toMs: number;
      /**
       * Recomputed path: how far before the period records are replayed to build state (features
       * look back up to their window). Default: the longest window of either feature set.
       */
      readonly warmUpMs?: number;
    }
  | {
      readonly kind: "file";
      readonly path: string;
      readonly records: readonly ArchivedRecord[];
      /**
       * Compare only events from this instant on (a file's records arrive when they occurred);
       * earlier ones build feature state on the recomputed path.
       */
      readonly fromMs?: number;
      /** Leave out events from this instant on. */
      readonly toMs?: number;
    };

/** Options of {@link runBacktest}. */
export interface RunBacktestOptions {
  readonly input: BacktestInput;
  readonly resolved: ResolvedCandidate;
  /** Stored decisions (with their vectors); without them features are recomputed. */
  readonly decisions?: DecisionsSpec;
  readonly labels?: readonly Label[];
  /** Labels known at this instant count (default: the period's end, or now for a file). */
  readonly cutoffMs?: number;
  /** Worker threads; 1 runs everything in this thread. */
  readonly threads?: number;
  /** Receives every compared event's actions (before, after), in no particular order. */
  readonly onEvents?: (events: readonly EventActions[]) => void;
  readonly log?: (message: string) => void;
}

/** Splits items into `n` groups of about equal weight (largest first, to the lightest group). */
export function balance<T>(items: readonly T[], n: number, weight: (item: T) => number): T[][] {
  const groups = Array.from({ length: Math.max(1, n) }, () => ({ items: [] as T[], weight: 0 }));
  for (const item of [...items].sort((a, b) => weight(b) - weight(a))) {
    const lightest = groups.reduce((a, b) => (b.weight < a.weight ? b : a));
    lightest.items.push(item);
    lightest.weight += weight(item);
  }
  return groups.map((g) => g.items).filter((g) => g.length > 0);
}

/**
 * Runs a backtest on this machine: the stored-vector path split into slices over the worker
 * threads (archive objects, or chunks of a file), or the recomputed-features path with the two
 * configurations replayed side by side, and returns the report.
 */
export async function runBacktest(options: RunBacktestOptions): Promise<BacktestReport> {
  const log = options.log ?? (() => {});
  const { input, resolved } = options;
  const path = chooseBacktestPath(resolved, options.decisions !== undefined);
  const cutoffMs = options.cutoffMs ?? input.toMs ?? Number.MAX_SAFE_INTEGER;
  const fileRecords =
    input.kind === "file"
      ? input.records.filter((r) => input.toMs === undefined || Date.parse(r.arrivalTime) < input.toMs)
      : [];
  const { outcomes } = outcomesAsOf(options.labels ?? [], cutoffMs);
  const cutoff = labelCutoff(options.labels, cutoffMs);
  const threads = Math.max(1, options.threads ?? 1);
  let pool: Promise<BacktestWorkerPool> | undefined;
  const run = async (task: BacktestTask): Promise<BacktestTaskResult> => {
    if (threads === 1) return runBacktestTask(task);
    pool ??= startWorkerPool(threads);
    return (await pool).run(task);
  };
  const notes: string[] = [];
  try {
    let source: BacktestSource;
    let tally: BacktestTally;
    if (path === "stored-vectors") {
      const decisions = options.decisions as DecisionsSpec;
      const collectEvents = options.onEvents !== undefined;
      let tasks: BacktestTask[];
      if (input.kind === "archive") {
        const objects = await archiveObjectsIn(objectStoreFor(input.store), input);
        const plan = planStoredVectorRun({
          runId: "local",
          resolved,
          fromMs: input.fromMs,
          toMs: input.toMs,
          objects: objects.length,
          outcomes,
          ...(cutoff !== undefined ? { cutoff } : {}),
        });
        source = reportContextOf(plan).source;
        // More slices than threads, so a slow slice does not hold the others back.
        tasks = balance(objects, Math.min(objects.length, threads * 4), (o: StoredObject) => o.size).map(
          (group) => ({
            ...storedTaskOf(plan, decisions, collectEvents),
            archive: {
              store: input.store,
              keys: group.map((o) => o.key),
              fromMs: input.fromMs,
              toMs: input.toMs,
            },
          }),
        );
      } else {
        source = { kind: "file", path: input.path };
        const plan = planStoredVectorRun({
          runId: "local",
          resolved,
          fromMs: input.fromMs ?? 0,
          toMs: input.toMs ?? 0,
          objects: 0,
          outcomes,
        });
        const from = input.fromMs ?? Number.NEGATIVE_INFINITY;
        const records = fileRecords.filter((r) => Date.parse(r.arrivalTime) >= from);
        const size = Math.ceil(records.length / (threads * 4)) || 1;
        tasks = [];
        for (let i = 0; i < records.length; i += size)
          tasks.push({
            ...storedTaskOf(plan, decisions, collectEvents),
            records: records.slice(i, i + size),
          });
      }
      log(`Re-deciding from stored vectors in ${tasks.length} slice(s) on ${threads} thread(s)...`);
      const results = await Promise.all(tasks.map(run));
      tally = mergeTallies(results.map((r) => (r.kind === "stored" ? r.tally : emptyTally())));
    } else {
      let records: ArchivedRecord[];
      let copies = 0;
      let decideFromMs = Number.NEGATIVE_INFINITY;
      if (input.kind === "archive") {
        const warmUp = input.warmUpMs ?? longestWindow(resolved);
        const window = { fromMs: input.fromMs - warmUp, toMs: input.toMs };
        const store = objectStoreFor(input.store);
        const objects = await archiveObjectsIn(store, window);
        source = { kind: "archive", from: iso(input.fromMs), to: iso(input.toMs), objects: objects.length };
        const raw = await readArchiveRecords(
          store,
          objects.map((o) => o.key),
          window,
        );
        records = dedupeRecords(raw);
        copies = raw.length - records.length;
        decideFromMs = input.fromMs;
        if (warmUp > 0)
          notes.push(`features were built from records that arrived from ${iso(window.fromMs)} on (warm-up)`);
      } else {
        source = { kind: "file", path: input.path };
        records = dedupeRecords(fileRecords);
        decideFromMs = input.fromMs ?? Number.NEGATIVE_INFINITY;
      }
      if (options.decisions === undefined && !resolved.featuresChange)
        notes.push(
          "no stored decisions were given: both configurations decided with features recomputed from the events",
        );
      log(`Recomputing features for ${records.length} records, both configurations...`);
      const [before, after] = await Promise.all([
        run({ kind: "recompute", records, documents: resolved.inForce.documents, decideFromMs }),
        run({ kind: "recompute", records, documents: resolved.candidate.documents, decideFromMs }),
      ]);
      tally = tallyRecomputed(
        records,
        decideFromMs,
        decisionsOf(before),
        decisionsOf(after),
        outcomes,
        options.onEvents !== undefined,
      );
      tally.records.copies = copies;
    }
    if (tally.events) options.onEvents?.(tally.events);
    return buildReport(tally, {
      path,
      source,
      inForce: resolved.inForce.versions,
      candidate: resolved.changed,
      ...(cutoff !== undefined ? { cutoff } : {}),
      notes,
    });
  } finally {
    if (pool) await (await pool).close();
  }
}

/** The label cutoff a report names (ISO), when labels were given. */
export function labelCutoff(labels: readonly Label[] | undefined, cutoffMs: number): string | undefined {
  if (!labels || labels.length === 0) return undefined;
  return iso(cutoffMs === Number.MAX_SAFE_INTEGER ? Date.now() : cutoffMs);
}

/** A stored-vector task of a planned run (its slice's archive keys or records are added). */
function storedTaskOf(plan: DistributedRun, decisions: DecisionsSpec, collectEvents: boolean) {
  return {
    kind: "stored" as const,
    decisions,
    before: plan.before,
    after: plan.after,
    featureVersion: plan.featureVersion,
    outcomes: plan.outcomes,
    collectEvents,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function decisionsOf(result: BacktestTaskResult): Map<string, RecomputedDecision> {
  return new Map(result.kind === "recompute" ? result.decisions : []);
}

/** The longest window of the two feature sets, in ms. */
function longestWindow(resolved: ResolvedCandidate): number {
  let longest = 0;
  for (const documents of [resolved.inForce.documents, resolved.candidate.documents])
    for (const f of compileFeatureDocument(documents.features).features)
      longest = Math.max(longest, f.windowMs);
  return longest;
}

/** The tally of the recomputed path: every event of the period decided both ways. */
function tallyRecomputed(
  records: readonly ArchivedRecord[],
  decideFromMs: number,
  before: ReadonlyMap<string, RecomputedDecision>,
  after: ReadonlyMap<string, RecomputedDecision>,
  outcomes: ReadonlyMap<string, Outcome>,
  collectEvents: boolean,
): BacktestTally {
  const tally = emptyTally(collectEvents);
  const inPeriod = records.filter((r) => Date.parse(r.arrivalTime) >= decideFromMs);
  tally.records.read = inPeriod.length;
  const { events, quarantined } = decodeArchivedRecords(inPeriod);
  for (const reason of quarantined) addQuarantined(tally, reason);
  const seen = new Set<string>();
  for (const { event } of events) {
    if (seen.has(event.eventId)) {
      tally.records.resent++;
      continue;
    }
    seen.add(event.eventId);
    const b = before.get(event.eventId);
    const a = after.get(event.eventId);
    // Decided before the period (a re-sent copy of a warm-up event) or never: not compared.
    if (!b || !a) {
      tally.records.resent++;
      continue;
    }
    const outcome = outcomes.get(event.eventId);
    addComparison(tally, {
      eventId: event.eventId,
      type: event.type,
      before: b,
      after: a,
      ...(outcome ? { outcome } : {}),
    });
  }
  return tally;
}
