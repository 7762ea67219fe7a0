import { describe, expect, it } from "vitest";
import { configLoadMetrics } from "#shared/adapters/decision-config-loader";
import { compileRuleset, ruleMetrics } from "#shared/domain/decision/index";

const rule = (id: string, mode: string, scenarios: string[]) => ({
  id,
  description: id,
  scenarios,
  when: "true",
  action: "review",
  severity: "low",
  mode,
  version: 1,
});

describe("per-rule metrics", () => {
  const ruleset = compileRuleset({
    rules: [
      rule("a", "active", ["payment", "order"]),
      rule("b", "shadow", ["payment"]),
      rule("c", "active", ["login"]),
    ],
  });
  const hit = (id: string, shadow: boolean) => ({
    id,
    version: 1,
    action: "review" as const,
    severity: "low" as const,
    reason: id.toUpperCase(),
    shadow,
  });

  it("counts evaluations, hits (zeros included) and errors by rule and mode", () => {
    const metrics = ruleMetrics(
      [
        { type: "payment", ruleHits: [hit("a", false), hit("b", true)], ruleErrors: [] },
        {
          type: "payment",
          ruleHits: [hit("a", false)],
          ruleErrors: [
            { id: "b", version: 1, shadow: true, message: "x", line: 1, column: 1, onError: "miss" },
          ],
        },
        { type: "order", ruleHits: [], ruleErrors: [] },
      ],
      ruleset,
    );
    expect(metrics).toEqual([
      { name: "RuleErrors", unit: "Count", value: 1, dimensions: { rule: "b", mode: "shadow" } },
      { name: "RuleEvaluations", unit: "Count", value: 3, dimensions: { rule: "a", mode: "active" } },
      { name: "RuleEvaluations", unit: "Count", value: 2, dimensions: { rule: "b", mode: "shadow" } },
      { name: "RuleHits", unit: "Count", value: 2, dimensions: { rule: "a", mode: "active" } },
      { name: "RuleHits", unit: "Count", value: 1, dimensions: { rule: "b", mode: "shadow" } },
    ]);
  });

  it("without the ruleset counts only what happened", () => {
    expect(ruleMetrics([{ type: "login", ruleHits: [hit("c", false)], ruleErrors: [] }])).toEqual([
      { name: "RuleHits", unit: "Count", value: 1, dimensions: { rule: "c", mode: "active" } },
    ]);
    expect(ruleMetrics([])).toEqual([]);
  });

  it("counts config load errors by kind", () => {
    expect(
      configLoadMetrics([
        { kind: "rules", version: 3, message: "x" },
        { kind: "store", message: "y" },
        { kind: "rules", version: 3, message: "x" },
      ]),
    ).toEqual([
      { name: "ConfigLoadErrors", unit: "Count", value: 2, dimensions: { kind: "rules" } },
      { name: "ConfigLoadErrors", unit: "Count", value: 1, dimensions: { kind: "store" } },
    ]);
  });
});
