import * as z from "zod";
import type { Outcome } from "#shared/domain/backtest/outcomes";
import type { BacktestTally } from "#shared/domain/backtest/tally";
import type { DecisionKind } from "#shared/domain/decision/index";

/**
 * A stored-vector backtest spread over a Step Functions distributed map (docs/backtest.md, "Past
 * one machine"): the run's description and item list are objects in the archive bucket, each map
 * iteration runs the archive-slice backtest on a batch of archive objects in a Lambda function, and
 * the map's result writer leaves every slice's tally in the bucket, where they are merged. Pure:
 * the layout and the formats, no I/O.
 *
 *   backtests/<runId>/run.json       the run: period, both configurations, outcomes
 *   backtests/<runId>/items.json     the archive objects of the period: [{ "Key", "Size" }]
 *   backtests/<runId>/results/…      written by the map (manifest.json, SUCCEEDED_n.json, …)
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

/** What every slice of a run needs. */
export interface DistributedRun {
  readonly runId: string;
  /** The period, by arrival time: [fromMs, toMs). */
  readonly fromMs: number;
  readonly toMs: number;
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
  Items: z.array(z.object({ Key: z.string().min(1), Size: z.number() })),
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
export const resultFileSchema = z.array(z.object({ Output: z.string().optional(), Status: z.string().optional() }));

/** The tallies in a result file's entries (each child's output is its slice's tally). */
export function talliesOfResultFile(text: string): BacktestTally[] {
  const entries = resultFileSchema.parse(JSON.parse(text));
  return entries.flatMap((e) => (e.Output === undefined ? [] : [JSON.parse(e.Output) as BacktestTally]));
}
