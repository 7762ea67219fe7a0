import type { EngineDecision } from "#shared/domain/decision/index";
import type { StoredEventFields } from "#shared/domain/decision/model/model-event-fields";
import type { EventType } from "#shared/domain/event/index";
import type { FeatureVector } from "#shared/domain/features/index";

/**
 * What deciding an event produces (the engine's decision: action, score, rule hits, reasons,
 * contributions, list hits, shadow outcome, versions), before it is stored with the event's
 * identity and features.
 */
export type DecisionContent = EngineDecision;

/** A stored decision, the shape the decisions table holds (one item per eventId). */
export interface DecisionRecord extends DecisionContent {
  readonly eventId: string;
  readonly type: EventType;
  readonly occurredAt?: string;
  readonly decidedAt: string;
  /** The exact feature values the event was decided with. */
  readonly features?: FeatureVector;
  /** The non-identifying event fields a model reads (country, currency, amount), for training sets. */
  readonly eventFields?: StoredEventFields;
  /** Where the event came from: stream shard and sequence number, for tracing a decision back. */
  readonly source: { readonly shardId: string; readonly sequenceNumber: string };
}

/** Outcome of storing a decision: `duplicate` when a decision for that eventId already stands. */
export type StoreOutcome = "stored" | "duplicate";

/** Where decisions go. Storing is idempotent per eventId: the first decision stands. */
export interface DecisionStore {
  putIfAbsent(decision: DecisionRecord): Promise<StoreOutcome>;
  get(eventId: string): Promise<DecisionRecord | undefined>;
  /** The stored decisions among these eventIds (any number; missing ones are absent). */
  getMany(eventIds: readonly string[]): Promise<ReadonlyMap<string, DecisionRecord>>;
  /**
   * Notes that the record at `source` re-sent `eventId`. Idempotent per record, so a redelivered
   * duplicate is recognised and counted once: `stored` the first time, `duplicate` after.
   */
  recordDuplicate(eventId: string, source: DecisionRecord["source"], at: string): Promise<StoreOutcome>;
}
