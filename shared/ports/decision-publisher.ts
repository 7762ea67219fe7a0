import type { CleanEvent } from "#shared/domain/event/index";
import type { DecisionRecord } from "#shared/ports/decision-store";

/** One stored decision with the event it decided, to be published. */
export interface DecidedEvent {
  readonly event: CleanEvent;
  readonly decision: DecisionRecord;
}

/**
 * Where decisions go for alerting and audit (the decisions stream). At least once: publishing
 * a decision twice is harmless, since consumers are idempotent per eventId. Throws when some
 * could not be published; the caller retries the batch.
 */
export interface DecisionPublisher {
  publish(decided: readonly DecidedEvent[]): Promise<void>;
}
