import { describe, expect, it } from "vitest";
import type { Action } from "#shared/domain/decision/action";
import {
  detectorAction,
  evaluateQuality,
  formatFrictionTable,
  formatQualityTable,
  formatStrengthTable,
  type GroundTruth,
  parseGroundTruth,
  type ScoredDecision,
} from "#shared/domain/simulation/index";

const at = "2026-03-10T12:00:00.000Z";
const legit = (
  eventId: string,
  type: GroundTruth["type"],
  kind: "regular" | "vpn" = "regular",
): GroundTruth => ({
  eventId,
  type,
  occurredAt: at,
  phase: "live",
  label: "legit",
  kind,
});
const attack = (
  eventId: string,
  type: GroundTruth["type"],
  a: "card_testing" | "account_takeover",
  variant: "burst" | "slow",
): GroundTruth => ({
  eventId,
  type,
  occurredAt: at,
  phase: "live",
  label: "attack",
  attack: a,
  variant,
  actor: `${a}-1`,
});

/** A decision from its parts: rule hits (id:action, `~` for shadow) and the band's action. */
function decision(
  eventId: string,
  action: Action,
  rules: string[] = [],
  band: Action | null = null,
): ScoredDecision {
  return {
    eventId,
    action,
    decidedBy: "rules_and_score",
    ruleHits: rules.map((r) => {
      const [id = "", a = "pass"] = r.replace("~", "").split(":");
      return { id, action: a as Action, shadow: r.startsWith("~") };
    }),
    band: band === null ? null : { action: band },
  };
}

describe("detectorAction", () => {
  it("reads rules, model and combined off one decision", () => {
    const d = decision("e", "challenge_face", ["a:challenge_sms", "~b:block"], "challenge_face");
    expect(detectorAction(d, "rules")).toBe("challenge_sms");
    expect(detectorAction(d, "model")).toBe("challenge_face");
    expect(detectorAction(d, "combined")).toBe("challenge_face");
  });

  it("counts list verdicts as rules and never as the model", () => {
    const blocked = { ...decision("e", "block", [], "review"), decidedBy: "block_list" };
    expect(detectorAction(blocked, "rules")).toBe("block");
    expect(detectorAction(blocked, "model")).toBe("review");
    const allowed = { ...decision("e", "pass", ["a:block"], null), decidedBy: "allow_list" };
    expect(detectorAction(allowed, "rules")).toBe("pass");
    expect(detectorAction(allowed, "model")).toBe("pass");
  });
});

describe("friction and stopping power", () => {
  const customer = (eventId: string, type: GroundTruth["type"], kind: string, who: string): GroundTruth => ({
    eventId,
    type,
    occurredAt: at,
    phase: "live",
    label: "legit",
    kind,
    customer: who,
  });
  const swap = (eventId: string, type: GroundTruth["type"]): GroundTruth => ({
    eventId,
    type,
    occurredAt: at,
    phase: "live",
    label: "attack",
    attack: "sim_swap_takeover",
    variant: "burst",
  });
  const truth: GroundTruth[] = [
    // Ann: challenged twice, then blocked once; Bob: challenged; Cy: reviewed (not friction); Di: passed.
    customer("n1", "login", "new_device", "ann"),
    customer("n2", "order", "new_device", "ann"),
    customer("n3", "payment", "new_device", "ann"),
    customer("n4", "login", "new_device", "bob"),
    customer("r1", "order", "regular", "cy"),
    customer("r2", "order", "regular", "di"),
    swap("s1", "login"),
    swap("s2", "order"),
    swap("s3", "payment"),
    swap("s4", "order"),
  ];
  const decisions = new Map(
    [
      decision("n1", "challenge_sms"),
      decision("n2", "challenge_face"),
      decision("n3", "block"),
      decision("n4", "challenge_sms"),
      decision("r1", "review"),
      decision("r2", "pass"),
      // The SIM swapper holds the number: the SMS challenge is passed, not a catch.
      decision("s1", "challenge_sms"),
      decision("s2", "challenge_face"),
      decision("s3", "block"),
      decision("s4", "pass"),
    ].map((d) => [d.eventId, d]),
  );
  const report = evaluateQuality(truth, decisions);

  it("counts customers challenged and blocked per kind, each customer once", () => {
    const kind = (k: string) => report.legit.find((r) => r.kind === k);
    expect(kind("new_device")?.friction).toEqual({ customers: 2, challenged: 2, blocked: 1 });
    expect(kind("new_device")?.strength).toEqual({ review: 0, challenged: 3, blocked: 1 });
    expect(kind("regular")?.friction).toEqual({ customers: 2, challenged: 0, blocked: 0 });
    expect(kind("all")?.friction).toEqual({ customers: 4, challenged: 2, blocked: 1 });
  });

  it("does not count a challenge the attack passes as a catch", () => {
    const row = report.attacks.find((r) => r.attack === "sim_swap_takeover" && r.variant === "burst");
    expect(row).toMatchObject({
      events: 4,
      strength: { review: 0, challenged: 2, blocked: 1 },
      stopped: 2,
      passedChallenges: 1,
      caught: { combined: 3 },
    });
    const table = formatFrictionTable(report);
    expect(table).toMatch(/new device\s+4\s+75\.0\s+25\.0\s+2\s+2 \(100\.0%\)\s+1 \(50\.0%\)/);
    expect(table).toMatch(
      /sim_swap_takeover \(burst\)\s+4\s+25\.0\s+0\.0\s+25\.0\s+25\.0\s+50\.0\s+challenge_sms/,
    );
  });
});

describe("evaluateQuality", () => {
  const truth: GroundTruth[] = [
    attack("c1", "payment", "card_testing", "burst"),
    attack("c2", "payment", "card_testing", "burst"),
    attack("c3", "payment", "card_testing", "slow"),
    attack("a1", "login", "account_takeover", "burst"),
    legit("l1", "payment"),
    legit("l2", "payment"),
    legit("l3", "login", "vpn"),
    legit("l4", "login"),
    legit("l5", "order"),
    { ...legit("h1", "payment"), phase: "history" },
    legit("missing", "login"),
  ];
  const decisions = new Map(
    [
      decision("c1", "block", ["card_testing_small_payments:block"], "block"),
      decision("c2", "challenge_face", ["card_testing_many_cards:challenge_face"], null),
      decision("c3", "review", [], "review"),
      decision(
        "a1",
        "challenge_face",
        ["impossible_travel:challenge_face", "new_device_login:challenge_sms"],
        null,
      ),
      decision("l1", "review", [], "review"),
      decision("l2", "pass"),
      decision("l3", "challenge_face", ["impossible_travel:challenge_face"], null),
      decision("l4", "pass", ["~high_score_new_account:challenge_face"], null),
      decision("l5", "pass"),
      decision("h1", "block", ["x:block"], "block"),
    ].map((d) => [d.eventId, d]),
  );
  const report = evaluateQuality(truth, decisions);

  it("joins the live phase only and says what it left out", () => {
    expect(report).toMatchObject({ phases: ["live"], events: 10, decided: 9, undecided: 1 });
  });

  it("computes recall and one-against-legitimate precision per attack, variant and detector", () => {
    const row = (a: string, v: string) => report.attacks.find((r) => r.attack === a && r.variant === v);
    // Card testing (payments): legit payment l1 is flagged by the model (and so by combined).
    expect(row("card_testing", "burst")).toEqual({
      attack: "card_testing",
      variant: "burst",
      events: 2,
      strength: { review: 0, challenged: 1, blocked: 1 },
      // Card testers pass an SMS code but not a face check: both events are stopped.
      stopped: 2,
      passedChallenges: 0,
      caught: { rules: 2, model: 1, combined: 2 },
      falseAlarms: { rules: 0, model: 1, combined: 1 },
      recall: { rules: 1, model: 0.5, combined: 1 },
      precision: { rules: 1, model: 0.5, combined: 2 / 3 },
    });
    expect(row("card_testing", "slow")?.recall).toEqual({ rules: 0, model: 1, combined: 1 });
    expect(row("card_testing", "slow")?.precision).toEqual({ rules: null, model: 0.5, combined: 0.5 });
    expect(row("card_testing", "all")?.recall).toEqual({ rules: 2 / 3, model: 2 / 3, combined: 1 });
    // Account takeover (logins): the VPN customer's login is the false alarm; shadow hits never flag.
    expect(row("account_takeover", "burst")?.precision).toEqual({ rules: 0.5, model: null, combined: 0.5 });
    expect(row("account_takeover", "all")).toBeUndefined();
    expect(row("all", "all")).toMatchObject({
      events: 4,
      caught: { rules: 3, model: 2, combined: 4 },
      falseAlarms: { rules: 1, model: 1, combined: 2 },
    });
  });

  it("gives false-positive rates per kind of legitimate traffic and in all", () => {
    expect(report.legit).toEqual([
      {
        kind: "vpn",
        events: 1,
        strength: { review: 0, challenged: 1, blocked: 0 },
        friction: null,
        flagged: { rules: 1, model: 0, combined: 1 },
        rate: { rules: 1, model: 0, combined: 1 },
      },
      {
        kind: "regular",
        events: 4,
        strength: { review: 1, challenged: 0, blocked: 0 },
        friction: null,
        flagged: { rules: 0, model: 1, combined: 1 },
        rate: { rules: 0, model: 0.25, combined: 0.25 },
      },
      {
        kind: "all",
        events: 5,
        strength: { review: 1, challenged: 1, blocked: 0 },
        friction: null,
        flagged: { rules: 1, model: 1, combined: 2 },
        rate: { rules: 0.2, model: 0.2, combined: 0.4 },
      },
    ]);
  });

  it("counts actions per scenario and rule hits with where they fell", () => {
    expect(report.actionsByType.payment).toEqual({
      pass: 1,
      review: 2,
      challenge_sms: 0,
      challenge_face: 1,
      block: 1,
    });
    expect(report.actionsByType.login).toEqual({
      pass: 1,
      review: 0,
      challenge_sms: 0,
      challenge_face: 2,
      block: 0,
    });
    expect(report.rules).toEqual([
      { id: "impossible_travel", shadow: false, hits: 2, onAttacks: 1, onLegit: 1 },
      { id: "card_testing_many_cards", shadow: false, hits: 1, onAttacks: 1, onLegit: 0 },
      { id: "card_testing_small_payments", shadow: false, hits: 1, onAttacks: 1, onLegit: 0 },
      { id: "high_score_new_account", shadow: true, hits: 1, onAttacks: 0, onLegit: 1 },
      { id: "new_device_login", shadow: false, hits: 1, onAttacks: 1, onLegit: 0 },
    ]);
  });

  it("splits the combined action into review, challenged and blocked, and prints them apart", () => {
    const text = formatStrengthTable(report);
    expect(text).toContain("card_testing (burst)                2      100.0      0.0        50.0     50.0");
    expect(text).toContain("card_testing (slow)                 1      100.0    100.0         0.0      0.0");
    expect(text).toContain("all legitimate                      5       40.0     20.0        20.0      0.0");
  });

  it("takes any category names, known ones first in their order, others alphabetically", () => {
    const open: GroundTruth[] = [
      { ...attack("x1", "payment", "card_testing", "burst") },
      {
        eventId: "x2",
        type: "payment",
        occurredAt: at,
        phase: "live",
        label: "attack",
        attack: "friendly_fraud",
      },
      {
        eventId: "x3",
        type: "order",
        occurredAt: at,
        phase: "live",
        label: "attack",
        attack: "bonus_abuse",
        variant: "v2",
      },
      { eventId: "x4", type: "payment", occurredAt: at, phase: "live", label: "legit", kind: "vip_customer" },
      legit("x5", "payment"),
    ];
    const d = new Map(
      [
        decision("x1", "block"),
        decision("x2", "challenge_sms"),
        decision("x3", "pass"),
        decision("x4", "review"),
        decision("x5", "pass"),
      ].map((x) => [x.eventId, x]),
    );
    const r = evaluateQuality(open, d);
    expect(r.attacks.map((a) => `${a.attack}/${a.variant}`)).toEqual([
      "card_testing/burst",
      "bonus_abuse/v2",
      "friendly_fraud/",
      "all/all",
    ]);
    expect(r.legit.map((l) => l.kind)).toEqual(["regular", "vip_customer", "all"]);
    expect(r.legit[1]?.rate.combined).toBe(1);
    expect(formatQualityTable(r)).toContain("friendly_fraud                      1");
    expect(parseGroundTruth(`${open.map((t) => JSON.stringify(t)).join("\n")}\n`)).toEqual(open);
    expect(() =>
      parseGroundTruth(
        '{"eventId":"e","type":"login","occurredAt":"x","phase":"live","label":"legit","kind":"bad kind!"}',
      ),
    ).toThrow("ground truth line 1: kind");
  });

  it("prints percentages with one decimal and a dash for undefined precision", () => {
    const text = formatQualityTable(report);
    expect(text).toContain(
      "card_testing (burst)                2   100.0  100.0    50.0   50.0   100.0   66.7",
    );
    expect(text).toContain(
      "card_testing (slow)                 1     0.0      –   100.0   50.0   100.0   50.0",
    );
    expect(text).toContain("all legitimate                      5    20.0           20.0           40.0");
  });
});
