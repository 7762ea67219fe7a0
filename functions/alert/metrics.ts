import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { AlertBatchCounts } from "#functions/alert/alert-records";

export { ALERT_METRICS } from "#shared/metrics";

import { ALERT_METRICS } from "#shared/metrics";

/** Emits a batch's counts: totals, then sent by channel and severity and suppressed by channel. */
export function publishAlertMetrics(metrics: Metrics, counts: AlertBatchCounts): void {
  const total = (m: Readonly<Record<string, number>>) => Object.values(m).reduce((a, b) => a + b, 0);
  metrics.addMetric(ALERT_METRICS.sent, MetricUnit.Count, total(counts.sent));
  metrics.addMetric(ALERT_METRICS.suppressed, MetricUnit.Count, total(counts.suppressed));
  metrics.addMetric(ALERT_METRICS.duplicates, MetricUnit.Count, counts.duplicates);
  metrics.addMetric(ALERT_METRICS.stale, MetricUnit.Count, counts.stale);
  metrics.addMetric(ALERT_METRICS.unreadable, MetricUnit.Count, counts.unreadable);
  metrics.addMetric(ALERT_METRICS.failed, MetricUnit.Count, counts.failed);
  metrics.publishStoredMetrics();
  for (const [key, count] of Object.entries(counts.sent)) {
    const [channel, severity] = key.split(":");
    const single = metrics.singleMetric();
    single.addDimensions({ channel: channel ?? "", severity: severity ?? "" });
    single.addMetric(ALERT_METRICS.sent, MetricUnit.Count, count);
  }
  for (const [channel, count] of Object.entries(counts.suppressed)) {
    const single = metrics.singleMetric();
    single.addDimension("channel", channel);
    single.addMetric(ALERT_METRICS.suppressed, MetricUnit.Count, count);
  }
}
