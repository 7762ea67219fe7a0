import { describe, expect, it } from "vitest";
import {
  compileModelDocument,
  compileRuleset,
  DecisionEngine,
  type DecisionInput,
  LATE_EVENT_REASON,
  ListIndex,
  MODEL_FORMAT,
  validateListsDocument,
} from "#shared/domain/decision/index";
import { SHIPPED_DEFAULTS } from "#shared/domain/decision/shipped-defaults";
import type { CleanEvent } from "#shared/domain/event/index";
import { cleanEvent, T0 } from "./helpers.ts";

const rule = (id: string, when: string, action: string, over: Record<string, unknown> = {}) => ({
  id,
  description: id,
  scenarios: ["register"],
  when,
  action,
  severity: "high",
  mode: "active",
  version: 1,
  ...over,
});

/** The reproduction: a device-farm rule that reads a windowed count, guarded with has(). */
const farm = rule(
  "device_farm",
  "has(features.regs_per_device_24h) && features.regs_per_device_24h >= 5.0",
  "block",
);
const sms = rule(
  "shared_device",
  "has(features.accounts_1h) && features.accounts_1h >= 3.0",
  "challenge_sms",
);
const candidate = rule("candidate", "has(features.shadow_only) && features.shadow_only >= 1.0", "block", {
  mode: "shadow",
});

const model = compileModelDocument({
  active: {
    format: MODEL_FORMAT,
    id: "m",
    version: "m1",
    createdAt: "2026-05-01T00:00:00.000Z",
    provenance: { method: "hand-set for tests", data: "none" },
    intercept: -6,
    terms: [
      {
        name: "age",
        input: { feature: "model_input" },
        transform: { type: "standardize", mean: 0, std: 1, weight: 1 },
        reason: "MODEL_INPUT",
      },
    ],
  },
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

const engineWith = (policy?: Record<string, unknown>) =>
  new DecisionEngine({
    rules: {
      version: 2,
      ruleset: compileRuleset({ ...(policy ? { policy } : {}), rules: [farm, sms, candidate] }),
    },
    lists: { version: 1, index: lists },
    model: { active: model.active },
  });
const engine = engineWith();

const withLate = (
  event: CleanEvent,
  values: Record<string, number | null>,
  late: readonly string[],
): DecisionInput => ({ event, features: { version: "fs", values, late } });

describe("late features: the decision gets at least the scenario's lateEventAction", () => {
  it("reviews an event too late for a feature an active rule reads, instead of passing it", () => {
    // 25 h late: the store gave no value for the 24 h count, so the rule cannot see the farm.
    const d = engine.decide(
      withLate(cleanEvent("register"), { regs_per_device_24h: null, accounts_1h: 1, model_input: 0 }, [
        "regs_per_device_24h",
      ]),
      T0,
    );
    expect(d.ruleErrors).toEqual([]);
    expect(d.ruleHits).toEqual([]);
    expect(d.action).toBe("review");
    expect(d.decidedBy).toBe("rules_and_score");
    expect(d.reasons).toEqual([LATE_EVENT_REASON]);
    expect(d.late).toEqual({ features: ["regs_per_device_24h"], action: "review" });
  });

  it("passes the same event when it is on time and nothing fires, with no late record", () => {
    const d = engine.decide(
      withLate(cleanEvent("register"), { regs_per_device_24h: 1, accounts_1h: 1, model_input: 0 }, []),
      T0,
    );
    expect(d.action).toBe("pass");
    expect(d.late).toBeUndefined();
    expect("late" in d).toBe(false);
  });

  it("ignores late features that no active rule of the scenario and no model reads", () => {
    const notRead = engine.decide(
      withLate(cleanEvent("register"), { other: null, model_input: 0 }, ["other"]),
      T0,
    );
    expect([notRead.action, notRead.late]).toEqual(["pass", undefined]);
    // regs_per_device_24h is read by a register rule only: a login does not need it.
    const otherScenario = engine.decide(
      withLate(cleanEvent("login"), { regs_per_device_24h: null, model_input: 0 }, ["regs_per_device_24h"]),
      T0,
    );
    expect([otherScenario.action, otherScenario.late]).toEqual(["pass", undefined]);
  });

  it("counts a feature the active model reads as needed", () => {
    const d = engine.decide(withLate(cleanEvent("login"), { model_input: null }, ["model_input"]), T0);
    expect(d.action).toBe("review");
    expect(d.late).toEqual({ features: ["model_input"], action: "review" });
  });

  it("lets a feature read only by a shadow rule raise the shadow outcome only", () => {
    const d = engine.decide(
      withLate(cleanEvent("register"), { shadow_only: null, model_input: 0 }, ["shadow_only"]),
      T0,
    );
    expect(d.action).toBe("pass");
    expect(d.late).toBeUndefined();
    expect(d.shadow).toMatchObject({ action: "review", reasons: [LATE_EVENT_REASON] });
  });

  it("keeps a stronger action and lists LATE_EVENT after what decided it", () => {
    const d = engine.decide(
      withLate(cleanEvent("register"), { regs_per_device_24h: null, accounts_1h: 3, model_input: 0 }, [
        "regs_per_device_24h",
      ]),
      T0,
    );
    expect(d.action).toBe("challenge_sms");
    expect(d.reasons).toEqual(["SHARED_DEVICE", LATE_EVENT_REASON]);
    expect(d.late).toEqual({ features: ["regs_per_device_24h"], action: "review" });
  });

  it("takes the floor from the scenario's policy, inherited from the default; pass turns it off", () => {
    const custom = engineWith({
      default: { lateEventAction: "challenge_sms" },
      scenarios: { login: { lateEventAction: "pass" } },
    });
    const register = custom.decide(
      withLate(cleanEvent("register"), { regs_per_device_24h: null, model_input: 0 }, [
        "regs_per_device_24h",
      ]),
      T0,
    );
    expect([register.action, register.reasons, register.late]).toEqual([
      "challenge_sms",
      [LATE_EVENT_REASON],
      { features: ["regs_per_device_24h"], action: "challenge_sms" },
    ]);
    const login = custom.decide(withLate(cleanEvent("login"), { model_input: null }, ["model_input"]), T0);
    expect([login.action, login.reasons, login.late]).toEqual([
      "pass",
      [],
      { features: ["model_input"], action: "pass" },
    ]);
  });

  it("does not override the lists: block stays block, an allow-listed account passes", () => {
    const values = { regs_per_device_24h: null, model_input: 0 };
    const late = ["regs_per_device_24h"];
    const blocked = engine.decide(
      withLate(cleanEvent("register", { deviceId: "bad-device" }), values, late),
      T0,
    );
    expect([blocked.action, blocked.decidedBy]).toEqual(["block", "block_list"]);
    const allowed = engine.decide(withLate(cleanEvent("register", { userId: "vip" }), values, late), T0);
    expect([allowed.action, allowed.decidedBy, allowed.reasons]).toEqual([
      "pass",
      "allow_list",
      ["LIST_ALLOW_USER"],
    ]);
    expect(allowed.late).toEqual({ features: ["regs_per_device_24h"], action: "review" });
  });

  it("applies to a configuration without rules too (the model reads the feature)", () => {
    const modelOnly = new DecisionEngine({ model: { active: model.active } });
    const d = modelOnly.decide(withLate(cleanEvent("order"), { model_input: null }, ["model_input"]), T0);
    expect([d.action, d.reasons]).toEqual(["review", [LATE_EVENT_REASON]]);
  });

  it("with the shipped default rules, a late registration on a device farm is reviewed, not passed", () => {
    const defaults = new DecisionEngine({
      rules: { version: 0, ruleset: compileRuleset(SHIPPED_DEFAULTS.rules) },
    });
    const event = cleanEvent("register", { deviceId: "farm-device" });
    const late = ["registrations_per_device_24h", "accounts_per_device_1h", "accounts_per_device_24h"];
    const values = Object.fromEntries(late.map((id) => [id, null]));
    const d = defaults.decide(withLate(event, values, late), T0);
    expect(d.ruleErrors).toEqual([]);
    expect(d.action).toBe("review");
    expect(d.late?.features).toEqual(["registrations_per_device_24h", "accounts_per_device_1h"]);
  });
});
