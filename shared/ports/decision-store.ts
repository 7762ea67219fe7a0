import type { EngineDecision } from "#shared/domain/decision/index";
import type { StoredEventFields } from "#shared/domain/decision/model/model-event-fields";
import type { StoredDecisionContent } from "#shared/domain/decision-message/stored-decision";
import type { EventType } from "#shared/domain/event/index";
import type { FeatureVector } from "#shared/domain/features/index";

/**
 * What deciding an event produces (the engine's decision: action, score, rule hits, reasons,
 * contributions, list hits, shadow outcome, versions), before it is stored with the event's
 * identity and features.
 */
export type DecisionContent = EngineDecision;

/**
 * A stored decision, the shape the decisions table holds (one item per eventId). Its content is
 * the engine's decision in stored form: list entries replaced by their keyed pseudonyms and rule
 * error text reduced to its kind (`toStoredDecisionContent`), so the table keeps no raw identifier
 * and no text that can quote one.
 */
export interface DecisionRecord extends StoredDecisionContent {
  readonly eventId: string;
  readonly type: EventType;
  readonly occurredAt?: string;
  readonly decidedAt: string;
  /** The exact feature values the event was decided with. */
  readonly features?: FeatureVector;
  /** The non-identifying event fields a model reads (country, currency, amount), for training sets. */
  readonly eventFields?: StoredEventFields;
  /**
   * The record the event was decided from: stream shard and sequence number. A delivery of that
   * very record recognises the decision as its own (to publish it again and commit its
   * contribution); any other record with the eventId is a re-sent copy.
   */
  readonly source: { readonly shardId: string; readonly sequenceNumber: string };
}

/** Outcome of storing a decision: `duplicate` when a decision for that eventId already stands. */
export type StoreOutcome = "stored" | "duplicate";

/**
 * Where decisions go. Storing is idempotent per eventId: the first decision stands. A put may be
 * answered `duplicate` although the decision standing is the one it wrote (the SDK retried a
 * write that had gone through, or two invocations of one batch raced): callers read the standing
 * decision and compare its `source` before treating it as another record's.
 */
export interface DecisionStore {
  putIfAbsent(decision: DecisionRecord): Promise<StoreOutcome>;
  get(eventId: string): Promise<DecisionRecord | undefined>;
  /** The stored decisions among these eventIds (any number; missing ones are absent). */
  getMany(eventIds: readonly string[]): Promise<ReadonlyMap<string, DecisionRecord>>;
  /**
   * Notes that the record at `source` re-sent `eventId` (a trace for operators: which record
   * repeated which event). Idempotent per record: `stored` the first time, `duplicate` after.
   */
  recordDuplicate(eventId: string, source: DecisionRecord["source"], at: string): Promise<StoreOutcome>;
}
