import type { DecisionInput } from "#shared/domain/decision/index";
import type { CleanEvent, EventType } from "#shared/domain/event/index";

/** Epoch ms of every test event. */
export const T0 = Date.parse("2026-05-01T12:00:00.000Z");

const base = {
  schemaVersion: 1 as const,
  occurredAt: new Date(T0).toISOString(),
  userId: "user-1",
  ip: "198.51.100.7",
  deviceId: "device-1",
  email: "ann@example.com",
  phone: "+12015550123",
  geo: { country: "US", city: "New York" },
};

/** A clean event of a type with sensible fields; `over` replaces any of them. */
export function cleanEvent(type: EventType, over: Record<string, unknown> = {}): CleanEvent {
  const money = { amount: "25.00", currency: "USD" };
  const byType: Record<EventType, Record<string, unknown>> = {
    register: {},
    login: {},
    order: money,
    payment: { ...money, cardFingerprint: "card-1" },
    coupon_claim: { campaignId: "camp-1", couponId: "coupon-1" },
    challenge_outcome: { challengedEventId: "evt-login", challengeKind: "sms", challengeOutcome: "failed" },
  };
  return { ...base, eventId: `evt-${type}`, type, ...byType[type], ...over } as CleanEvent;
}

/** A decision input with these feature values (version "fs-test"). */
export function input(event: CleanEvent, values: Record<string, number | null> = {}): DecisionInput {
  return { event, features: { version: "fs-test", values } };
}

/** A rule document with one rule; `over` replaces any field. */
export function oneRule(when: string, over: Record<string, unknown> = {}) {
  return {
    rules: [
      {
        id: "r1",
        description: "test rule",
        scenarios: ["payment"],
        when,
        action: "review",
        severity: "medium",
        mode: "active",
        ...over,
      },
    ],
  };
}
