import { type Action, actionRank } from "#shared/domain/decision/action";
import { auc, logLoss } from "#shared/domain/decision/model/fit-model";
import type { ScenarioPolicy } from "#shared/domain/decision/policy/policy-schema";
import type { EventType } from "#shared/domain/event/index";

/**
 * Quality of a model's scores against labels: ranking (AUC, precision-recall curve), calibration,
 * and what the policy's score bands would do with them (precision, recall and false-positive
 * rate of "flagged" = a band with an action other than pass). Pure.
 */

/** One scored, labelled example. */
export interface ScoredExample {
  readonly score: number;
  /** 1 fraud, 0 legit. */
  readonly label: 0 | 1;
  readonly type: EventType;
  readonly category: string | null;
}

/** Confusion counts and rates at one decision rule. */
export interface OperatingPoint {
  readonly threshold: number | null;
  readonly flagged: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  /** TP / (TP + FP); null when nothing was flagged. */
  readonly precision: number | null;
  /** TP / fraud. */
  readonly recall: number;
  /** FP / legit. */
  readonly fpr: number;
}

/** A calibration bin: mean score against the observed fraud rate. */
export interface CalibrationBin {
  readonly count: number;
  readonly meanScore: number;
  readonly fraudRate: number;
}

/** Per label category: how many were flagged (recall for fraud categories, FPR for legit ones). */
export interface CategoryRow {
  readonly category: string;
  readonly label: 0 | 1;
  readonly events: number;
  readonly flagged: number;
  readonly rate: number;
}

/** Everything `vigil model evaluate` prints. */
export interface ModelEvaluation {
  readonly examples: number;
  readonly fraud: number;
  readonly auc: number;
  readonly logLoss: number;
  /** The policy's bands per scenario: flagged = a band whose action is not pass. */
  readonly policy: OperatingPoint & { readonly byAction: Readonly<Partial<Record<Action, number>>> };
  /** At each distinct band threshold of the policy, applied to every scenario alike. */
  readonly thresholds: readonly OperatingPoint[];
  readonly prCurve: readonly OperatingPoint[];
  readonly calibration: readonly CalibrationBin[];
  readonly byCategory: readonly CategoryRow[];
}

function point(
  examples: readonly ScoredExample[],
  flagged: (e: ScoredExample) => boolean,
  threshold: number | null,
): OperatingPoint {
  let tp = 0;
  let fp = 0;
  let fraud = 0;
  for (const e of examples) {
    if (e.label === 1) fraud++;
    if (!flagged(e)) continue;
    if (e.label === 1) tp++;
    else fp++;
  }
  const legit = examples.length - fraud;
  return {
    threshold,
    flagged: tp + fp,
    truePositives: tp,
    falsePositives: fp,
    precision: tp + fp > 0 ? tp / (tp + fp) : null,
    recall: fraud > 0 ? tp / fraud : 0,
    fpr: legit > 0 ? fp / legit : 0,
  };
}

/** Flagged at a score threshold: score ≥ threshold. */
export function atThreshold(examples: readonly ScoredExample[], threshold: number): OperatingPoint {
  return point(examples, (e) => e.score >= threshold, threshold);
}

/** The action a scenario's score bands give a score (pass when no band applies). */
export function bandAction(policy: ScenarioPolicy, score: number): Action {
  let best: { minScore: number; action: Action } | undefined;
  for (const band of policy.bands)
    if (score >= band.minScore && (!best || band.minScore > best.minScore)) best = band;
  return best?.action ?? "pass";
}

/**
 * The highest recall whose false-positive rate is at most `maxFpr`, over every threshold the
 * scores allow (flagged = score ≥ threshold). Ties in score move together.
 */
export function recallAtFpr(examples: readonly ScoredExample[], maxFpr: number): OperatingPoint {
  const sorted = [...examples].sort((a, b) => b.score - a.score);
  const fraud = examples.filter((e) => e.label === 1).length;
  const legit = examples.length - fraud;
  let best: OperatingPoint = point(examples, () => false, null);
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < sorted.length; ) {
    const score = (sorted[i] as ScoredExample).score;
    while (i < sorted.length && (sorted[i] as ScoredExample).score === score) {
      if ((sorted[i] as ScoredExample).label === 1) tp++;
      else fp++;
      i++;
    }
    const fpr = legit > 0 ? fp / legit : 0;
    if (fpr > maxFpr) break;
    best = {
      threshold: score,
      flagged: tp + fp,
      truePositives: tp,
      falsePositives: fp,
      precision: tp / (tp + fp),
      recall: fraud > 0 ? tp / fraud : 0,
      fpr,
    };
  }
  return best;
}

/** Equal-count calibration bins by score. */
export function calibration(examples: readonly ScoredExample[], bins = 10): CalibrationBin[] {
  const sorted = [...examples].sort((a, b) => a.score - b.score);
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const slice = sorted.slice(
      Math.floor((b * sorted.length) / bins),
      Math.floor(((b + 1) * sorted.length) / bins),
    );
    if (slice.length === 0) continue;
    out.push({
      count: slice.length,
      meanScore: slice.reduce((s, e) => s + e.score, 0) / slice.length,
      fraudRate: slice.filter((e) => e.label === 1).length / slice.length,
    });
  }
  return out;
}

/** Evaluates scores against labels and the policy's bands (per scenario). */
export function evaluateScores(
  examples: readonly ScoredExample[],
  policies: Readonly<Record<EventType, ScenarioPolicy>>,
): ModelEvaluation {
  const scores = examples.map((e) => e.score);
  const labels = examples.map((e) => e.label);
  const actionOf = (e: ScoredExample) => bandAction(policies[e.type], e.score);
  const byAction: Partial<Record<Action, number>> = {};
  for (const e of examples) {
    const a = actionOf(e);
    byAction[a] = (byAction[a] ?? 0) + 1;
  }
  const flagged = (e: ScoredExample) => actionRank(actionOf(e)) > actionRank("pass");
  const thresholds = [
    ...new Set(
      Object.values(policies).flatMap((p) =>
        p.bands.filter((b) => b.action !== "pass").map((b) => b.minScore),
      ),
    ),
  ].sort((a, b) => a - b);
  const quantiles = [...new Set(scores)].sort((a, b) => b - a);
  const prCurve: OperatingPoint[] = [];
  const steps = Math.min(20, quantiles.length);
  for (let i = 1; i <= steps; i++) {
    const t = quantiles[
      Math.min(quantiles.length - 1, Math.floor((i * quantiles.length) / steps) - 1)
    ] as number;
    prCurve.push(atThreshold(examples, t));
  }
  const categories = new Map<string, { label: 0 | 1; events: number; flagged: number }>();
  for (const e of examples) {
    const key = `${e.label}\u0000${e.category ?? (e.label === 1 ? "(fraud, no category)" : "(legit, no category)")}`;
    const row = categories.get(key) ?? { label: e.label, events: 0, flagged: 0 };
    row.events++;
    if (flagged(e)) row.flagged++;
    categories.set(key, row);
  }
  return {
    examples: examples.length,
    fraud: labels.filter((l) => l === 1).length,
    auc: auc(scores, labels),
    logLoss: logLoss(scores, labels),
    policy: { ...point(examples, flagged, null), byAction },
    thresholds: thresholds.map((t) => atThreshold(examples, t)),
    prCurve,
    calibration: calibration(examples),
    byCategory: [...categories]
      .map(([key, r]) => ({ category: key.split("\u0000")[1] as string, ...r, rate: r.flagged / r.events }))
      .sort((a, b) => b.label - a.label || a.category.localeCompare(b.category)),
  };
}
