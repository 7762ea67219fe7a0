import type { Action, Severity } from "#shared/domain/decision/action";
import type { ListKind } from "#shared/domain/decision/lists/list-schema";
import type { Contribution } from "#shared/domain/decision/model/compile-model";
import type { DecidedBy } from "#shared/domain/decision/policy/resolve-action";

/** A rule whose condition held for the event. */
export interface RuleHit {
  readonly id: string;
  /** The rule's own version (bumped when its content changes). */
  readonly version: number | null;
  readonly action: Action;
  readonly severity: Severity;
  readonly reason: string;
  /** Shadow rules are recorded but never act. */
  readonly shadow: boolean;
}

/** A rule whose evaluation failed for this event (it counts as not hit, and is reported). */
export interface RuleError {
  readonly id: string;
  readonly version: number | null;
  readonly shadow: boolean;
  readonly message: string;
  /** Where in the expression, 1-based. */
  readonly line: number;
  readonly column: number;
}

/** A list entry that matched the event and that the policy acted on. */
export interface ListHit {
  readonly list: "block" | "allow";
  readonly kind: ListKind;
  /** The matching entry (for IP ranges, the range; for email domains, the listed domain). */
  readonly entry: string;
}

/** Versions of everything that took part, so a decision can be reproduced. */
export interface DecisionVersions {
  /** Config-table version of the rules document (null: none configured). */
  readonly rules: number | null;
  readonly lists: number | null;
  /** Active model artifact version. */
  readonly model: string | null;
  /** Shadow (challenger) model artifact version. */
  readonly shadowModel: string | null;
  /** Feature set version from the feature vector. */
  readonly features: string | null;
}

/** What the decision would have been with the shadow rules active and the challenger model in place. */
export interface ShadowOutcome {
  readonly action: Action;
  /** The challenger's score (null without a challenger). */
  readonly score: number | null;
  readonly reasons: readonly string[];
}

/** The engine's decision for one event. */
export interface EngineDecision {
  readonly action: Action;
  readonly decidedBy: DecidedBy;
  /** Active model probability (null without a model). */
  readonly score: number | null;
  /** Hits of active and shadow rules, strongest action first. */
  readonly ruleHits: readonly RuleHit[];
  readonly ruleErrors: readonly RuleError[];
  /** Reason codes, most decisive first. */
  readonly reasons: readonly string[];
  /** The largest positive model contributions, largest first (exact: weight × transformed value). */
  readonly contributions: readonly Contribution[];
  readonly listHits: readonly ListHit[];
  readonly band: { readonly minScore: number; readonly action: Action; readonly reason: string } | null;
  readonly shadow: ShadowOutcome;
  readonly versions: DecisionVersions;
}
