import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ScoreBatchCounts } from "#functions/score/score-records";
import type { MetricEntry } from "#shared/domain/decision/index";

export { SCORE_METRICS } from "#shared/metrics";

import { SCORE_METRICS } from "#shared/metrics";

/**
 * Emits one batch's counts as EMF: totals without dimensions, and quarantined records also by
 * reason (one single-metric document per reason, so the reason is a dimension).
 */
export function publishScoreMetrics(metrics: Metrics, counts: ScoreBatchCounts): void {
  for (const key of ["received", "decided", "quarantined", "duplicates", "redelivered", "failed"] as const) {
    metrics.addMetric(SCORE_METRICS[key], MetricUnit.Count, counts[key]);
  }
  metrics.publishStoredMetrics();
  for (const [reason, count] of Object.entries(counts.quarantinedByReason)) {
    const single = metrics.singleMetric();
    single.addDimension("reason", reason);
    single.addMetric(SCORE_METRICS.quarantined, MetricUnit.Count, count);
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
