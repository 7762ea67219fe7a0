import type { RuleError, RuleHit } from "#shared/domain/decision/decision";
import type { CompiledRuleset } from "#shared/domain/decision/rules/compile-ruleset";
import type { EventType } from "#shared/domain/event/index";

export { RULE_METRICS } from "#shared/metrics";

import { RULE_METRICS } from "#shared/metrics";

/** One metric value with its dimensions, ready for an EMF publisher (Powertools `singleMetric`). */
export interface MetricEntry {
  readonly name: string;
  readonly unit: "Count";
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** What the metrics need of a decision. */
export interface DecidedRules {
  readonly type: EventType;
  readonly ruleHits: readonly RuleHit[];
  readonly ruleErrors: readonly RuleError[];
}

/**
 * A batch's per-rule counts, dimensioned by `rule` and `mode` (active | shadow), so operators
 * see each rule's volume and, with RuleEvaluations, its interception rate. With the ruleset,
 * every rule evaluated in the batch gets an evaluations and a hits entry (zero included, so a
 * rule that stops hitting shows as zero rather than as missing data); errors appear when
 * non-zero. Without it, only rules that hit or failed appear. Entries come sorted by name, rule
 * and mode, so output is deterministic.
 */
export function ruleMetrics(decisions: readonly DecidedRules[], ruleset?: CompiledRuleset): MetricEntry[] {
  const counts = new Map<string, { name: string; rule: string; mode: string; value: number }>();
  const add = (name: string, rule: string, mode: string, value: number) => {
    const key = `${name}\u0000${rule}\u0000${mode}`;
    const entry = counts.get(key);
    if (entry) entry.value += value;
    else counts.set(key, { name, rule, mode, value });
  };
  for (const d of decisions) {
    for (const r of ruleset?.byScenario[d.type] ?? []) {
      add(RULE_METRICS.evaluations, r.rule.id, r.rule.mode, 1);
      add(RULE_METRICS.hits, r.rule.id, r.rule.mode, 0);
    }
    for (const h of d.ruleHits) add(RULE_METRICS.hits, h.id, h.shadow ? "shadow" : "active", 1);
    for (const e of d.ruleErrors) add(RULE_METRICS.errors, e.id, e.shadow ? "shadow" : "active", 1);
  }
  return [...counts.values()]
    .sort((a, b) => cmp(a.name, b.name) || cmp(a.rule, b.rule) || cmp(a.mode, b.mode))
    .map(({ name, rule, mode, value }) => ({ name, unit: "Count", value, dimensions: { rule, mode } }));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
