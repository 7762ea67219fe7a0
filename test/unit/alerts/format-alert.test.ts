import { describe, expect, it } from "vitest";
import { buildNotification, notificationAttributes } from "#shared/domain/alerts/alert-notification";
import {
  formatEmailBody,
  formatEmailSubject,
  formatSms,
  SMS_MAX_LENGTH,
} from "#shared/domain/alerts/format-alert";
import { CANARY_VALUES, sampleMessage } from "../../fixtures/decision-messages.ts";

describe("alert texts", () => {
  const message = sampleMessage("evt-9");

  it("SMS: action, scenario, top reason, score, pseudonymous ids and the suppressed count, in 140 ASCII characters", () => {
    const sms = formatSms({ message, severity: "critical", suppressedBefore: 12 });
    expect(sms.length).toBeLessThanOrEqual(SMS_MAX_LENGTH);
    expect(sms).toMatch(/^[\x20-\x7e]+$/);
    expect(sms).toContain("Vigil CRITICAL: block payment");
    expect(sms).toContain("CARD_VELOCITY");
    expect(sms).toContain("score 0.93");
    expect(sms).toContain(message.entities.user);
  });

  it("SMS: shortens the reason and drops the least important parts to fit", () => {
    const long = sampleMessage("evt-9", { decision: { reasons: [`VERY_${"LONG_".repeat(40)}REASON`] } });
    for (const suppressedBefore of [0, 5, 123_456]) {
      const sms = formatSms({ message: long, severity: "high", suppressedBefore });
      expect(sms.length).toBeLessThanOrEqual(SMS_MAX_LENGTH);
      expect(sms).toContain(long.entities.user);
      expect(sms).toContain("VERY_LONG");
    }
  });

  it("email: a subject SNS accepts and a body with hits, reasons, contributions, features and versions", () => {
    const subject = formatEmailSubject({ message, severity: "critical", suppressedBefore: 0 });
    expect(subject.length).toBeLessThan(100);
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject).toBe("[Vigil CRITICAL] block on payment: CARD_VELOCITY (score 0.93)");
    const body = formatEmailBody({ message, severity: "critical", suppressedBefore: 3 });
    for (const expected of [
      "[active] card_velocity v3: block, critical, CARD_VELOCITY",
      "[shadow] new_device_high_amount v1: challenge_face, high, NEW_DEVICE_HIGH_AMOUNT",
      "Reasons: CARD_VELOCITY, HIGH_SCORE",
      "card_payments_1h",
      "+2.730",
      "user_first_seen        null",
      "3 similar alert(s)",
      "rules 7, lists 2, model lr-2026-04",
      "vigil decision evt-9",
      message.entities.card as string,
    ])
      expect(body).toContain(expected);
  });

  it("carries no planted PII anywhere", () => {
    for (const channel of ["sms", "email"] as const) {
      const n = buildNotification(message, channel, "critical", 1);
      const text = JSON.stringify({ ...n, attributes: notificationAttributes(n) });
      for (const canary of CANARY_VALUES) expect(text).not.toContain(canary);
    }
  });
});
