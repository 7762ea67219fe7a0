import { describe, expect, it } from "vitest";
import {
  AlertPolicyError,
  alertFinding,
  DEFAULT_ALERT_POLICY,
  deriveSeverity,
  parseAlertPolicy,
  planAlert,
} from "#shared/domain/alerts/alert-policy";
import { sampleMessage } from "../../fixtures/decision-messages.ts";

const now = new Date("2026-05-01T10:00:01Z");

describe("alert policy", () => {
  it("defaults: block is critical, challenge_face is high, everything else is quiet", () => {
    expect(parseAlertPolicy(undefined)).toBe(DEFAULT_ALERT_POLICY);
    expect(parseAlertPolicy("  ")).toBe(DEFAULT_ALERT_POLICY);
    const block = planAlert(sampleMessage("a"), DEFAULT_ALERT_POLICY, now);
    expect(block).toMatchObject({
      alert: true,
      severity: "critical",
      channels: ["sms", "email"],
      finding: "rule:card_velocity",
    });
    const face = planAlert(
      sampleMessage("b", { decision: { action: "challenge_face" } }),
      DEFAULT_ALERT_POLICY,
      now,
    );
    expect(face).toMatchObject({ alert: true, severity: "high" });
    for (const action of ["pass", "review", "challenge_sms"] as const)
      expect(planAlert(sampleMessage("c", { decision: { action } }), DEFAULT_ALERT_POLICY, now)).toEqual({
        alert: false,
        why: "no_rule",
      });
  });

  it("throttles by every pseudonymous entity the decision names, and not by email domain", () => {
    const message = sampleMessage("a");
    const plan = planAlert(message, DEFAULT_ALERT_POLICY, now);
    if (!plan.alert) throw new Error("expected an alert");
    const e = message.entities;
    expect(plan.throttleEntities).toEqual([e.user, e.device, e.ip, e.card, e.phone, e.email]);
  });

  it("matches scenario and minimum score, first rule wins, severity derived when not given", () => {
    const policy = parseAlertPolicy(
      JSON.stringify({
        rules: [
          { actions: ["review"], scenarios: ["login"], severity: "medium", channels: ["email"] },
          { actions: ["review"], minScore: 0.95 },
          { actions: ["block", "review"] },
        ],
        throttle: { windowSeconds: 0, entities: [] },
        maxAgeSeconds: 60,
      }),
    );
    const review = (score: number, type: "login" | "payment") =>
      sampleMessage("r", { decision: { action: "review", score }, event: { type } as never });
    expect(planAlert(review(0.5, "login"), policy, now)).toMatchObject({
      alert: true,
      rule: 0,
      severity: "medium",
      channels: ["email"],
      throttleEntities: [],
    });
    expect(planAlert(review(0.97, "payment"), policy, now)).toMatchObject({ alert: true, rule: 1 });
    // Derived: the action says low, the active rule hit says critical.
    expect(planAlert(review(0.5, "payment"), policy, now)).toMatchObject({
      alert: true,
      rule: 2,
      severity: "critical",
    });
  });

  it("drops decisions older than maxAgeSeconds", () => {
    const policy = parseAlertPolicy(JSON.stringify({ rules: [{ actions: ["block"] }], maxAgeSeconds: 60 }));
    expect(planAlert(sampleMessage("a"), policy, new Date("2026-05-01T10:01:01Z"))).toEqual({
      alert: false,
      why: "stale",
    });
    expect(planAlert(sampleMessage("a"), policy, new Date("2026-05-01T10:00:30Z")).alert).toBe(true);
  });

  it("refuses invalid policies with every problem named", () => {
    expect(() => parseAlertPolicy("{")).toThrow(AlertPolicyError);
    expect(() => parseAlertPolicy(JSON.stringify({ rules: [{ actions: ["explode"] }] }))).toThrow(
      /rules\.0\.actions\.0/,
    );
    expect(() => parseAlertPolicy(JSON.stringify({ rules: [], extra: 1 }))).toThrow(/extra/);
  });

  it("derives severity and finding", () => {
    expect(deriveSeverity(sampleMessage("a", { decision: { action: "review", ruleHits: [] } }))).toBe("low");
    expect(deriveSeverity(sampleMessage("a", { decision: { action: "challenge_sms", ruleHits: [] } }))).toBe(
      "medium",
    );
    const noRules = sampleMessage("a", { decision: { ruleHits: [] } });
    expect(alertFinding(noRules)).toBe("band:HIGH_SCORE");
    const listed = sampleMessage("a", { decision: { ruleHits: [], decidedBy: "block_list" } });
    expect(alertFinding(listed)).toBe("list:phone");
    expect(alertFinding(sampleMessage("a", { decision: { ruleHits: [], band: null, listHits: [] } }))).toBe(
      "action:block",
    );
  });
});
