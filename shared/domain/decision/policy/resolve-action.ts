import { type Action, strongerAction } from "#shared/domain/decision/action";
import type { ScenarioPolicy, ScoreBand } from "#shared/domain/decision/policy/policy-schema";

/**
 * How one scenario's policy turns findings into an action. Precedence, strongest first:
 *
 * 1. a block-list entry of a kind in `policy.blockList` → block;
 * 2. an allow-list entry of a kind in `policy.allowList` → pass (rules and score are still
 *    evaluated and recorded, they just do not act);
 * 3. otherwise the strongest of the active rules' actions, the score band's action and the
 *    floor (the least action the decision must get: rule errors, late features), in the order
 *    block > challenge_face > challenge_sms > review > pass; pass when nothing applies.
 */

/** What decided the action. */
export type DecidedBy = "block_list" | "allow_list" | "rules_and_score";

/** The policy's verdict. */
export interface PolicyVerdict {
  readonly action: Action;
  readonly decidedBy: DecidedBy;
  /** The score band the score fell into, if any (recorded even when a list decided). */
  readonly band: ScoreBand | null;
}

/** The band for a score: the one with the highest minScore at or below it. */
export function bandFor(policy: ScenarioPolicy, score: number | null): ScoreBand | null {
  if (score === null) return null;
  for (const band of policy.bands) if (score >= band.minScore) return band;
  return null;
}

/** Applies the precedence above. */
export function resolveAction(
  policy: ScenarioPolicy,
  findings: {
    readonly blockListed: boolean;
    readonly allowListed: boolean;
    readonly ruleActions: readonly Action[];
    readonly score: number | null;
    /** The least action unless a list decided (rule errors acting, late features); default pass. */
    readonly floor?: Action;
  },
): PolicyVerdict {
  const band = bandFor(policy, findings.score);
  if (findings.blockListed) return { action: "block", decidedBy: "block_list", band };
  if (findings.allowListed) return { action: "pass", decidedBy: "allow_list", band };
  let action: Action = strongerAction(band?.action ?? "pass", findings.floor ?? "pass");
  for (const a of findings.ruleActions) action = strongerAction(action, a);
  return { action, decidedBy: "rules_and_score", band };
}
