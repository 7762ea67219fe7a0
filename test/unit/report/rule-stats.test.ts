import { describe, expect, it } from "vitest";
import type { Action } from "#shared/domain/decision/action";
import {
  formatRuleStats,
  type RuleStatsDecision,
  ruleStats,
  sparkline,
} from "#shared/domain/report/rule-stats";

const SINCE = new Date("2026-03-10T00:00:00.000Z");
const UNTIL = new Date("2026-03-10T12:00:00.000Z");
const at = (hour: number) => new Date(SINCE.getTime() + hour * 3_600_000).toISOString();
const d = (
  eventId: string,
  hour: number,
  action: Action,
  hits: [string, Action, boolean?][],
  decidedBy = "rules_and_score",
): RuleStatsDecision => ({
  eventId,
  decidedAt: at(hour),
  action,
  decidedBy,
  ruleHits: hits.map(([id, a, shadow]) => ({ id, action: a, shadow: shadow ?? false })),
});

describe("ruleStats", () => {
  const decisions = [
    d("e1", 0.5, "block", [
      ["card", "block"],
      ["device", "challenge_sms"],
    ]),
    d("e2", 1.5, "challenge_sms", [
      ["device", "challenge_sms"],
      ["score_rule", "block", true],
    ]),
    d("e3", 7, "challenge_sms", [["device", "challenge_sms"]]),
    d("e4", 8, "block", [["device", "challenge_sms"]], "block_list"),
    d("e5", 11.9, "review", [["device", "challenge_sms"]]),
    d("e5", 11.9, "review", [["device", "challenge_sms"]]),
    d("outside", 12, "block", [["card", "block"]]),
    d("before", -1, "block", [["card", "block"]]),
  ];
  const outcomes = new Map([
    ["e1", { label: "fraud" as const, category: "card_testing" }],
    ["e3", { label: "legit" as const, category: "new_device" }],
  ]);
  const stats = ruleStats(decisions, { since: SINCE, until: UNTIL, buckets: 4 }, outcomes);

  it("counts each decision of the window once, per rule and mode", () => {
    expect(stats.decisions).toBe(5);
    expect(stats.rules.map((r) => [r.id, r.shadow, r.hits])).toEqual([
      ["device", false, 5],
      ["card", false, 1],
      ["score_rule", true, 1],
    ]);
  });

  it("says which actions its hits got and which it drove (not a list's, not a shadow's)", () => {
    const device = stats.rules[0];
    expect(device?.actions).toEqual({ pass: 0, review: 1, challenge_sms: 2, challenge_face: 0, block: 2 });
    expect(device?.drove).toBe(2);
    expect(stats.rules[1]?.drove).toBe(1);
    expect(stats.rules[2]?.drove).toBe(0);
  });

  it("gives the share of its hits labelled fraud and legit, and its trend", () => {
    const device = stats.rules[0];
    expect([device?.fraud, device?.legit, device?.fraudShare, device?.legitShare]).toEqual([1, 1, 0.2, 0.2]);
    expect(device?.trend).toEqual([2, 0, 2, 1]);
    expect(device?.change).toBe(1.5);
    expect(stats.buckets).toEqual([at(0), at(3), at(6), at(9)]);
    expect(ruleStats(decisions, { since: SINCE, until: UNTIL }).labelled).toBe(false);
  });

  it("prints a table with a sparkline", () => {
    expect(sparkline([0, 1, 2, 4])).toBe(" ▂▄█");
    const text = formatRuleStats(stats);
    expect(text).toContain("Rules from 2026-03-10T00:00:00.000Z to 2026-03-10T12:00:00.000Z: 5 decisions");
    expect(text).toMatch(/device\s+5\s+2\s+rev 1, sms 2, block 2\s+20\.0%\s+20\.0%/);
    expect(text).toContain("score_rule (shadow)");
  });
});
