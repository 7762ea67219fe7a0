import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type ConfigValidationError,
  compileModel,
  compileModelDocument,
  formatIssue,
  MODEL_FORMAT,
  type ModelArtifact,
  sigmoid,
  topContributions,
} from "#shared/domain/decision/index";
import { auc, fitLogistic, logLoss } from "#shared/domain/decision/model/fit-model";
import { defaultModelDocument } from "../../support/default-model.ts";
import { cleanEvent, T0 } from "./helpers.ts";

const HOUR = 3_600_000;

/** Weights chosen as binary fractions, so every product and sum below is exact. */
const artifact: ModelArtifact = {
  format: MODEL_FORMAT,
  id: "test-lr",
  version: "t1",
  createdAt: "2026-05-01T00:00:00.000Z",
  provenance: { method: "hand-set for tests", data: "none" },
  intercept: -2,
  terms: [
    {
      name: "a",
      input: { feature: "f1" },
      transform: { type: "standardize", mean: 2, std: 4, weight: 0.5 },
      reason: "A",
    },
    {
      name: "b",
      input: { feature: "f2" },
      transform: { type: "standardize", log1p: true, clip: [0, 2], mean: 1, std: 0.5, weight: 2 },
      reason: "B",
    },
    {
      name: "c",
      input: { feature: "f3" },
      transform: { type: "standardize", mean: 0, std: 1, weight: 0.25, missing: -1 },
      reason: "C",
    },
    {
      name: "d",
      input: { event: "type" },
      transform: { type: "onehot", weights: { payment: 0.75, login: -1 } },
      reason: "D",
    },
    {
      name: "e",
      input: { feature: "f4", ageIn: "h" },
      transform: { type: "bins", edges: [1, 24], weights: [1.5, 0.5, -0.5] },
      reason: "E",
    },
    {
      name: "f",
      input: { event: "geo.country" },
      transform: { type: "onehot", weights: { US: 0.125 }, missingWeight: 0.0625 },
      reason: "F",
    },
    {
      name: "g",
      input: { feature: "f5" },
      transform: { type: "bins", edges: [10], weights: [0, 1], missingWeight: 0.375 },
      reason: "G",
    },
  ],
};

describe("model scoring", () => {
  const model = compileModel(artifact);
  const event = cleanEvent("payment");
  const features = { f1: 10, f2: 100, f3: null, f4: T0 - 2 * HOUR };

  it("gives each term exactly weight × transformed value, and the score from their sum", () => {
    const s = model.score({ event, eventMs: T0, features });
    expect(s.contributions).toEqual([
      { term: "a", input: "f1", value: 10, transformed: 2, weight: 0.5, contribution: 1, reason: "A" },
      // ln(101) ≈ 4.6 is clipped to 2 before standardizing.
      { term: "b", input: "f2", value: 100, transformed: 2, weight: 2, contribution: 4, reason: "B" },
      {
        term: "c",
        input: "f3",
        value: null,
        transformed: -1,
        weight: 0.25,
        contribution: -0.25,
        reason: "C",
      },
      {
        term: "d",
        input: "event.type",
        value: "payment",
        transformed: 1,
        weight: 0.75,
        contribution: 0.75,
        reason: "D",
      },
      { term: "e", input: "age(f4)", value: 2, transformed: 1, weight: 0.5, contribution: 0.5, reason: "E" },
      {
        term: "f",
        input: "event.geo.country",
        value: "US",
        transformed: 1,
        weight: 0.125,
        contribution: 0.125,
        reason: "F",
      },
      {
        term: "g",
        input: "f5",
        value: null,
        transformed: 1,
        weight: 0.375,
        contribution: 0.375,
        reason: "G",
      },
    ]);
    expect(s.logit).toBe(4.5);
    expect(s.score).toBe(1 / (1 + Math.exp(-4.5)));
  });

  it("reads unknown categories as contributing nothing and bins at their edges", () => {
    const s = model.score({
      event: cleanEvent("order", { geo: { country: "FR" } }),
      eventMs: T0,
      features: { f1: 2, f2: 0, f4: T0 - 24 * HOUR, f5: 10 },
    });
    const by = Object.fromEntries(s.contributions.map((c) => [c.term, c.contribution]));
    // f1 at the mean: 0; f2: ln(1) = 0, (0 − 1) / 0.5 = −2, × 2; f3 absent (−1 × 0.25); order and FR unknown.
    expect(by).toEqual({ a: 0, b: -4, c: -0.25, d: 0, e: -0.5, f: 0, g: 1 });
    expect(s.logit).toBe(-2 + 0 - 4 - 0.25 + 0 - 0.5 + 0 + 1);
  });

  it("ranks positive contributions for reason codes, largest first, ties in term order", () => {
    const s = model.score({ event, eventMs: T0, features });
    expect(topContributions(s.contributions, 3).map((c) => c.reason)).toEqual(["B", "A", "D"]);
    const tied = topContributions(
      [
        { term: "x", input: "x", value: 1, transformed: 1, weight: 1, contribution: 1, reason: "X" },
        { term: "y", input: "y", value: 1, transformed: 1, weight: 1, contribution: 1, reason: "Y" },
        { term: "z", input: "z", value: 1, transformed: 1, weight: -1, contribution: -1, reason: "Z" },
      ],
      5,
    );
    expect(tied.map((c) => c.term)).toEqual(["x", "y"]);
  });

  it("computes the logistic function without overflow at the extremes", () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(1_000)).toBe(1);
    expect(sigmoid(-1_000)).toBe(0);
    expect(sigmoid(-745)).toBeGreaterThan(0);
  });

  it("refuses malformed artifacts and unknown features with their paths", () => {
    const bad = {
      active: {
        ...artifact,
        terms: [{ ...artifact.terms[4], transform: { type: "bins", edges: [1, 24], weights: [1, 2] } }],
      },
    };
    try {
      compileModelDocument(bad);
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigValidationError).issues.map(formatIssue)).toEqual([
        "active.terms[0].transform: bins need exactly edges.length + 1 weights",
      ]);
    }
    try {
      compileModelDocument({ active: artifact }, { knownFeatures: new Set(["f1", "f2", "f3", "f4"]) });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigValidationError).issues.map(formatIssue)).toEqual([
        "active.terms[6].input.feature: unknown feature 'f5'",
      ]);
    }
  });
});

describe("model fitting", () => {
  it("finds the maximum-likelihood weights of a logistic regression", () => {
    // p(y=1 | x=1) = 3/4 and p(y=1 | x=−1) = 1/4: the MLE is intercept 0, slope ln 3.
    const X = [...Array.from({ length: 4 }, () => [1, 1]), ...Array.from({ length: 4 }, () => [1, -1])];
    const y = [1, 1, 1, 0, 1, 0, 0, 0];
    const fit = fitLogistic(X, y, { l2: 0 });
    expect(fit.coefficients[0]).toBeCloseTo(0, 12);
    expect(fit.coefficients[1]).toBeCloseTo(Math.log(3), 12);
  });

  it("measures AUC with ties counted half and log loss", () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(auc([0.5, 0.5], [0, 1])).toBe(0.5);
    expect(logLoss([0.5, 0.5], [0, 1])).toBe(Math.log(2));
  });

  it("reproduces the previous default model (the champion the shipped one was trained under) exactly from its spec, seeds and script", () => {
    const committed = JSON.parse(
      readFileSync(new URL("../../../local/training/previous-champion-model.json", import.meta.url), "utf8"),
    );
    expect(defaultModelDocument()).toEqual(committed);
    expect(() => compileModelDocument(committed)).not.toThrow();
  });
});
