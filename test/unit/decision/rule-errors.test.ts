import { describe, expect, it } from "vitest";
import {
  ACTIONS,
  ConfigValidationError,
  compileRuleset,
  DecisionEngine,
  defaultOnError,
  ListIndex,
  RULE_ERROR_REASON,
  ruleMetrics,
  validateListsDocument,
} from "#shared/domain/decision/index";
import { safeEvaluationMessage } from "#shared/domain/decision/rules/rule-error";
import { cleanEvent, input, T0 } from "./helpers.ts";

/** A payment rule that fails on an event without feature `f` (read unguarded). */
const failing = (id: string, action: string, over: Record<string, unknown> = {}) => ({
  id,
  description: id,
  scenarios: ["payment"],
  when: "features.f >= 1.0",
  action,
  severity: "high",
  mode: "active",
  version: 1,
  ...over,
});

const stamp = { addedBy: "ops", addedAt: "2026-05-01T00:00:00.000Z" };
const lists = new ListIndex(
  validateListsDocument({
    lists: {
      block: [{ kind: "device", value: "bad-device", ...stamp }],
      allow: [{ kind: "user", value: "vip", ...stamp }],
    },
  }),
);

const engineWith = (...rules: Record<string, unknown>[]) =>
  new DecisionEngine({
    rules: { version: 3, ruleset: compileRuleset({ rules }) },
    lists: { version: 1, index: lists },
  });

describe("a failed rule acts as its onError says", () => {
  it("defaults to miss for pass rules and to review for every other action", () => {
    expect(ACTIONS.map((a) => [a, defaultOnError(a)])).toEqual([
      ["pass", "miss"],
      ["review", "review"],
      ["challenge_sms", "review"],
      ["challenge_face", "review"],
      ["block", "review"],
    ]);
  });

  it("gives a failed block rule review by default: no silent pass, no block on a bug", () => {
    const d = engineWith(failing("card_block", "block")).decide(input(cleanEvent("payment"), {}), T0);
    expect(d.action).toBe("review");
    expect(d.ruleHits).toEqual([]);
    expect(d.ruleErrors).toEqual([
      {
        id: "card_block",
        version: 1,
        shadow: false,
        message: "field not found: f",
        line: 1,
        column: 9,
        onError: "review",
      },
    ]);
    expect(d.reasons).toEqual([RULE_ERROR_REASON]);
  });

  it("with onError miss counts the failure as not hit, and still records it", () => {
    const d = engineWith(failing("card_block", "block", { onError: "miss" })).decide(
      input(cleanEvent("payment"), {}),
      T0,
    );
    expect(d.action).toBe("pass");
    expect(d.reasons).toEqual([]);
    expect(d.ruleErrors.map((e) => [e.id, e.onError])).toEqual([["card_block", "miss"]]);
  });

  it("with onError hit applies the rule's action and reason, and says an error did", () => {
    const d = engineWith(failing("card_block", "block", { onError: "hit", reason: "CARD_BLOCK" })).decide(
      input(cleanEvent("payment"), {}),
      T0,
    );
    expect(d.action).toBe("block");
    expect(d.ruleHits).toEqual([]);
    expect(d.reasons).toEqual(["CARD_BLOCK", RULE_ERROR_REASON]);
    expect(d.ruleErrors.map((e) => [e.id, e.onError])).toEqual([["card_block", "hit"]]);
  });

  it("leaves the rule alone when it evaluates: onError only matters on failure", () => {
    const engine = engineWith(failing("card_block", "block", { onError: "hit" }));
    const miss = engine.decide(input(cleanEvent("payment"), { f: 0 }), T0);
    expect([miss.action, miss.ruleErrors]).toEqual(["pass", []]);
    const hit = engine.decide(input(cleanEvent("payment"), { f: 1 }), T0);
    expect([hit.action, hit.ruleHits.map((h) => h.id)]).toEqual(["block", ["card_block"]]);
  });

  it("gives each action its default: a failed challenge gives review, a failed pass rule nothing", () => {
    const d = engineWith(
      failing("sms", "challenge_sms"),
      failing("face", "challenge_face"),
      failing("noop", "pass"),
    ).decide(input(cleanEvent("payment"), {}), T0);
    expect(d.action).toBe("review");
    expect(d.ruleErrors.map((e) => [e.id, e.onError])).toEqual([
      ["sms", "review"],
      ["face", "review"],
      ["noop", "miss"],
    ]);
  });

  it("keeps the strongest action when another rule hits", () => {
    const d = engineWith(failing("broken", "block"), {
      ...failing("sms", "challenge_sms"),
      when: "event.amountMinor > 0",
    }).decide(input(cleanEvent("payment"), {}), T0);
    expect(d.action).toBe("challenge_sms");
    expect(d.reasons).toEqual(["SMS", RULE_ERROR_REASON]);
  });

  it("lets a failed shadow rule act on the shadow outcome only", () => {
    const d = engineWith(failing("candidate", "block", { mode: "shadow", onError: "hit" })).decide(
      input(cleanEvent("payment"), {}),
      T0,
    );
    expect(d.action).toBe("pass");
    expect(d.reasons).toEqual([]);
    expect(d.shadow.action).toBe("block");
    expect(d.shadow.reasons).toEqual(["CANDIDATE", RULE_ERROR_REASON]);
    expect(d.ruleErrors.map((e) => [e.id, e.shadow, e.onError])).toEqual([["candidate", true, "hit"]]);
  });

  it("does not override the lists: a block-listed entity is blocked, an allow-listed account passes", () => {
    const engine = engineWith(failing("broken", "block", { onError: "hit" }));
    expect(engine.decide(input(cleanEvent("payment", { deviceId: "bad-device" }), {}), T0).action).toBe(
      "block",
    );
    const allowed = engine.decide(input(cleanEvent("payment", { userId: "vip" }), {}), T0);
    expect([allowed.action, allowed.decidedBy, allowed.reasons]).toEqual([
      "pass",
      "allow_list",
      ["LIST_ALLOW_USER"],
    ]);
    expect(allowed.ruleErrors).toHaveLength(1);
  });

  it("counts every failure in RuleErrors by rule and mode, whatever onError did", () => {
    const engine = engineWith(
      failing("a", "block", { onError: "miss" }),
      failing("b", "block", { mode: "shadow" }),
    );
    const event = cleanEvent("payment");
    const decisions = [input(event, {}), input(event, {}), input(event, { f: 2 })].map((i) =>
      engine.decide(i, T0),
    );
    const errors = ruleMetrics(
      decisions.map((d) => ({ type: "payment" as const, ruleHits: d.ruleHits, ruleErrors: d.ruleErrors })),
    ).filter((m) => m.name === "RuleErrors");
    expect(errors).toEqual([
      { name: "RuleErrors", unit: "Count", value: 2, dimensions: { rule: "a", mode: "active" } },
      { name: "RuleErrors", unit: "Count", value: 2, dimensions: { rule: "b", mode: "shadow" } },
    ]);
  });

  it("refuses an onError that is not miss, hit or review", () => {
    expect(() => compileRuleset({ rules: [failing("x", "block", { onError: "ignore" })] })).toThrow(
      ConfigValidationError,
    );
  });
});

describe("a rule error's message never quotes the event", () => {
  const secret = "SECRET-9f3a";
  const decideWith = (when: string) =>
    engineWith({ ...failing("r", "review"), when }).decide(
      input(cleanEvent("payment", { userId: secret, attributes: { tier: secret, flag: secret } }), { f: 1 }),
      T0,
    );

  it.each([
    ["a conversion of an event value", "int(event.attributes.tier) > 1", "conversion failed"],
    ["a bool conversion", "bool(event.attributes.flag)", "conversion failed"],
    [
      "a key computed from the event",
      "features[event.userId] > 1.0",
      "field not found (a key computed from the event)",
    ],
    ["a map key conflict", "{event.userId: 1, event.attributes.tier: 2}.size() > 1", "map key conflict"],
  ])("%s", (_, when, message) => {
    const d = decideWith(when);
    expect(d.ruleErrors.map((e) => e.message)).toEqual([message]);
    expect(JSON.stringify(d)).not.toContain(secret);
  });

  it("names keys the operator wrote and keeps CEL's type-only messages", () => {
    expect(decideWith("event.attributes.missing == 'x'").ruleErrors[0]?.message).toBe(
      "field not found: missing",
    );
    expect(decideWith("event.attributes.tier > 1").ruleErrors[0]?.message).toBe(
      "found no matching overload for '_>_' applied to '(string, int)'",
    );
    expect(decideWith("int(features.f) / 0 > 1").ruleErrors[0]?.message).toBe("int divide by zero");
  });

  it("reduces messages of unknown form to the class of the failure", () => {
    const names = new Set(["tier"]);
    expect(safeEvaluationMessage(`something new about ${secret}`, names)).toBe("evaluation failed");
    expect(safeEvaluationMessage(`index 3 out of bounds [0, 2)`, names)).toBe("index out of bounds");
    expect(safeEvaluationMessage(`found no matching overload for 'f' applied to '(${secret})'`, names)).toBe(
      "found no matching overload",
    );
    expect(safeEvaluationMessage("type mismatch: expected bool, got string", names)).toBe(
      "type mismatch: expected bool, got string",
    );
    expect(safeEvaluationMessage(`type mismatch: expected bool, got '${secret}'`, names)).toBe(
      "type mismatch",
    );
  });
});
