import * as z from "zod";
import { ARCHIVE_PREFIX } from "#shared/domain/archive/archived-record";
import type { ResolvedCandidate } from "#shared/domain/backtest/configuration";
import type { Outcome } from "#shared/domain/backtest/outcomes";
import { type BacktestReport, buildReport, type ReportContext } from "#shared/domain/backtest/report";
import { type BacktestTally, mergeTallies } from "#shared/domain/backtest/tally";
import { compileFeatureDocument, type DecisionKind } from "#shared/domain/decision/index";

/**
 * A stored-vector backtest spread over a Step Functions distributed map (docs/backtest.md, "Past
 * one machine"): the run's description and item list are objects in the archive bucket, each map
 * iteration runs the archive-slice backtest on a batch of archive objects in a Lambda function, and
 * the map's result writer leaves every slice's tally in the bucket, where they are merged. The
 * local worker-thread path plans its slices with the same {@link planStoredVectorRun} and reports
 * with the same {@link reportOfSlices}, so both paths give one report for one archive. Pure: the
 * layout, the formats, the plan and the merge, no I/O.
 *
 *   backtests/<runId>/run.json       the run: period, both configurations, outcomes
 *   backtests/<runId>/items.json     the archive objects of the period: [{ "Key", "Size" }]
 *   backtests/<runId>/results/…      written by the map (<map run id>/manifest.json, SUCCEEDED_n.json, …)
 */

/** Prefix of every backtest run's objects in the archive bucket. */
export const BACKTEST_RUNS_PREFIX = "backtests/";

/** A run id: letters, digits, `-` and `_` (it names objects and the execution). */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The objects of one run. */
export function runKeys(runId: string) {
  if (!RUN_ID_PATTERN.test(runId)) throw new RangeError(`not a run id: ${runId}`);
  const prefix = `${BACKTEST_RUNS_PREFIX}${runId}/`;
  return { prefix, run: `${prefix}run.json`, items: `${prefix}items.json`, results: `${prefix}results` };
}

/** What every slice of a run needs, and what its report says about the run. */
export interface DistributedRun {
  readonly runId: string;
  /** The period, by arrival time: [fromMs, toMs). */
  readonly fromMs: number;
  readonly toMs: number;
  /** Archive objects of the period (the item list's length). */
  readonly objects: number;
  /** The configuration in force and the candidate, as stored documents. */
  readonly before: Readonly<Partial<Record<DecisionKind, unknown>>>;
  readonly after: Readonly<Partial<Record<DecisionKind, unknown>>>;
  /** Version of the feature set in force (to count vectors from another one). */
  readonly featureVersion: string;
  /** Outcomes of labelled events (labels known at the cutoff). */
  readonly outcomes: ReadonlyArray<readonly [string, Outcome]>;
  /** For the report: versions in force, kinds changed, label cutoff. */
  readonly inForce: Readonly<Partial<Record<DecisionKind, number | null>>>;
  readonly candidate: readonly DecisionKind[];
  readonly cutoff?: string;
}

const outcomeSchema = z.object({ label: z.enum(["fraud", "legit"]), category: z.string() });

/** Schema of run.json. */
export const distributedRunSchema = z.object({
  runId: z.string().regex(RUN_ID_PATTERN),
  fromMs: z.number(),
  toMs: z.number(),
  objects: z.number().int().nonnegative(),
  before: z.record(z.string(), z.unknown()),
  after: z.record(z.string(), z.unknown()),
  featureVersion: z.string(),
  outcomes: z.array(z.tuple([z.string(), outcomeSchema])),
  inForce: z.record(z.string(), z.number().nullable()),
  candidate: z.array(z.string()),
  cutoff: z.string().optional(),
});

/** One map item: an archive object (the distributed map's S3 item shape). */
export interface MapItem {
  readonly Key: string;
  readonly Size: number;
}

/** The event a map iteration passes the worker (ItemBatcher with BatchInput). */
export interface MapBatchEvent {
  readonly Items: readonly MapItem[];
  readonly BatchInput: { readonly runId: string };
}

/** Schema of a map batch event. */
export const mapBatchEventSchema = z.object({
  Items: z.array(z.object({ Key: z.string().startsWith(ARCHIVE_PREFIX), Size: z.number() })),
  BatchInput: z.object({ runId: z.string().regex(RUN_ID_PATTERN) }),
});

/** The result writer's manifest: where the results of each status are. */
export const resultManifestSchema = z.object({
  ResultFiles: z.object({
    SUCCEEDED: z.array(z.object({ Key: z.string() })).default([]),
    FAILED: z.array(z.object({ Key: z.string() })).default([]),
    PENDING: z.array(z.object({ Key: z.string() })).default([]),
  }),
});

/** A result file: one entry per child execution, its output as JSON text. */
export const resultFileSchema = z.array(
  z.object({ Output: z.string().optional(), Status: z.string().optional() }),
);

const counts = z.record(z.string(), z.number());
/** The shape of a slice's tally as a worker returns it (what the merge reads). */
export const tallySchema = z.looseObject({
  records: z.object({
    read: z.number(),
    copies: z.number(),
    quarantined: counts,
    resent: z.number(),
    withoutDecision: z.number(),
  }),
  compared: z.number(),
  changed: z.number(),
  transitions: z.record(z.string(), counts),
  examples: z.record(z.string(), z.record(z.string(), z.array(z.string()))),
  ruleHits: z.record(z.string(), z.object({ before: z.number(), after: z.number() })),
  outcomes: z.record(z.string(), z.record(z.string(), counts)),
  storedDiffers: z.number(),
  otherFeatureVersion: z.number(),
});

/**
 * The tallies in a result file's entries (each succeeded child's output is its slice's tally).
 * Throws on an entry that did not succeed or whose output is not a tally: a report must not
 * silently leave a slice out.
 */
export function talliesOfResultFile(text: string): BacktestTally[] {
  const entries = resultFileSchema.parse(JSON.parse(text));
  return entries.map((e, i) => {
    if (e.Status !== undefined && e.Status !== "SUCCEEDED")
      throw new Error(`result entry ${i} is ${e.Status}, not SUCCEEDED`);
    if (e.Output === undefined) throw new Error(`result entry ${i} has no output`);
    return tallySchema.parse(JSON.parse(e.Output)) as BacktestTally;
  });
}

/** Inputs of {@link planStoredVectorRun}. */
export interface StoredVectorRunInput {
  readonly runId: string;
  readonly resolved: ResolvedCandidate;
  readonly fromMs: number;
  readonly toMs: number;
  readonly objects: number;
  /** Outcomes of the labels known at the cutoff. */
  readonly outcomes: ReadonlyMap<string, Outcome>;
  /** The label cutoff (ISO), when labels were given. */
  readonly cutoff?: string;
}

/**
 * The plan of a stored-vector backtest over a period of the archive: both configurations as
 * documents, the feature set version in force, the outcomes, and what the report names. Every
 * slice, in a worker thread or a Lambda invocation, runs from this.
 */
export function planStoredVectorRun(input: StoredVectorRunInput): DistributedRun {
  const { resolved } = input;
  return {
    runId: input.runId,
    fromMs: input.fromMs,
    toMs: input.toMs,
    objects: input.objects,
    before: resolved.inForce.documents,
    after: resolved.candidate.documents,
    featureVersion: compileFeatureDocument(resolved.inForce.documents.features).version,
    outcomes: [...input.outcomes],
    inForce: resolved.inForce.versions,
    candidate: resolved.changed,
    ...(input.cutoff !== undefined ? { cutoff: input.cutoff } : {}),
  };
}

/** What the report of a planned run says about it (path, period, versions, cutoff). */
export function reportContextOf(run: DistributedRun, notes: readonly string[] = []): ReportContext {
  return {
    path: "stored-vectors",
    source: {
      kind: "archive",
      from: new Date(run.fromMs).toISOString(),
      to: new Date(run.toMs).toISOString(),
      objects: run.objects,
    },
    inForce: run.inForce,
    candidate: run.candidate as readonly DecisionKind[],
    ...(run.cutoff !== undefined ? { cutoff: run.cutoff } : {}),
    notes,
  };
}

/** The report of a planned run from its slices' tallies, in any order: merged, then reported. */
export function reportOfSlices(run: DistributedRun, tallies: readonly BacktestTally[]): BacktestReport {
  return buildReport(mergeTallies(tallies), reportContextOf(run));
}

/** A run id: `bt-` and the start time to the second, then random letters (names are unique per state machine). */
export function newRunId(nowMs: number, random: () => number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const tail = Array.from(
    { length: 6 },
    () => "abcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(random() * 36)],
  );
  return `bt-${stamp}-${tail.join("")}`;
}
