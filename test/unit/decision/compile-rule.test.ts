import { describe, expect, it } from "vitest";
import {
  ConfigValidationError,
  compileRuleset,
  DecisionEngine,
  formatIssue,
  type RuleCompileOptions,
} from "#shared/domain/decision/index";
import { cleanEvent, input, oneRule, T0 } from "./helpers.ts";

/** The formatted issues of compiling a document, or [] when it compiles. */
function issuesOf(document: unknown, options: RuleCompileOptions = {}): string[] {
  try {
    compileRuleset(document, options);
    return [];
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.issues.map(formatIssue);
    throw error;
  }
}

describe("rule compilation", () => {
  it("compiles a valid rule and records what it reads", () => {
    const rs = compileRuleset(
      oneRule(
        "features.cards_per_device_24h >= 4 && lists.block.card && score > 0.5 && event.amountMinor < 100",
      ),
    );
    const [rule] = rs.rules;
    expect(rule?.analysis.features).toEqual(["cards_per_device_24h"]);
    expect(rule?.analysis.lists).toEqual([{ name: "block", kind: "card" }]);
    expect(rule?.analysis.usesScore).toBe(true);
    expect(rs.byScenario.payment.map((r) => r.rule.id)).toEqual(["r1"]);
    expect(rs.byScenario.login).toEqual([]);
    expect(rs.lists).toEqual([{ name: "block", kind: "card" }]);
  });

  it("points at syntax errors with line and column", () => {
    // The parser reports where the last complete expression ends: here the operator whose right
    // side is broken.
    expect(issuesOf(oneRule("features.a >= 1 &&\n  (event.type == "))).toEqual([
      "rules[0] (r1).when, line 1, column 17: syntax error: found & but expecting end of input",
    ]);
    expect(issuesOf(oneRule("features.a >= 1\n  && event.type ==== 'x'"))).toEqual([
      "rules[0] (r1).when, line 2, column 17: syntax error: found = but expecting end of input",
    ]);
  });

  it("refuses unknown names, event fields, functions and list kinds, each at its position", () => {
    expect(issuesOf(oneRule("user.id == 1"))).toEqual([
      "rules[0] (r1).when, line 1, column 1: unknown name 'user'; expressions can use event, features, lists, score",
    ]);
    expect(issuesOf(oneRule('event.type == "payment" && event.amout > 1'))).toEqual([
      "rules[0] (r1).when, line 1, column 33: event has no field 'amout'",
    ]);
    expect(issuesOf(oneRule('event.geo.region == "x"'))).toEqual([
      "rules[0] (r1).when, line 1, column 10: event.geo has no field 'region'; it has country and city",
    ]);
    expect(
      issuesOf(oneRule('timestamp("2020-01-01T00:00:00Z") < timestamp("2021-01-01T00:00:00Z")'))[0],
    ).toBe(
      "rules[0] (r1).when, line 1, column 1: function 'timestamp' is not available; rules may use size, int, uint, double, string, bool, dyn, matches, startsWith, endsWith, contains and operators",
    );
    expect(issuesOf(oneRule("lists.block.account"))).toEqual([
      "rules[0] (r1).when, line 1, column 12: lists.block has no kind 'account'; kinds are user, device, ip, card, phone, emailDomain",
    ]);
  });

  it("refuses feature ids outside the known feature set, once per id", () => {
    const known = new Set(["cards_per_device_24h"]);
    expect(issuesOf(oneRule("has(features.cardz) && features.cardz > 1"), { knownFeatures: known })).toEqual([
      "rules[0] (r1).when, line 1, column 1: unknown feature 'cardz'; the feature set has no feature with this id",
    ]);
    expect(issuesOf(oneRule('features["cards_per_device_24h"] > 1'), { knownFeatures: known })).toEqual([]);
  });

  it("requires literal RE2 patterns and refuses invalid ones where they are", () => {
    expect(issuesOf(oneRule("event.email.matches(event.userId)"))).toEqual([
      "rules[0] (r1).when, line 1, column 26: the pattern of matches() must be a string literal, so it can be checked before use",
    ]);
    expect(issuesOf(oneRule('event.email.matches("(a+")'))).toEqual([
      "rules[0] (r1).when, line 1, column 21: invalid RE2 regular expression: error parsing regexp: missing closing ): `(a+`",
    ]);
    // Backreferences and lookarounds need backtracking; RE2 has neither.
    expect(issuesOf(oneRule('event.email.matches("(?=a)")'))[0]).toContain("invalid RE2 regular expression");
  });

  it("evaluates a pathological pattern in linear time", () => {
    const rs = compileRuleset(oneRule('event.email.matches("^(a+)+$")', { scenarios: ["register"] }));
    const engine = new DecisionEngine({ rules: { version: 1, ruleset: rs } });
    const email = `${"a".repeat(5_000)}!@example.com`;
    const started = performance.now();
    const d = engine.decide(input(cleanEvent("register", { email })), T0);
    expect(d.ruleHits).toEqual([]);
    expect(d.ruleErrors).toEqual([]);
    // Backtracking engines take exponential time here; RE2 takes milliseconds.
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("bounds size, nesting and evaluation cost", () => {
    const big = `size([${"1,".repeat(600)}1]) > 0`;
    expect(issuesOf(oneRule(big))).toEqual([
      "rules[0] (r1).when, line 1, column 1: expression has 605 nodes; at most 500",
    ]);
    const deep = `size(${"[".repeat(45)}1${"]".repeat(45)}) > 0`;
    expect(issuesOf(oneRule(deep))).toEqual([
      "rules[0] (r1).when, line 1, column 1: expression is nested 48 deep; at most 40",
    ]);
    // One comprehension over an input is fine; two nested ones multiply to 256 × 256 steps.
    expect(issuesOf(oneRule("features.exists(k, features[k] > 100)"))).toEqual([]);
    expect(issuesOf(oneRule("features.exists(k, features.exists(j, features[k] > features[j]))"))).toEqual([
      "rules[0] (r1).when, line 1, column 1: evaluation may take up to 788740 steps; at most 20000 (nested comprehensions over inputs multiply)",
    ]);
    expect(issuesOf(oneRule("x".repeat(2_001)))).toEqual([
      "rules[0] (r1).when: Too big: expected string to have <=2000 characters",
    ]);
  });

  it("catches type errors against a sample event of each scenario", () => {
    expect(issuesOf(oneRule("event.amount > 100", { scenarios: ["order"] }))).toEqual([
      "rules[0] (r1).when, line 1, column 14: for order events: found no matching overload for '_>_' applied to '(string, int)'",
    ]);
    // Features are doubles, and CEL arithmetic does not mix doubles and ints.
    expect(issuesOf(oneRule("features.a + 1 > 2", { scenarios: ["order"] }))).toEqual([
      "rules[0] (r1).when, line 1, column 12: for order events: found no matching overload for '_+_' applied to '(double, int)'",
    ]);
    expect(issuesOf(oneRule("features.a + 1.0", { scenarios: ["order"] }))).toEqual([
      "rules[0] (r1).when, line 1, column 1: for order events: the condition gave a number, not true or false",
    ]);
  });

  it("reports schema problems with the rule id, and duplicate ids", () => {
    const doc = {
      rules: [
        { ...oneRule("true").rules[0], id: "dup" },
        { ...oneRule("true").rules[0], id: "dup" },
        { ...oneRule("true").rules[0], id: "bad_action", action: "ban" },
      ],
    };
    expect(issuesOf(doc)).toEqual([
      'rules[2] (bad_action).action: Invalid option: expected one of "pass"|"review"|"challenge_sms"|"challenge_face"|"block"',
    ]);
    expect(issuesOf({ rules: doc.rules.slice(0, 2) })).toEqual(["rules[1] (dup).id: duplicate rule id"]);
  });

  it("compiles disabled rules but leaves them out of evaluation", () => {
    expect(issuesOf(oneRule("nope > 1", { mode: "disabled" }))).toHaveLength(1);
    const rs = compileRuleset(oneRule("true", { mode: "disabled" }));
    expect(rs.rules).toEqual([]);
    expect(rs.byScenario.payment).toEqual([]);
  });
});

describe("rule evaluation", () => {
  const engineFor = (when: string, over: Record<string, unknown> = {}) =>
    new DecisionEngine({
      rules: { version: 7, ruleset: compileRuleset(oneRule(when, { version: 3, ...over })) },
    });

  it("hits when the condition holds and records the rule's version", () => {
    const d = engineFor("features.payments_per_card_10m >= 5").decide(
      input(cleanEvent("payment"), { payments_per_card_10m: 5 }),
      T0,
    );
    expect(d.ruleHits).toEqual([
      { id: "r1", version: 3, action: "review", severity: "medium", reason: "R1", shadow: false },
    ]);
    expect(d.action).toBe("review");
    expect(d.versions.rules).toBe(7);
  });

  it("does not hit just below the threshold", () => {
    const d = engineFor("features.payments_per_card_10m >= 5").decide(
      input(cleanEvent("payment"), { payments_per_card_10m: 4 }),
      T0,
    );
    expect(d.ruleHits).toEqual([]);
    expect(d.action).toBe("pass");
  });

  it("records an absent feature as a rule error at its position, not as a hit or a silent miss", () => {
    const d = engineFor("event.amountMinor > 0 &&\n  features.payments_per_card_10m >= 5").decide(
      input(cleanEvent("payment"), { payments_per_card_10m: null }),
      T0,
    );
    expect(d.ruleHits).toEqual([]);
    expect(d.ruleErrors).toEqual([
      {
        id: "r1",
        version: 3,
        shadow: false,
        message: "field not found: payments_per_card_10m",
        line: 2,
        column: 11,
        onError: "review",
      },
    ]);
  });

  it("lets has() guard absent features and short-circuits errors away", () => {
    const engine = engineFor("has(features.x) && features.x > 1 || event.amountMinor == 2500");
    expect(engine.decide(input(cleanEvent("payment"), {}), T0).ruleHits.map((h) => h.id)).toEqual(["r1"]);
    expect(engine.decide(input(cleanEvent("payment", { amount: "1.00" }), {}), T0).ruleErrors).toEqual([]);
  });

  it("sees derived event fields", () => {
    const engine = engineFor(
      'event.amountMinor == 1234 && event.emailDomain == "example.com" && event.occurredAtMs == 1777636800000',
    );
    expect(engine.decide(input(cleanEvent("payment", { amount: "12.34" })), T0).ruleHits).toHaveLength(1);
  });

  it("evaluates only the rules of the event's scenario", () => {
    const d = engineFor("true").decide(input(cleanEvent("login")), T0);
    expect(d.ruleHits).toEqual([]);
    expect(d.ruleErrors).toEqual([]);
  });
});
