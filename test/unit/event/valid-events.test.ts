import { describe, expect, it } from "vitest";
import { decodeRecord } from "#shared/domain/event/decode-record";
import { normalizePhone } from "#shared/domain/event/phone";
import { EVENT_TYPES } from "#shared/domain/event/schema";
import {
  encodeEvent,
  formatWithOffset,
  makeValidEvent,
  makeValidTrafficEvent,
  VALID_PHONES,
} from "../../fixtures/valid-events";

const NOW = new Date("2025-06-01T12:00:00.000Z");
const occurredAt = new Date(NOW.getTime() - 30_000);

describe("valid-event generator", () => {
  it("produces events of every type that decode, with unique eventIds", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 400; i++) {
      for (const type of EVENT_TYPES) {
        const result = decodeRecord(encodeEvent(makeValidEvent(i, type, occurredAt, { runId: "t" })), {
          arrivalTime: NOW,
        });
        expect(result.ok ? [result.event.type, result.event.occurredAt] : result).toEqual([
          type,
          "2025-06-01T11:59:30.000Z",
        ]);
        if (result.ok) ids.add(result.event.eventId);
      }
    }
    expect(ids.size).toBe(400 * EVENT_TYPES.length);
  });

  it("is deterministic", () => {
    expect(makeValidEvent(17, "payment", occurredAt)).toEqual(makeValidEvent(17, "payment", occurredAt));
    expect(JSON.stringify(makeValidEvent(3, "order", occurredAt))).toBe(
      JSON.stringify(makeValidEvent(3, "order", occurredAt)),
    );
  });

  it("writes the documented example event for index 0", () => {
    expect(JSON.stringify(makeValidEvent(0, "order", occurredAt, { runId: "demo" }))).toBe(
      JSON.stringify({
        schemaVersion: 1,
        eventId: "demo-order-0",
        type: "order",
        occurredAt: "2025-06-01T19:59:30.000+08:00",
        userId: "user-761",
        ip: "10.121.55.30",
        deviceId: "dev-7117",
        phone: "+44 20 7946 0958",
        email: "  User.761@Example.COM ",
        geo: { country: "gb", city: "London" },
        attributes: { channel: "ios", sessionAgeSeconds: 961, firstPurchase: true },
        amount: "4358.61",
        currency: "USD",
      }),
    );
  });

  it("cycles through the six types", () => {
    expect(Array.from({ length: 7 }, (_, i) => makeValidTrafficEvent(i, occurredAt).type)).toEqual([
      "register",
      "login",
      "order",
      "payment",
      "coupon_claim",
      "challenge_outcome",
      "register",
    ]);
  });

  it("exercises cleaning: mixed-case emails, formatted phones, mapped IPv6 and offsets", () => {
    const events = Array.from({ length: 40 }, (_, i) => makeValidTrafficEvent(i, occurredAt));
    expect(events.some((e) => e.email !== undefined && e.email !== e.email.trim().toLowerCase())).toBe(true);
    expect(events.some((e) => e.ip.startsWith("::ffff:"))).toBe(true);
    expect(events.some((e) => e.ip.includes("0DB8"))).toBe(true);
    expect(events.some((e) => e.occurredAt.endsWith("-05:30"))).toBe(true);
    expect(events.some((e) => "amount" in e && typeof e.amount === "number")).toBe(true);
  });

  it.each(VALID_PHONES.map((p) => [p.written, p.e164]))(
    "phone %s is valid and cleans to %s",
    (written, e164) => {
      expect(normalizePhone(written)).toEqual({ ok: true, value: e164 });
    },
  );

  it.each([
    [0, "2025-06-01T11:59:30.000Z"],
    [60, "2025-06-01T12:59:30.000+01:00"],
    [-330, "2025-06-01T06:29:30.000-05:30"],
  ])("formats an instant %i minutes east of UTC", (offset, expected) => {
    expect(formatWithOffset(occurredAt, offset)).toBe(expected);
  });
});
