import { describe, expect, it } from "vitest";
import { type CleanChallengeOutcomeEvent, decodeRecord } from "#shared/domain/event/index";
import {
  CHALLENGE_LABEL_AUTHOR,
  challengeOutcomeLabel,
  labelAsOf,
  parseLabel,
} from "#shared/domain/labels/index";

const outcome = (challengeOutcome: string, challengeKind = "sms"): CleanChallengeOutcomeEvent => {
  const decoded = decodeRecord(
    new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 1,
        eventId: `evt-outcome-${challengeOutcome}`,
        type: "challenge_outcome",
        occurredAt: "2026-03-04T10:00:05+01:00",
        userId: "user-1",
        ip: "192.0.2.1",
        deviceId: "dev-1",
        challengedEventId: "evt-login-1",
        challengeKind,
        challengeOutcome,
      }),
    ),
    { arrivalTime: new Date("2026-03-04T09:00:06Z") },
  );
  if (!decoded.ok || decoded.event.type !== "challenge_outcome") throw new Error("fixture does not decode");
  return decoded.event;
};

describe("challenge outcomes as labels", () => {
  it("failed is fraud and passed is legit, about the challenged event, observed when the challenge ended", () => {
    const failed = challengeOutcomeLabel(outcome("failed", "face"));
    expect(failed).toMatchObject({
      subject: { eventId: "evt-login-1" },
      label: "fraud",
      category: "challenge_failed/face",
      source: "challenge",
      observedAt: "2026-03-04T09:00:05.000Z",
      author: CHALLENGE_LABEL_AUTHOR,
      note: "challenge_outcome event evt-outcome-failed",
    });
    expect(challengeOutcomeLabel(outcome("passed"))).toMatchObject({
      label: "legit",
      category: "challenge_passed/sms",
    });
    // The same outcome delivered twice is the same label.
    expect(challengeOutcomeLabel(outcome("failed"))?.labelId).toBe(
      challengeOutcomeLabel(outcome("failed"))?.labelId,
    );
  });

  it("abandoned gives no label", () => {
    expect(challengeOutcomeLabel(outcome("abandoned"))).toBeUndefined();
  });

  it("a later chargeback overrides a passed challenge", () => {
    const passed = challengeOutcomeLabel(outcome("passed"));
    const chargeback = parseLabel({
      schemaVersion: 1,
      subject: { eventId: "evt-login-1" },
      label: "fraud",
      source: "chargeback",
      observedAt: "2026-03-20T00:00:00Z",
      author: "bank",
    });
    if (!passed) throw new Error("passed gives a label");
    expect(labelAsOf([passed, chargeback], Date.parse("2026-03-10T00:00:00Z"))?.label).toBe("legit");
    expect(labelAsOf([passed, chargeback], Date.parse("2026-03-21T00:00:00Z"))?.label).toBe("fraud");
  });
});
