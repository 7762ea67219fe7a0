import type { CleanEvent, EventType } from "#shared/domain/event/index";

/**
 * One clean event per type with every optional field present. Compilation evaluates each rule
 * against its scenarios' samples to catch type mistakes (comparing the decimal string
 * `event.amount` with a number, say) before a rule reaches production.
 */
export const SAMPLE_EVENTS: Readonly<Record<EventType, CleanEvent>> = {
  register: { schemaVersion: 1, eventId: "sample-register", type: "register", ...actor() },
  login: { schemaVersion: 1, eventId: "sample-login", type: "login", ...actor() },
  order: {
    schemaVersion: 1,
    eventId: "sample-order",
    type: "order",
    ...actor(),
    amount: "12.34",
    currency: "USD",
  },
  payment: {
    schemaVersion: 1,
    eventId: "sample-payment",
    type: "payment",
    ...actor(),
    amount: "12.34",
    currency: "USD",
    cardFingerprint: "sample-card",
  },
  coupon_claim: {
    schemaVersion: 1,
    eventId: "sample-coupon",
    type: "coupon_claim",
    ...actor(),
    campaignId: "sample-campaign",
    couponId: "sample-coupon",
  },
  challenge_outcome: {
    schemaVersion: 1,
    eventId: "sample-challenge-outcome",
    type: "challenge_outcome",
    ...actor(),
    challengedEventId: "sample-login",
    challengeKind: "sms",
    challengeOutcome: "failed",
  },
};

function actor() {
  return {
    occurredAt: "2026-01-01T00:00:00.000Z",
    userId: "sample-user",
    ip: "192.0.2.1",
    deviceId: "sample-device",
    phone: "+12015550123",
    email: "sample@example.com",
    geo: { country: "US", city: "New York" },
    attributes: {},
  };
}
