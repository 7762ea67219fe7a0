import { describe, expect, it } from "vitest";
import { resolvePolicies } from "#shared/domain/decision/policy/policy-schema";
import {
  atThreshold,
  bandAction,
  evaluateScores,
  recallAtFpr,
  type ScoredExample,
} from "#shared/domain/training/metrics";

const ex = (score: number, label: 0 | 1, category: string | null = null): ScoredExample => ({
  score,
  label,
  type: "payment",
  category,
});

describe("model metrics", () => {
  const examples = [
    ex(0.99, 1, "card_testing"),
    ex(0.9, 0, "regular"),
    ex(0.8, 1, "card_testing"),
    ex(0.6, 1, "ato"),
    ex(0.4, 0, "regular"),
    ex(0.4, 1, "ato"),
    ex(0.2, 0, "regular"),
    ex(0.1, 0, "vpn"),
  ];

  it("counts an operating point", () => {
    expect(atThreshold(examples, 0.6)).toEqual({
      threshold: 0.6,
      flagged: 4,
      truePositives: 3,
      falsePositives: 1,
      precision: 0.75,
      recall: 0.75,
      fpr: 0.25,
    });
  });

  it("finds the best recall at most at a false-positive rate, moving tied scores together", () => {
    expect(recallAtFpr(examples, 0)).toMatchObject({ threshold: 0.99, recall: 0.25, fpr: 0 });
    expect(recallAtFpr(examples, 0.25)).toMatchObject({ threshold: 0.6, recall: 0.75, fpr: 0.25 });
    // Taking 0.4 would flag a legit and a fraud together: FPR 0.5.
    expect(recallAtFpr(examples, 0.49)).toMatchObject({ threshold: 0.6, recall: 0.75 });
    expect(recallAtFpr(examples, 0.5)).toMatchObject({ threshold: 0.4, recall: 1, fpr: 0.5 });
  });

  it("applies each scenario's bands and reports per category", () => {
    const policies = resolvePolicies({
      default: {
        bands: [
          { minScore: 0.5, action: "review" },
          { minScore: 0.95, action: "block" },
        ],
      },
    });
    expect(bandAction(policies.payment, 0.97)).toBe("block");
    expect(bandAction(policies.payment, 0.49)).toBe("pass");
    const e = evaluateScores(examples, policies);
    expect(e.policy).toMatchObject({
      flagged: 4,
      recall: 0.75,
      fpr: 0.25,
      byAction: { block: 1, review: 3, pass: 4 },
    });
    expect(e.thresholds.map((t) => t.threshold)).toEqual([0.5, 0.95]);
    expect(e.byCategory).toEqual([
      { category: "ato", label: 1, events: 2, flagged: 1, rate: 0.5 },
      { category: "card_testing", label: 1, events: 2, flagged: 2, rate: 1 },
      { category: "regular", label: 0, events: 3, flagged: 1, rate: 1 / 3 },
      { category: "vpn", label: 0, events: 1, flagged: 0, rate: 0 },
    ]);
    // 16 fraud-legit pairs: 12 ranked right, one tie (0.4, 0.4) counted a half.
    expect(e.auc).toBeCloseTo(12.5 / 16, 10);
    expect(e.calibration.reduce((n, b) => n + b.count, 0)).toBe(examples.length);
  });
});
