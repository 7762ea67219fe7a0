import type { EngineDecision } from "#shared/domain/decision/decision";
import type { MetricEntry } from "#shared/domain/decision/rules/rule-metrics";
import { SCORE_METRICS } from "#shared/metrics";

/**
 * A batch's counts of decisions made in a degraded way, as metric entries without dimensions,
 * zeros included (an alarm reads a steady series):
 *
 * - `DecisionsWithoutConfiguredRules`: decisions whose `versions.rules` is not a configured
 *   version (config versions start at 1; 0 is the loader's fallback, the shipped default rules;
 *   null is no rules at all);
 * - `LateEventDecisions`: decisions that needed a feature the event was too late for (`late`).
 */
export function decisionSafetyMetrics(
  decisions: readonly Pick<EngineDecision, "versions" | "late">[],
): MetricEntry[] {
  let withoutConfiguredRules = 0;
  let lateEvents = 0;
  for (const d of decisions) {
    if (d.versions.rules === null || d.versions.rules < 1) withoutConfiguredRules++;
    if (d.late !== undefined) lateEvents++;
  }
  return [
    {
      name: SCORE_METRICS.withoutConfiguredRules,
      unit: "Count",
      value: withoutConfiguredRules,
      dimensions: {},
    },
    { name: SCORE_METRICS.lateEvents, unit: "Count", value: lateEvents, dimensions: {} },
  ];
}
