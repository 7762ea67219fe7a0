import { MemoryStateTable } from "#shared/adapters/memory-state-table";
import { StateStoreEngine } from "#shared/adapters/state-store-engine";
import type { ArchivedEvent } from "#shared/domain/backtest/archived-events";
import type { ComparedDecision } from "#shared/domain/backtest/tally";
import {
  type DecisionDocuments,
  DecisionEngineFactory,
  type DecisionKind,
} from "#shared/domain/decision/index";
import type { EventType } from "#shared/domain/event/index";
import type { RecordSource } from "#shared/domain/features/index";

/** The stream the replay's records are said to come from (the key of their high-water marks). */
const BACKTEST_STREAM = "arn:aws:kinesis:local:000000000000:stream/vigil-backtest";

/** A decision of the recomputed path, by eventId. */
export interface RecomputedDecision extends ComparedDecision {
  readonly type: EventType;
}

/** Options of {@link recomputeDecisions}. */
export interface RecomputeOptions {
  /**
   * Events before this instant (epoch ms of arrival) only build state (warm-up: features reach
   * back before the period); their decisions are not returned.
   */
  readonly decideFromMs?: number;
  /** Called every 1,000 events with the number done. */
  readonly progress?: (done: number) => void;
}

/**
 * Decides events with features recomputed from scratch, as the score function computes them: the
 * same StateStoreEngine over an in-memory table (never live state), one event at a time in the
 * order given (event-time order: `compareEventTime`), each seeing every earlier one, the store's
 * clock and the decision time being the record's arrival. A re-sent eventId keeps its first
 * decision, as in the pipeline.
 *
 * `documents` is one configuration (rules, lists, model, features), all as stored documents.
 */
export async function recomputeDecisions(
  events: readonly ArchivedEvent[],
  documents: Readonly<Partial<Record<DecisionKind, unknown>>>,
  options: RecomputeOptions = {},
): Promise<Map<string, RecomputedDecision>> {
  const versioned: DecisionDocuments = Object.fromEntries(
    Object.entries(documents)
      .filter(([, document]) => document !== undefined)
      .map(([kind, document]) => [kind, { version: 1, document }]),
  );
  const factory = new DecisionEngineFactory();
  const engine = factory.build(versioned);
  if (!versioned.features) throw new Error("a configuration to recompute features with needs a feature set");
  let now = 0;
  const store = new StateStoreEngine(new MemoryStateTable(), factory.features(versioned.features), {
    clock: () => now,
  });
  const out = new Map<string, RecomputedDecision>();
  const decideFrom = options.decideFromMs ?? Number.NEGATIVE_INFINITY;
  let sequence = 0;
  /** The record each decided event was decided from: a re-sent copy is then not counted again. */
  const decidedFrom = new Map<string, RecordSource>();
  for (const { event, arrivalMs } of events) {
    now = arrivalMs;
    sequence++;
    const source = { shardId: "shardId-000000000000", sequenceNumber: String(sequence) };
    const first = decidedFrom.get(event.eventId);
    const pass = await store.prepare(
      [{ event, stream: BACKTEST_STREAM, ...source }],
      first ? new Map([[event.eventId, first]]) : new Map(),
    );
    if (!first) decidedFrom.set(event.eventId, source);
    const vector = pass.vectors.get(event.eventId);
    if (vector && arrivalMs >= decideFrom && !out.has(event.eventId)) {
      const d = engine.decide({ event, features: vector }, arrivalMs);
      out.set(event.eventId, { type: event.type, action: d.action, ruleHits: d.ruleHits });
    }
    const committed = await pass.commit();
    if (committed.failed.length > 0)
      throw new Error(`backtest could not count event ${sequence} into its state`);
    if (sequence % 1000 === 0) options.progress?.(sequence);
  }
  return out;
}
