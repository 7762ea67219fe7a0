import type { ArchivedRecord } from "#shared/domain/archive/archived-record";
import { dedupeRecords } from "#shared/domain/archive/archived-record";
import { decodeArchivedRecords } from "#shared/domain/backtest/archived-events";
import type { Outcome } from "#shared/domain/backtest/outcomes";
import { addComparison, addQuarantined, type BacktestTally, emptyTally } from "#shared/domain/backtest/tally";
import { type DecisionEngine, DecisionEngineFactory, type DecisionKind } from "#shared/domain/decision/index";
import type { DecodeLimits } from "#shared/domain/event/index";
import type { DecisionRecord } from "#shared/ports/decision-store";

/** The slice of a stored decision the stored-vector path reads. */
export type StoredDecision = Pick<DecisionRecord, "eventId" | "action" | "decidedAt" | "features"> & {
  readonly source?: DecisionRecord["source"];
};

/** Where stored decisions come from: the decisions table (DecisionStore fits) or a decisions file. */
export interface DecisionLookup {
  getMany(eventIds: readonly string[]): Promise<ReadonlyMap<string, StoredDecision>>;
}

/** What re-deciding a slice needs. */
export interface StoredVectorDependencies {
  readonly decisions: DecisionLookup;
  /** The configuration in force and the candidate. */
  readonly before: DecisionEngine;
  readonly after: DecisionEngine;
  /** Version (hash) of the feature set in force, to count vectors from another one. */
  readonly featureVersion: string;
  readonly outcomes?: ReadonlyMap<string, Outcome>;
  readonly limits?: Partial<DecodeLimits>;
  /** Ids asked of the decision lookup at once. Default 500. */
  readonly lookupBatch?: number;
  /**
   * Whether a record is compared only when its decision names it as its source (archive records,
   * default); false for records without a stream identity (a file), where the first record of an
   * eventId in the slice is compared.
   */
  readonly matchSource?: boolean;
  /** List every compared event's actions in the tally (`events`). */
  readonly collectEvents?: boolean;
}

/**
 * The stored-vector backtest of one slice of the archive: each decodable record's stored decision
 * gives the exact feature vector it was decided with, and both configurations decide it again from
 * that vector, with the decision's own time for list expiry. Exact and independent per event, so
 * slices run in any order, in parallel, on any number of machines, and their tallies add up.
 *
 * A record is compared only when it is the record its event was decided from (the decision's
 * `source`): a re-sent eventId is counted as re-sent, not compared twice. Records the decoder
 * refuses are counted by reason; events without a stored decision (expired, not decided yet) too.
 */
export async function backtestStoredVectors(
  records: readonly ArchivedRecord[],
  deps: StoredVectorDependencies,
): Promise<BacktestTally> {
  const tally = emptyTally(deps.collectEvents ?? false);
  tally.records.read += records.length;
  const unique = dedupeRecords(records);
  tally.records.copies += records.length - unique.length;
  const { events, quarantined } = decodeArchivedRecords(unique, deps.limits);
  for (const reason of quarantined) addQuarantined(tally, reason);

  const batch = deps.lookupBatch ?? 500;
  const seen = new Set<string>();
  for (let start = 0; start < events.length; start += batch) {
    const chunk = events.slice(start, start + batch);
    const stored = await deps.decisions.getMany(chunk.map((e) => e.event.eventId));
    for (const { event, record } of chunk) {
      const decision = stored.get(event.eventId);
      if (decision === undefined || decision.features === undefined) {
        tally.records.withoutDecision++;
        continue;
      }
      const source = deps.matchSource === false ? undefined : decision.source;
      const decidedFromThis =
        source === undefined
          ? !seen.has(event.eventId)
          : source.shardId === record.shardId && source.sequenceNumber === record.sequenceNumber;
      seen.add(event.eventId);
      if (!decidedFromThis) {
        tally.records.resent++;
        continue;
      }
      const now = Date.parse(decision.decidedAt);
      const input = { event, features: decision.features };
      const before = deps.before.decide(input, now);
      const after = deps.after.decide(input, now);
      const outcome = deps.outcomes?.get(event.eventId);
      addComparison(tally, {
        eventId: event.eventId,
        type: event.type,
        before,
        after,
        stored: decision.action,
        otherFeatureVersion: decision.features.version !== deps.featureVersion,
        ...(outcome ? { outcome } : {}),
      });
    }
  }
  return tally;
}

/** One configuration's documents, as stored. */
export type Documents = Readonly<Partial<Record<DecisionKind, unknown>>>;

/** An engine for one configuration's documents (version numbers do not matter to a backtest). */
export function engineFor(documents: Documents, factory = new DecisionEngineFactory()): DecisionEngine {
  return factory.engine({
    ...(documents.rules !== undefined
      ? { rules: factory.rules({ version: 1, document: documents.rules }) }
      : {}),
    ...(documents.lists !== undefined
      ? { lists: factory.lists({ version: 1, document: documents.lists }) }
      : {}),
    ...(documents.model !== undefined
      ? { model: factory.model({ version: 1, document: documents.model }) }
      : {}),
  });
}

/** The part of a planned run every slice decides with (`DistributedRun` has it). */
export interface StoredVectorSlicePlan {
  readonly before: Documents;
  readonly after: Documents;
  readonly featureVersion: string;
  readonly outcomes: ReadonlyArray<readonly [string, Outcome]>;
}

/**
 * What a slice of a planned stored-vector run decides with: an engine per configuration (each
 * from its own factory), the feature version and the outcomes. The worker threads and the Lambda
 * worker both build their slices' dependencies here.
 */
export function storedVectorDependencies(
  plan: StoredVectorSlicePlan,
  decisions: DecisionLookup,
  collectEvents = false,
): StoredVectorDependencies {
  return {
    decisions,
    before: engineFor(plan.before, new DecisionEngineFactory()),
    after: engineFor(plan.after, new DecisionEngineFactory()),
    featureVersion: plan.featureVersion,
    outcomes: new Map(plan.outcomes),
    collectEvents,
  };
}
