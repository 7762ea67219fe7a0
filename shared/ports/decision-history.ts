import type { Action } from "#shared/domain/decision/action";

/** One earlier (or later) decision about the same entity, as the audit trail keeps it. */
export interface HistoryEntry {
  readonly eventId: string;
  readonly type: string;
  readonly action: Action;
  readonly score: number | null;
  readonly reasons: readonly string[];
  readonly occurredAt: string;
  readonly decidedAt: string;
}

/** The recent decisions of the account an event was about, newest first. */
export interface EntityHistory {
  /** Which entity: the account (`user`), by its pseudonym in the audit trail. */
  readonly entity: "user";
  readonly pseudonym: string;
  readonly decisions: readonly HistoryEntry[];
}

/**
 * An entity's recent history for the review queue, from the audit trail (OpenSearch on AWS, the
 * audit files locally): the decisions table has no entity keys, the audit trail has their
 * pseudonyms, which is all a reviewer needs to see a pattern without raw identifiers.
 */
export interface DecisionHistory {
  /** The decisions of the event's account (the event included), newest first, at most `limit`; undefined when the audit trail does not have the event (yet). */
  ofEvent(eventId: string, limit: number): Promise<EntityHistory | undefined>;
}
