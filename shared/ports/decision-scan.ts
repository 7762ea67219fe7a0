import type { Action } from "#shared/domain/decision/action";
import type { EventType } from "#shared/domain/event/index";
import type { DecisionRecord } from "#shared/ports/decision-store";

/** Which stored decisions to read; every bound is optional, times are ISO-8601 UTC. */
export interface DecisionScanFilter {
  /** occurredAt ≥ this. */
  readonly occurredFrom?: string;
  /** occurredAt < this. */
  readonly occurredTo?: string;
  /** decidedAt ≥ this. */
  readonly decidedFrom?: string;
  /** decidedAt < this. */
  readonly decidedTo?: string;
  readonly actions?: readonly Action[];
  readonly types?: readonly EventType[];
}

/**
 * Reads stored decisions in bulk, for the review queue and training sets: off the score path,
 * in no particular order (callers sort). On DynamoDB it is a filtered parallel Scan, which reads
 * the whole table (see docs/cases.md for what that costs and when to move it to the audit index).
 */
export interface DecisionScan {
  scan(filter: DecisionScanFilter): AsyncIterable<DecisionRecord>;
}

/** Whether a decision passes a scan filter (the memory scan and tests use it). */
export function matchesScanFilter(decision: DecisionRecord, filter: DecisionScanFilter): boolean {
  const occurred = decision.occurredAt ?? "";
  if (filter.occurredFrom !== undefined && !(occurred >= filter.occurredFrom)) return false;
  if (filter.occurredTo !== undefined && !(occurred < filter.occurredTo)) return false;
  if (filter.decidedFrom !== undefined && !(decision.decidedAt >= filter.decidedFrom)) return false;
  if (filter.decidedTo !== undefined && !(decision.decidedAt < filter.decidedTo)) return false;
  if (filter.actions !== undefined && !filter.actions.includes(decision.action)) return false;
  if (filter.types !== undefined && !filter.types.includes(decision.type)) return false;
  return true;
}
