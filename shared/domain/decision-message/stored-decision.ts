import type { EngineDecision, ListHit } from "#shared/domain/decision/decision";
import type { Pseudonymizer } from "#shared/domain/decision-message/pseudonymize";

/**
 * What of an engine decision the decisions table may keep (docs/decisions-stream.md, "What the
 * decisions table keeps"): the table is read by operators and tools, so it holds no raw
 * identifier the decision did not need to name and no error text that can quote a value. Rule
 * error messages need nothing here: the engine records them without event content already
 * (`safeEvaluationMessage`, shared/domain/decision/rules/rule-error.ts).
 */

/** A list hit as stored: the matching entry replaced by its keyed pseudonym (as on the decisions stream). */
export interface PseudonymizedListHit {
  readonly list: ListHit["list"];
  readonly kind: ListHit["kind"];
  /** `pseudonymize(key, kind, entry)`: the value the decision message carries as `entry`. */
  readonly entryPseudonym: string;
}

/** An engine decision as it may be stored: list entries pseudonymized. */
export type StoredDecisionContent = Omit<EngineDecision, "listHits"> & {
  readonly listHits: readonly PseudonymizedListHit[];
};

/**
 * An engine decision in the form the decisions table keeps. `pseudonymizer` is asked only when
 * the decision has list hits (the key load can then be skipped for almost every batch).
 */
export function toStoredDecisionContent(
  decision: EngineDecision,
  pseudonymizer: Pseudonymizer,
): StoredDecisionContent {
  return {
    ...decision,
    listHits: decision.listHits.map((h) => ({
      list: h.list,
      kind: h.kind,
      entryPseudonym: pseudonymizer(h.kind, h.entry),
    })),
  };
}
