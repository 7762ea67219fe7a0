import type { Action, Severity } from "#shared/domain/decision/action";
import type { ListKind } from "#shared/domain/decision/lists/list-schema";
import type { Contribution } from "#shared/domain/decision/model/compile-model";
import type { DecidedBy } from "#shared/domain/decision/policy/resolve-action";
import type { RuleOnError } from "#shared/domain/decision/rules/rule-schema";

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

/**
 * A rule whose evaluation failed for this event, and what its `onError` made of the failure:
 * `miss` (counted as not hit), `hit` (its action applied) or `review` (at least review). A shadow
 * rule's failure acts on the shadow outcome only.
 */
export interface RuleError {
  readonly id: string;
  readonly version: number | null;
  readonly shadow: boolean;
  /**
   * What failed, without event content: the class of the failure, and names only when the
   * operator wrote them in the expression (`field not found: accounts_per_phone_24h`).
   */
  readonly message: string;
  /** What the failure meant for the decision. */
  readonly onError: RuleOnError;
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

/**
 * Features the decision needed but the event was too late for (the feature store gave no value),
 * and the least action the scenario's policy gives such a decision (`lateEventAction`).
 */
export interface LateFeatures {
  /** Late features read by the scenario's active rules or the active model, in the vector's order. */
  readonly features: readonly string[];
  /** The floor applied: the action was raised to at least this unless a list decided. */
  readonly action: Action;
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
  /**
   * Present when a feature the active rules or model read was too late for this event (reason
   * `LATE_EVENT`); absent when none was.
   */
  readonly late?: LateFeatures;
}
