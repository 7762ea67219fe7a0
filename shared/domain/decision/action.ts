/**
 * The responses Vigil can give an event, and their order. One list so that rules, score bands,
 * lists and alerts cannot disagree about which response is the stronger one.
 */

/** Every action, from the mildest to the strongest. */
export const ACTIONS = ["pass", "review", "challenge_sms", "challenge_face", "block"] as const;

/** One of ACTIONS. */
export type Action = (typeof ACTIONS)[number];

const RANK: Readonly<Record<Action, number>> = {
  pass: 0,
  review: 1,
  challenge_sms: 2,
  challenge_face: 3,
  block: 4,
};

/** Position of an action in the severity order block > challenge_face > challenge_sms > review > pass. */
export function actionRank(action: Action): number {
  return RANK[action];
}

/** The stronger of two actions. */
export function strongerAction(a: Action, b: Action): Action {
  return RANK[b] > RANK[a] ? b : a;
}

/** How serious a rule's finding is, for reason ordering and alert routing (not the action). */
export const SEVERITIES = ["low", "medium", "high", "critical"] as const;

/** One of SEVERITIES. */
export type Severity = (typeof SEVERITIES)[number];

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { low: 0, medium: 1, high: 2, critical: 3 };

/** Position of a severity in low < medium < high < critical. */
export function severityRank(severity: Severity): number {
  return SEVERITY_RANK[severity];
}
