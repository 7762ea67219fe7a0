import { describe, expect, it } from "vitest";
import { decodeRecord } from "#shared/domain/event/decode-record";
import { DEFAULT_DECODE_LIMITS, decodeLimitsSchema } from "#shared/domain/event/limits";
import { minorUnits } from "#shared/domain/event/money";
import { QUARANTINE_REASONS, REASON_DESCRIPTIONS } from "#shared/domain/event/reasons";

const ARRIVAL = new Date("2025-06-01T12:00:00.000Z");
const ctx = { arrivalTime: ARRIVAL };
const encode = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

const login = {
  schemaVersion: 1,
  eventId: "evt-login-1",
  type: "login",
  occurredAt: "2025-06-01T11:59:59Z",
  userId: "user-7",
  ip: "::ffff:198.51.100.7",
  deviceId: "dev-1",
};

describe("decodeRecord: valid events of each type", () => {
  it("cleans a register event with every optional field", () => {
    const result = decodeRecord(
      encode({
        schemaVersion: 1,
        eventId: "evt-reg-0001",
        type: "register",
        occurredAt: "2025-06-01T19:58:30.5+08:00",
        userId: "user-42",
        ip: "2001:0DB8:0000:0000:0000:0000:0000:0001",
        deviceId: "dev-9f3a",
        phone: "+44 20 7946 0958",
        email: "  Alice.Smith@Example.COM ",
        geo: { country: "gb", city: " London " },
        attributes: { channel: "web", referral: "friend", marketingOptIn: false, ageDays: -0 },
      }),
      ctx,
    );
    expect(result).toStrictEqual({
      ok: true,
      event: {
        schemaVersion: 1,
        eventId: "evt-reg-0001",
        type: "register",
        occurredAt: "2025-06-01T11:58:30.500Z",
        userId: "user-42",
        ip: "2001:db8::1",
        deviceId: "dev-9f3a",
        phone: "+442079460958",
        email: "alice.smith@example.com",
        geo: { country: "GB", city: "London" },
        attributes: { channel: "web", referral: "friend", marketingOptIn: false, ageDays: 0 },
      },
    });
  });

  it("cleans a minimal login event", () => {
    expect(decodeRecord(encode(login), ctx)).toStrictEqual({
      ok: true,
      event: {
        schemaVersion: 1,
        eventId: "evt-login-1",
        type: "login",
        occurredAt: "2025-06-01T11:59:59.000Z",
        userId: "user-7",
        ip: "198.51.100.7",
        deviceId: "dev-1",
      },
    });
  });

  it("cleans an order with a decimal-string amount and writes keys in contract order", () => {
    const result = decodeRecord(
      encode({
        attributes: { items: 3 },
        currency: "eur",
        amount: "1999.9",
        geo: { country: "de" },
        deviceId: "dev-2",
        ip: "203.0.113.9",
        userId: "user-8",
        occurredAt: "2025-06-01T13:00:00+02:00",
        type: "order",
        eventId: "evt-order-1",
        schemaVersion: 1,
      }),
      ctx,
    );
    expect(JSON.stringify(result.ok ? result.event : result)).toBe(
      '{"schemaVersion":1,"eventId":"evt-order-1","type":"order","occurredAt":"2025-06-01T11:00:00.000Z",' +
        '"userId":"user-8","ip":"203.0.113.9","deviceId":"dev-2","amount":"1999.90","currency":"EUR",' +
        '"geo":{"country":"DE"},"attributes":{"items":3}}',
    );
  });

  it.each([
    [1500, "JPY", "1500", 1500],
    ["0.5", "kwd", "0.500", 500],
    [19.99, "USD", "19.99", 1999],
    ["0", "GBP", "0.00", 0],
  ] as const)("cleans a payment of %j %s to %s", (amount, currency, expectedAmount, expectedMinor) => {
    const result = decodeRecord(
      encode({
        ...login,
        eventId: "evt-pay-1",
        type: "payment",
        amount,
        currency,
        cardFingerprint: "tok_9Xq/Ab+c=",
      }),
      ctx,
    );
    const expectedCurrency = currency.toUpperCase();
    expect(result).toStrictEqual({
      ok: true,
      event: {
        schemaVersion: 1,
        eventId: "evt-pay-1",
        type: "payment",
        occurredAt: "2025-06-01T11:59:59.000Z",
        userId: "user-7",
        ip: "198.51.100.7",
        deviceId: "dev-1",
        amount: expectedAmount,
        currency: expectedCurrency,
        cardFingerprint: "tok_9Xq/Ab+c=",
      },
    });
    expect(result.ok && result.event.type === "payment" ? minorUnits(result.event) : undefined).toBe(
      expectedMinor,
    );
  });

  it("cleans a coupon claim", () => {
    const result = decodeRecord(
      encode({
        ...login,
        eventId: "evt-coupon-1",
        type: "coupon_claim",
        campaignId: "summer-2025",
        couponId: "CPN:0042",
        email: "Bob@Example.org",
      }),
      ctx,
    );
    expect(result).toStrictEqual({
      ok: true,
      event: {
        schemaVersion: 1,
        eventId: "evt-coupon-1",
        type: "coupon_claim",
        occurredAt: "2025-06-01T11:59:59.000Z",
        userId: "user-7",
        ip: "198.51.100.7",
        deviceId: "dev-1",
        email: "bob@example.org",
        campaignId: "summer-2025",
        couponId: "CPN:0042",
      },
    });
  });

  it("accepts a payment without a card (non-card methods)", () => {
    const result = decodeRecord(encode({ ...login, type: "payment", amount: "5.00", currency: "USD" }), ctx);
    expect(
      result.ok && result.event.type === "payment" ? result.event.cardFingerprint : "absent?",
    ).toBeUndefined();
  });
});

describe("decodeRecord: event-time bounds", () => {
  const at = (offsetMs: number) =>
    encode({ ...login, occurredAt: new Date(ARRIVAL.getTime() + offsetMs).toISOString() });

  it.each([
    [5 * 60_000, "decoded"],
    [5 * 60_000 + 1, "EVENT_IN_FUTURE"],
    [-7 * 86_400_000, "decoded"],
    [-7 * 86_400_000 - 1, "EVENT_TOO_OLD"],
    [0, "decoded"],
  ])("with occurredAt %i ms from arrival gives %s", (offset, expected) => {
    const result = decodeRecord(at(offset), ctx);
    expect(result.ok ? "decoded" : result.reason).toBe(expected);
  });

  it("says by how much, without the timestamp itself", () => {
    expect(decodeRecord(at(3_600_000), ctx)).toEqual({
      ok: false,
      reason: "EVENT_IN_FUTURE",
      message: "occurredAt: 3600000 ms after arrival time; at most 300000 ms allowed",
      eventId: "evt-login-1",
    });
    expect(decodeRecord(at(-8 * 86_400_000), ctx)).toEqual({
      ok: false,
      reason: "EVENT_TOO_OLD",
      message: "occurredAt: 691200000 ms before arrival time; at most 604800000 ms allowed",
      eventId: "evt-login-1",
    });
  });

  it("honours configured tolerances", () => {
    const strict = { arrivalTime: ARRIVAL, limits: { maxFutureSkewMs: 0, maxLatenessMs: 1000 } };
    expect(decodeRecord(at(1), strict)).toMatchObject({ ok: false, reason: "EVENT_IN_FUTURE" });
    expect(decodeRecord(at(-1000), strict)).toMatchObject({ ok: true });
    expect(decodeRecord(at(-1001), strict)).toMatchObject({ ok: false, reason: "EVENT_TOO_OLD" });
  });

  it("compares instants, not wall-clock text", () => {
    // 23:00 the previous day at -13:00 is 12:00 UTC on arrival day: on time.
    expect(decodeRecord(encode({ ...login, occurredAt: "2025-05-31T23:00:00-13:00" }), ctx)).toMatchObject({
      ok: true,
      event: { occurredAt: "2025-06-01T12:00:00.000Z" },
    });
  });
});

describe("decodeRecord: limits and faults", () => {
  it("applies the record size limit in bytes, not characters", () => {
    const record = encode({ ...login, attributes: { note: "é".repeat(100) } });
    expect(
      decodeRecord(record, { arrivalTime: ARRIVAL, limits: { maxRecordBytes: record.byteLength } }).ok,
    ).toBe(true);
    expect(
      decodeRecord(record, { arrivalTime: ARRIVAL, limits: { maxRecordBytes: record.byteLength - 1 } }),
    ).toEqual({
      ok: false,
      reason: "RECORD_TOO_LARGE",
      message: `record has ${record.byteLength} bytes; the limit is ${record.byteLength - 1}`,
    });
  });

  it("applies a configured depth limit", () => {
    const record = encode({ ...login, geo: { country: "US" } });
    expect(decodeRecord(record, { arrivalTime: ARRIVAL, limits: { maxDepth: 2 } }).ok).toBe(true);
    expect(decodeRecord(record, { arrivalTime: ARRIVAL, limits: { maxDepth: 1 } })).toMatchObject({
      reason: "NESTING_TOO_DEEP",
    });
  });

  it("rejects 10 000-deep nesting fast and without a stack overflow", () => {
    const started = performance.now();
    expect(decodeRecord(encode(`${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`), ctx)).toEqual({
      ok: false,
      reason: "NESTING_TOO_DEEP",
      message: "objects and arrays nested deeper than 8 levels",
    });
    expect(performance.now() - started).toBeLessThan(50);
  });

  it("reports an invalid arrival time as a decoder fault instead of passing the time check", () => {
    expect(decodeRecord(encode(login), { arrivalTime: new Date(Number.NaN) })).toEqual({
      ok: false,
      reason: "DECODER_FAULT",
      message: "arrivalTime is not a valid date",
    });
  });

  it("reports its own failures as DECODER_FAULT instead of throwing", () => {
    const brokenContext = {
      get arrivalTime(): Date {
        throw new RangeError("boom");
      },
    };
    expect(decodeRecord(encode(login), brokenContext)).toEqual({
      ok: false,
      reason: "DECODER_FAULT",
      message: "decoder failed with RangeError",
    });
  });

  it("validates configured limits and fills in defaults", () => {
    expect(decodeLimitsSchema.parse({})).toEqual(DEFAULT_DECODE_LIMITS);
    expect(decodeLimitsSchema.parse({ maxDepth: 4 })).toEqual({ ...DEFAULT_DECODE_LIMITS, maxDepth: 4 });
    expect(decodeLimitsSchema.safeParse({ maxRecordBytes: 2 * 1024 * 1024 }).success).toBe(false);
    expect(decodeLimitsSchema.safeParse({ maxDepth: 1.5 }).success).toBe(false);
    expect(decodeLimitsSchema.safeParse({ maxLatenessMs: -1 }).success).toBe(false);
  });
});

describe("decodeRecord: messages", () => {
  it.each([
    [{ ...login, userId: 5 }, "SCHEMA_VIOLATION", "userId: expected string, got number"],
    [{ ...login, deviceId: undefined }, "SCHEMA_VIOLATION", "deviceId: required"],
    [{ ...login, eventId: "x".repeat(129) }, "SCHEMA_VIOLATION", "eventId: longer than 128 characters"],
    [{ ...login, userId: "" }, "SCHEMA_VIOLATION", "userId: must not be empty (and 1 more)"],
    [{ ...login, userId: "a b" }, "SCHEMA_VIOLATION", "userId: must match /^[A-Za-z0-9._:=+/-]+$/"],
    [{ ...login, extra: 1, "555-0100": 2 }, "SCHEMA_VIOLATION", "(record): unknown fields extra, *"],
    [
      { ...login, attributes: { flag: null } },
      "SCHEMA_VIOLATION",
      "attributes.flag: expected string, number or boolean, got null",
    ],
    [
      { ...login, attributes: { "+15550100": 1 } },
      "SCHEMA_VIOLATION",
      "attributes.*: invalid key: must match /^[A-Za-z][A-Za-z0-9_]*$/",
    ],
    [{ ...login, geo: { country: "US", city: "" } }, "SCHEMA_VIOLATION", "geo.city: must not be empty"],
    [
      { ...login, attributes: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) },
      "SCHEMA_VIOLATION",
      "attributes: more than 32 keys",
    ],
    [{ ...login, userId: 5, ip: 6 }, "SCHEMA_VIOLATION", "userId: expected string, got number (and 1 more)"],
    [
      { ...login, type: "payment", amount: true, currency: "USD" },
      "SCHEMA_VIOLATION",
      "amount: expected string or number, got boolean",
    ],
    [
      { ...login, schemaVersion: 3 },
      "UNSUPPORTED_SCHEMA_VERSION",
      "schemaVersion: not supported (supported: 1)",
    ],
    [{ ...login, schemaVersion: 1.5 }, "SCHEMA_VIOLATION", "schemaVersion: expected an integer"],
    [
      { ...login, type: "Login" },
      "UNKNOWN_TYPE",
      "type: not one of register, login, order, payment, coupon_claim, challenge_outcome",
    ],
    [
      { ...login, attributes: { "k\u0007": "x" } },
      "INVALID_STRING",
      "attributes: a key contains a control character",
    ],
    [["a"], "NOT_AN_OBJECT", "record is a JSON array, not an object"],
    ['"text"', "NOT_AN_OBJECT", "record is a JSON string, not an object"],
  ] as const)("%j gives %s: %s", (value, reason, message) => {
    const result = decodeRecord(encode(value), ctx);
    expect(result.ok ? "decoded" : [result.reason, result.message]).toEqual([reason, message]);
  });

  it("has a description for every reason", () => {
    expect(Object.keys(REASON_DESCRIPTIONS).sort()).toEqual([...QUARANTINE_REASONS].sort());
  });
});
