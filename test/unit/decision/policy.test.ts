import { describe, expect, it } from "vitest";
import {
  compileModelDocument,
  compileRuleset,
  DecisionEngine,
  type EngineParts,
  ListIndex,
  MODEL_FORMAT,
  type ModelArtifact,
  resolvePolicies,
  validateListsDocument,
} from "#shared/domain/decision/index";
import { cleanEvent, input, T0 } from "./helpers.ts";

const rule = (
  id: string,
  action: string,
  severity: string,
  when: string,
  mode = "active",
  scenarios = ["payment"],
) => ({
  id,
  description: id,
  scenarios,
  when,
  action,
  severity,
  mode,
  version: 1,
});

const rules = compileRuleset({
  policy: {
    default: {
      bands: [
        { minScore: 0.5, action: "review" },
        { minScore: 0.9, action: "block", reason: "SCORE_VERY_HIGH" },
      ],
    },
    scenarios: {
      login: { bands: [{ minScore: 0.5, action: "challenge_sms" }] },
      payment: { allowList: ["user", "card"] },
      order: { blockList: ["user"] },
    },
  },
  rules: [
    rule("r_review", "review", "low", "has(features.x) && features.x >= 1.0"),
    rule("r_sms", "challenge_sms", "high", "has(features.y) && features.y >= 1.0"),
    rule("r_review_hi", "review", "critical", "has(features.w) && features.w >= 1.0"),
    rule("r_block_shadow", "block", "critical", "has(features.z) && features.z >= 1.0", "shadow"),
    rule("r_office", "review", "low", "!lists.allow.ip && has(features.x) && features.x >= 5.0", "active", [
      "order",
    ]),
  ],
});

const model = (id: string, version: string, weight: number): ModelArtifact => ({
  format: MODEL_FORMAT,
  id,
  version,
  createdAt: "2026-05-01T00:00:00.000Z",
  provenance: { method: "hand-set for tests", data: "none" },
  intercept: 0,
  terms: [
    {
      name: "s",
      input: { feature: "s" },
      transform: { type: "standardize", mean: 0, std: 1, weight },
      reason: "S_HIGH",
    },
    {
      name: "t",
      input: { feature: "t" },
      transform: { type: "standardize", mean: 0, std: 1, weight: 1 },
      reason: "T_HIGH",
    },
  ],
});

const stamp = { addedBy: "ops", addedAt: "2026-05-01T00:00:00.000Z" };
const lists = new ListIndex(
  validateListsDocument({
    lists: {
      block: [
        { kind: "device", value: "bad-device", ...stamp },
        { kind: "user", value: "bad-user", ...stamp },
      ],
      allow: [
        { kind: "user", value: "vip", ...stamp },
        { kind: "card", value: "test-card", ...stamp },
        { kind: "ip", value: "203.0.113.0/24", ...stamp },
      ],
    },
  }),
);

const models = compileModelDocument({
  active: model("champion", "c1", 1),
  shadow: model("challenger", "s1", -1),
});
const parts: EngineParts = {
  rules: { version: 12, ruleset: rules },
  lists: { version: 4, index: lists },
  model: { active: models.active, ...(models.shadow ? { shadow: models.shadow } : {}) },
};
const engine = new DecisionEngine(parts);
const decide = (type: Parameters<typeof cleanEvent>[0], values: Record<string, number | null>, over = {}) =>
  engine.decide(input(cleanEvent(type, over), { s: -10, t: 0, ...values }), T0);

describe("policy", () => {
  it("passes when nothing is found and the score is below every band", () => {
    const d = decide("payment", {});
    expect(d).toMatchObject({
      action: "pass",
      decidedBy: "rules_and_score",
      reasons: [],
      band: null,
      listHits: [],
    });
    expect(d.score).toBe(Math.exp(-10) / (1 + Math.exp(-10)));
    expect(d.versions).toEqual({ rules: 12, lists: 4, model: "c1", shadowModel: "s1", features: "fs-test" });
  });

  it("maps the score to the highest band at or below it, with the model's reasons", () => {
    const review = decide("payment", { s: 0, t: 0.5 });
    expect(review.score).toBe(1 / (1 + Math.exp(-0.5)));
    expect(review.action).toBe("review");
    expect(review.band).toEqual({ minScore: 0.5, action: "review", reason: "MODEL_SCORE_REVIEW" });
    expect(review.reasons).toEqual(["MODEL_SCORE_REVIEW", "T_HIGH"]);
    const block = decide("payment", { s: 3 });
    expect(block.action).toBe("block");
    expect(block.reasons).toEqual(["SCORE_VERY_HIGH", "S_HIGH"]);
    expect(block.contributions.map((c) => [c.term, c.contribution])).toEqual([["s", 3]]);
  });

  it("uses a scenario's own bands and inherits the rest", () => {
    expect(decide("login", { s: 3 }).action).toBe("challenge_sms");
    const policies = resolvePolicies(rules.document.policy);
    expect(policies.login.blockList).toEqual(["user", "device", "ip", "card", "phone", "emailDomain"]);
    expect(policies.payment.bands.map((b) => b.minScore)).toEqual([0.9, 0.5]);
    expect(policies.payment.allowList).toEqual(["user", "card"]);
    expect(policies.register.allowList).toEqual(["user"]);
  });

  it("takes the strongest of rule actions and the band, and orders hits by action then severity", () => {
    const d = decide("payment", { x: 1, y: 1, w: 1, s: 0 });
    expect(d.action).toBe("challenge_sms");
    expect(d.ruleHits.map((h) => h.id)).toEqual(["r_sms", "r_review_hi", "r_review"]);
    expect(d.reasons).toEqual(["R_SMS", "R_REVIEW_HI", "R_REVIEW", "MODEL_SCORE_REVIEW"]);
  });

  it("records shadow rules and the challenger without letting them act", () => {
    const d = decide("payment", { z: 1, s: 1 });
    expect(d.action).toBe("review");
    expect(d.ruleHits).toEqual([
      {
        id: "r_block_shadow",
        version: 1,
        action: "block",
        severity: "critical",
        reason: "R_BLOCK_SHADOW",
        shadow: true,
      },
    ]);
    expect(d.reasons).toEqual(["MODEL_SCORE_REVIEW", "S_HIGH"]);
    expect(d.score).toBe(1 / (1 + Math.exp(-1)));
    // With the shadow rule active and the challenger (weight −1) in place: block, score σ(−1).
    expect(d.shadow).toEqual({ action: "block", score: 1 / (1 + Math.exp(1)), reasons: ["R_BLOCK_SHADOW"] });
  });

  it("blocks on a block-list entry whatever rules and score say", () => {
    const d = decide("payment", { s: -10 }, { deviceId: "bad-device" });
    expect(d.action).toBe("block");
    expect(d.decidedBy).toBe("block_list");
    expect(d.listHits).toEqual([{ list: "block", kind: "device", entry: "bad-device" }]);
    expect(d.reasons).toEqual(["LIST_BLOCK_DEVICE"]);
  });

  it("passes an allow-listed account but still records rule hits; block beats allow", () => {
    const allowed = decide("payment", { y: 1, s: 3 }, { userId: "vip" });
    expect(allowed.action).toBe("pass");
    expect(allowed.decidedBy).toBe("allow_list");
    expect(allowed.reasons).toEqual(["LIST_ALLOW_USER"]);
    expect(allowed.ruleHits.map((h) => h.id)).toEqual(["r_sms"]);
    expect(allowed.band?.action).toBe("block");
    const both = decide("payment", {}, { userId: "vip", deviceId: "bad-device" });
    expect(both.action).toBe("block");
    expect(both.listHits).toEqual([{ list: "block", kind: "device", entry: "bad-device" }]);
  });

  it("acts only on the list kinds the scenario's policy names", () => {
    // payment allows cards; login does not.
    expect(decide("payment", { y: 1 }, { cardFingerprint: "test-card" }).action).toBe("pass");
    // order blocks only users: a block-listed device there is left to the rules.
    expect(decide("order", {}, { deviceId: "bad-device" }).action).toBe("pass");
    expect(decide("order", {}, { userId: "bad-user" }).action).toBe("block");
    // An allow-listed IP is not a free pass, but rules can read it.
    expect(decide("order", { x: 5 }).ruleHits.map((h) => h.id)).toEqual(["r_office"]);
    expect(decide("order", { x: 5 }, { ip: "203.0.113.50" }).ruleHits).toEqual([]);
  });

  it("decides a batch exactly as one by one", () => {
    const inputs = [
      input(cleanEvent("payment"), { x: 1, s: 0 }),
      input(cleanEvent("login"), { s: 3 }),
      input(cleanEvent("order", { userId: "bad-user" }), {}),
    ];
    expect(engine.decideBatch(inputs, T0)).toEqual(inputs.map((i) => engine.decide(i, T0)));
  });

  it("passes with null versions when nothing is configured", () => {
    const d = new DecisionEngine({}).decide(input(cleanEvent("payment")), T0);
    expect(d).toEqual({
      action: "pass",
      decidedBy: "rules_and_score",
      score: null,
      ruleHits: [],
      ruleErrors: [],
      reasons: [],
      contributions: [],
      listHits: [],
      band: null,
      shadow: { action: "pass", score: null, reasons: [] },
      versions: { rules: null, lists: null, model: null, shadowModel: null, features: "fs-test" },
    });
  });
});
