import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { AuditBatchCounts } from "#functions/audit/audit-records";

export { AUDIT_METRICS } from "#shared/metrics";

import { AUDIT_METRICS } from "#shared/metrics";

/** Emits a batch's counts: totals, and quarantined records also by reason. */
export function publishAuditMetrics(metrics: Metrics, counts: AuditBatchCounts): void {
  const quarantined = Object.values(counts.quarantined).reduce((a, b) => a + (b ?? 0), 0);
  metrics.addMetric(AUDIT_METRICS.indexed, MetricUnit.Count, counts.indexed);
  metrics.addMetric(AUDIT_METRICS.existing, MetricUnit.Count, counts.existing);
  metrics.addMetric(AUDIT_METRICS.quarantined, MetricUnit.Count, quarantined);
  metrics.addMetric(AUDIT_METRICS.failed, MetricUnit.Count, counts.failed);
  metrics.publishStoredMetrics();
  for (const [reason, count] of Object.entries(counts.quarantined)) {
    const single = metrics.singleMetric();
    single.addDimension("reason", reason);
    single.addMetric(AUDIT_METRICS.quarantined, MetricUnit.Count, count ?? 0);
  }
}
