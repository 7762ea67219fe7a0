import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ScoreBatchResult } from "#functions/score/score-records";
import type { MetricEntry } from "#shared/domain/decision/index";

export { SCORE_METRICS } from "#shared/metrics";

import { SCORE_METRICS } from "#shared/metrics";

/**
 * Emits one batch's score metrics as EMF: the counts without dimensions; quarantined records also
 * by `reason`; the decisions counted now by `scenario` (event type) and `action`; and one
 * put-to-decision latency value per decision counted now (so each decision adds one value over a
 * run, however often its record was delivered).
 */
export function publishScoreMetrics(metrics: Metrics, result: ScoreBatchResult): void {
  const { counts } = result;
  for (const key of ["received", "decided", "quarantined", "duplicates", "redelivered", "failed"] as const) {
    metrics.addMetric(SCORE_METRICS[key], MetricUnit.Count, counts[key]);
  }
  for (const ms of result.putToDecisionMs) {
    metrics.addMetric(SCORE_METRICS.putToDecisionLatency, MetricUnit.Milliseconds, ms);
  }
  metrics.publishStoredMetrics();
  for (const [reason, count] of Object.entries(counts.quarantinedByReason)) {
    const single = metrics.singleMetric();
    single.addDimension("reason", reason);
    single.addMetric(SCORE_METRICS.quarantined, MetricUnit.Count, count);
  }
  const byScenarioAction = new Map<string, { scenario: string; action: string; count: number }>();
  for (const d of result.decided) {
    const key = `${d.type} ${d.action}`;
    const entry = byScenarioAction.get(key) ?? { scenario: d.type, action: d.action, count: 0 };
    entry.count++;
    byScenarioAction.set(key, entry);
  }
  for (const { scenario, action, count } of byScenarioAction.values()) {
    const single = metrics.singleMetric();
    single.addDimension("scenario", scenario);
    single.addDimension("action", action);
    single.addMetric(SCORE_METRICS.decisions, MetricUnit.Count, count);
  }
}

/** Emits dimensioned metric entries (rule hits by rule and mode, config load errors) as EMF. */
export function publishMetricEntries(metrics: Metrics, entries: readonly MetricEntry[]): void {
  for (const entry of entries) {
    if (entry.value === 0 && entry.name !== "RuleEvaluations") continue;
    const single = metrics.singleMetric();
    for (const [name, value] of Object.entries(entry.dimensions)) single.addDimension(name, value);
    single.addMetric(entry.name, MetricUnit.Count, entry.value);
  }
}
