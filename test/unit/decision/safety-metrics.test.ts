import { describe, expect, it } from "vitest";
import { decisionSafetyMetrics } from "#shared/domain/decision/index";

const versions = (rules: number | null) => ({
  rules,
  lists: 1,
  model: "m",
  shadowModel: null,
  features: "f",
});

describe("decisionSafetyMetrics", () => {
  it("counts decisions without a configured rules version and decisions that needed a late feature", () => {
    expect(
      decisionSafetyMetrics([
        { versions: versions(0) },
        { versions: versions(null), late: { features: ["x"], action: "review" } },
        { versions: versions(4), late: { features: ["y"], action: "pass" } },
        { versions: versions(1) },
      ]),
    ).toEqual([
      { name: "DecisionsWithoutConfiguredRules", unit: "Count", value: 2, dimensions: {} },
      { name: "LateEventDecisions", unit: "Count", value: 2, dimensions: {} },
    ]);
  });

  it("gives zeros for a clean batch and an empty one, so alarms read a steady series", () => {
    for (const batch of [[], [{ versions: versions(7) }]]) {
      expect(decisionSafetyMetrics(batch).map((m) => m.value)).toEqual([0, 0]);
    }
  });
});
