import type { EngineDecision, ListHit, RuleError } from "#shared/domain/decision/decision";
import type { Pseudonymizer } from "#shared/domain/decision-message/pseudonymize";

/**
 * What of an engine decision the decisions table may keep (docs/decisions-stream.md, "What the
 * decisions table keeps"): the table is read by operators and tools, so it holds no raw
 * identifier the decision did not need to name and no error text that can quote a value.
 */

/** A list hit as stored: the matching entry replaced by its keyed pseudonym (as on the decisions stream). */
export interface PseudonymizedListHit {
  readonly list: ListHit["list"];
  readonly kind: ListHit["kind"];
  /** `pseudonymize(key, kind, entry)`: the value the decision message carries as `entry`. */
  readonly entryPseudonym: string;
}

/** An engine decision as it may be stored: list entries pseudonymized, rule error text reduced to its kind. */
export type StoredDecisionContent = Omit<EngineDecision, "listHits"> & {
  readonly listHits: readonly PseudonymizedListHit[];
};

/**
 * Prefixes of CEL evaluation errors whose whole text names only types and operators (never a
 * value), kept as they are; the CEL runtime builds them from type names alone.
 */
const TYPE_ONLY_ERRORS = ["found no matching overload", "type mismatch:", "the condition gave "] as const;

/**
 * Known CEL evaluation errors whose text may go on to name a key, a field or a converted value:
 * only the prefix is kept.
 */
const KNOWN_ERRORS = [
  "no such key",
  "field not found",
  "unresolved attribute",
  "unbound function",
  "undeclared reference",
  "map key conflict",
  "unsupported key type",
  "index out of bounds",
  "divide by zero",
  "modulus by zero",
  "overflow",
  "invalid argument",
] as const;

/**
 * A rule error's message reduced to what cannot quote a value: messages made of type names are
 * kept, known errors keep their kind (`no such key`), anything else becomes `evaluation error`.
 * The full text is never stored; operators reproduce an error with `vigil rules validate` and the
 * decision's stored feature values.
 */
export function storedRuleErrorMessage(message: string): string {
  const typeOnly = TYPE_ONLY_ERRORS.find((p) => message.startsWith(p));
  // Type-only messages are bounded anyway; cap so a pathological one cannot bloat the item.
  if (typeOnly) return message.slice(0, 200);
  const known = KNOWN_ERRORS.find((k) => message.toLowerCase().includes(k));
  return known ?? "evaluation error";
}

/** The stored form of a rule error (every field kept, the message reduced by {@link storedRuleErrorMessage}). */
export function storedRuleError(error: RuleError): RuleError {
  return { ...error, message: storedRuleErrorMessage(error.message) };
}

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
    ruleErrors: decision.ruleErrors.map(storedRuleError),
    listHits: decision.listHits.map((h) => ({
      list: h.list,
      kind: h.kind,
      entryPseudonym: pseudonymizer(h.kind, h.entry),
    })),
  };
}
