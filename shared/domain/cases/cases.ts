import type { Action } from "#shared/domain/decision/action";
import type { EventType } from "#shared/domain/event/index";
import {
  LABEL_SCHEMA_VERSION,
  type Label,
  type LabelValue,
  parseLabel,
} from "#shared/domain/labels/label-schema";

/**
 * The review queue (docs/cases.md). A case is a decision a person should look at: by default
 * every decision whose action is `review`, or whatever a filter selects. Open cases are not
 * copied anywhere: they are the decisions themselves, found after the fact, so the score path
 * does no extra work for them. Resolving a case writes a label (source `review`) and the case's
 * resolution (who, when, which label). The case id is the decided event's eventId.
 */

/** Actions whose decisions are cases unless a filter says otherwise. */
export const DEFAULT_CASE_ACTIONS: readonly Action[] = ["review"];

/** Which decisions are cases. */
export interface CaseFilter {
  /** Decisions with one of these actions (default: review). */
  readonly actions: readonly Action[];
  /** Only this scenario (event type). */
  readonly scenario?: EventType;
  /** Only decisions where this rule hit (active or shadow). */
  readonly rule?: string;
  /** Only decisions made at or after this time (epoch ms). */
  readonly sinceMs?: number;
  /** Only decisions whose model score is at least this. */
  readonly minScore?: number;
}

/** The slice of a stored decision the queue reads (a decisions table item fits). */
export interface CaseDecision {
  readonly eventId: string;
  readonly type: EventType;
  readonly action: Action;
  readonly score: number | null;
  readonly reasons: readonly string[];
  readonly ruleHits: readonly { readonly id: string; readonly shadow: boolean }[];
  readonly occurredAt?: string;
  readonly decidedAt: string;
}

/** Whether a decision is a case under a filter. */
export function isCase(decision: CaseDecision, filter: CaseFilter): boolean {
  if (!filter.actions.includes(decision.action)) return false;
  if (filter.scenario !== undefined && decision.type !== filter.scenario) return false;
  if (filter.rule !== undefined && !decision.ruleHits.some((h) => h.id === filter.rule)) return false;
  if (filter.sinceMs !== undefined && Date.parse(decision.decidedAt) < filter.sinceMs) return false;
  if (filter.minScore !== undefined && (decision.score === null || decision.score < filter.minScore))
    return false;
  return true;
}

/** How a case was resolved, and by whom. */
export interface CaseResolution {
  /** The case id: the decided event's eventId. */
  readonly caseId: string;
  readonly label: LabelValue;
  readonly category?: string;
  readonly note?: string;
  readonly resolvedBy: string;
  /** ISO-8601 UTC. */
  readonly resolvedAt: string;
  /** The label the resolution wrote. */
  readonly labelId: string;
  /** The resolution this one replaced (`--amend`), if any. */
  readonly amends?: { readonly resolvedBy: string; readonly resolvedAt: string; readonly labelId: string };
}

/** What a person decided about a case. */
export interface CaseVerdict {
  readonly label: LabelValue;
  readonly category?: string;
  readonly note?: string;
  readonly resolvedBy: string;
  /** ISO-8601 (stored as UTC). */
  readonly resolvedAt: string;
}

/**
 * The label and the resolution a verdict makes: a `review` label about the case's event,
 * observed when it was resolved, by the resolver. Throws LabelValidationError for a bad category
 * or note.
 */
export function resolveCase(
  caseId: string,
  verdict: CaseVerdict,
): { readonly label: Label; readonly resolution: CaseResolution } {
  const label = parseLabel({
    schemaVersion: LABEL_SCHEMA_VERSION,
    subject: { eventId: caseId },
    label: verdict.label,
    ...(verdict.category === undefined ? {} : { category: verdict.category }),
    source: "review",
    observedAt: verdict.resolvedAt,
    author: verdict.resolvedBy,
    ...(verdict.note === undefined ? {} : { note: verdict.note }),
  });
  return {
    label,
    resolution: {
      caseId,
      label: label.label,
      ...(label.category === undefined ? {} : { category: label.category }),
      ...(label.note === undefined ? {} : { note: label.note }),
      resolvedBy: label.author,
      resolvedAt: label.observedAt,
      labelId: label.labelId,
    },
  };
}
