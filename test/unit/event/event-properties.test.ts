import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { COUNTRY_CODES } from "#shared/domain/event/country";
import { CURRENCY_EXPONENTS } from "#shared/domain/event/currency";
import { decodeRecord } from "#shared/domain/event/decode-record";
import { DEFAULT_DECODE_LIMITS } from "#shared/domain/event/limits";
import { normalizeEvent } from "#shared/domain/event/normalize-event";
import { isQuarantineReason } from "#shared/domain/event/reasons";
import {
  CHALLENGE_KINDS,
  CHALLENGE_OUTCOMES,
  type CleanEvent,
  EVENT_TYPES,
  riskEventSchema,
} from "#shared/domain/event/schema";
import { hasControlCharacter, hasLoneSurrogate } from "#shared/domain/event/strings";
import { VALID_PHONES } from "../../fixtures/valid-events";

/**
 * Property tests. Each arbitrary produces a pair: the event as a careless but valid producer
 * might write it, and the clean event worked out independently of the code under test (the
 * canonical value is generated first, then made messy).
 */

const ARRIVAL = new Date("2025-06-01T12:00:00.000Z");
const ctx = { arrivalTime: ARRIVAL };
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

interface Case<T> {
  readonly written: T;
  readonly clean: T;
}

const pad = fc.constantFrom("", " ", "  ", "\t", "\n");

/** Randomly changes the case of ASCII letters. */
const messyCase = (text: string) =>
  fc
    .array(fc.boolean(), { minLength: text.length, maxLength: text.length })
    .map((upper) => [...text].map((ch, i) => (upper[i] ? ch.toUpperCase() : ch)).join(""));

const identifier = fc.stringMatching(/^[A-Za-z0-9._:=+/-]{1,40}$/);

const timestamp: fc.Arbitrary<Case<string>> = fc
  .record({
    ms: fc.integer({
      min: ARRIVAL.getTime() - DEFAULT_DECODE_LIMITS.maxLatenessMs,
      max: ARRIVAL.getTime() + DEFAULT_DECODE_LIMITS.maxFutureSkewMs,
    }),
    quarterHours: fc.integer({ min: -14 * 4, max: 14 * 4 }),
    subMillisecond: fc.stringMatching(/^\d{0,6}$/),
    lowerCase: fc.boolean(),
  })
  .map(({ ms, quarterHours, subMillisecond, lowerCase }) => {
    const offset = quarterHours * 15;
    const local = new Date(ms + offset * 60_000).toISOString().slice(0, 23) + subMillisecond;
    const abs = Math.abs(offset);
    const zone =
      offset === 0
        ? "Z"
        : `${offset > 0 ? "+" : "-"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
    const text = `${local}${zone}`;
    return { written: lowerCase ? text.toLowerCase() : text, clean: new Date(ms).toISOString() };
  });

const byte = fc.integer({ min: 0, max: 255 });
const hex4 = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);

const ipv4: fc.Arbitrary<Case<string>> = fc
  .tuple(byte, byte, byte, byte, fc.integer({ min: 0, max: 3 }), pad)
  .map(([a, b, c, d, form, space]) => {
    const clean = `${a}.${b}.${c}.${d}`;
    const forms = [
      clean,
      `::ffff:${clean}`,
      `::FFFF:${hex4(a, b).toUpperCase()}:${hex4(c, d)}`,
      `${space}${clean}${space}`,
    ];
    return { written: forms[form] ?? clean, clean };
  });

/** RFC 5952 text, written here independently of ipaddr.js. */
function rfc5952(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

const group = fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 0xffff }));
const ipv6: fc.Arbitrary<Case<string>> = fc
  .tuple(fc.array(group, { minLength: 8, maxLength: 8 }), fc.boolean())
  .filter(([groups]) => !(groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff))
  .map(([groups, longForm]) => {
    const clean = rfc5952(groups);
    const written = longForm
      ? groups.map((g) => g.toString(16).padStart(4, "0").toUpperCase()).join(":")
      : clean;
    return { written, clean };
  });

const email: fc.Arbitrary<Case<string>> = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\.[a-z0-9_-]{1,10}){0,2}$/),
    fc.array(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/), { minLength: 1, maxLength: 3 }),
    fc.stringMatching(/^([a-z]{2,8}|xn--[a-z0-9]{2,8})$/),
  )
  .map(([local, labels, top]) => `${local}@${[...labels, top].join(".")}`)
  .chain((clean) =>
    fc.tuple(messyCase(clean), pad, pad).map(([cased, l, r]) => ({ written: `${l}${cased}${r}`, clean })),
  );

const phone: fc.Arbitrary<Case<string>> = fc
  .tuple(fc.constantFrom(...VALID_PHONES), fc.integer({ min: 0, max: 2 }), pad)
  .map(([p, form, space]) => {
    const spaced = `${p.e164.slice(0, 3)} ${p.e164.slice(3, 6)}-${p.e164.slice(6)}`;
    const forms = [p.written, p.e164, `${space}${spaced}${space}`];
    return { written: forms[form] ?? p.e164, clean: p.e164 };
  });

interface MoneyCase {
  readonly written: { amount: string | number; currency: string };
  readonly clean: { amount: string; currency: string };
}

const money: fc.Arbitrary<MoneyCase> = fc
  .tuple(
    fc.constantFrom(...CURRENCY_EXPONENTS.entries()),
    fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 999_999_999_999_999 })),
    fc.integer({ min: 0, max: 3 }),
    fc.nat(2),
    fc.nat(2),
    fc.boolean(),
  )
  .map(([[currency, exponent], minor, form, extraZeros, leadingZeros, lowerCurrency]) => {
    const digits = String(minor).padStart(exponent + 1, "0");
    const amount = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
    const padded =
      "0".repeat(leadingZeros) +
      (exponent === 0 && extraZeros > 0
        ? `${amount}.${"0".repeat(extraZeros)}`
        : amount + "0".repeat(extraZeros));
    const written = [amount, padded, Number(amount), Number(amount)][form] ?? amount;
    return {
      written: { amount: written, currency: lowerCurrency ? currency.toLowerCase() : currency },
      clean: { amount, currency },
    };
  });

const cleanText = (maxLength: number) =>
  fc
    .oneof(fc.string({ maxLength }), fc.string({ unit: "grapheme", maxLength }))
    .filter((s) => s.length <= maxLength && !hasLoneSurrogate(s) && !hasControlCharacter(s));

const geo = fc
  .tuple(
    fc.constantFrom(...COUNTRY_CODES),
    fc.boolean(),
    fc.option(cleanText(90).filter((city) => city !== "" && city === city.trim())),
    pad,
  )
  .map(([country, lower, city, space]) => ({
    written: {
      country: lower ? country.toLowerCase() : country,
      ...(city === null ? {} : { city: `${space}${city}${space}` }),
    },
    clean: { country, ...(city === null ? {} : { city }) },
  }));

const attributeValue = fc.oneof(
  cleanText(256),
  fc.boolean(),
  fc.integer(),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((n) => !(Number.isInteger(n) && !Number.isSafeInteger(n))),
);

const attributes = fc
  .dictionary(
    fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,20}$/).filter((k) => k !== "constructor" && k !== "prototype"),
    attributeValue,
    { maxKeys: 32, noNullPrototype: true },
  )
  .map((written) => ({
    written,
    clean: Object.fromEntries(Object.entries(written).map(([k, v]) => [k, v === 0 ? 0 : v])),
  }));

type Written = Record<string, unknown>;

/** A valid event as written by a producer, and its clean form. */
const event: fc.Arbitrary<{ written: Written; clean: CleanEvent }> = fc
  .record({
    type: fc.constantFrom(...EVENT_TYPES),
    eventId: identifier,
    userId: identifier,
    deviceId: identifier,
    occurredAt: timestamp,
    ip: fc.oneof(ipv4, ipv6),
    phone: fc.option(phone),
    email: fc.option(email),
    money,
    cardFingerprint: fc.option(identifier),
    campaignId: identifier,
    couponId: identifier,
    challenge: fc.record({
      challengedEventId: identifier,
      challengeKind: fc.constantFrom(...CHALLENGE_KINDS),
      challengeOutcome: fc.constantFrom(...CHALLENGE_OUTCOMES),
    }),
    geo: fc.option(geo),
    attributes: fc.option(attributes),
  })
  .map((r) => {
    const optional = <K extends string, V>(key: K, value: Case<V> | null, side: "written" | "clean") =>
      value === null ? {} : { [key]: value[side] };
    const build = (side: "written" | "clean") => {
      const specific =
        r.type === "order"
          ? { ...r.money[side] }
          : r.type === "payment"
            ? {
                ...r.money[side],
                ...(r.cardFingerprint === null ? {} : { cardFingerprint: r.cardFingerprint }),
              }
            : r.type === "coupon_claim"
              ? { campaignId: r.campaignId, couponId: r.couponId }
              : r.type === "challenge_outcome"
                ? { ...r.challenge }
                : {};
      return {
        schemaVersion: 1,
        eventId: r.eventId,
        type: r.type,
        occurredAt: r.occurredAt[side],
        userId: r.userId,
        ip: r.ip[side],
        deviceId: r.deviceId,
        ...optional("phone", r.phone, side),
        ...optional("email", r.email, side),
        ...specific,
        ...optional("geo", r.geo, side),
        ...optional("attributes", r.attributes, side),
      };
    };
    return { written: build("written"), clean: build("clean") as CleanEvent };
  });

const RUNS = { numRuns: 300 };

describe("normalization and the schema round trip", () => {
  it("decodes any valid event to exactly its clean form", () => {
    fc.assert(
      fc.property(event, ({ written, clean }) => {
        expect(decodeRecord(encode(written), ctx)).toStrictEqual({ ok: true, event: clean });
      }),
      RUNS,
    );
  });

  it("normalizes a schema-valid event the same way the decoder does", () => {
    fc.assert(
      fc.property(event, ({ written, clean }) => {
        expect(normalizeEvent(riskEventSchema.parse(written))).toStrictEqual({ ok: true, event: clean });
      }),
      RUNS,
    );
  });

  it("is idempotent: normalize(normalize(x)) = normalize(x)", () => {
    fc.assert(
      fc.property(event, ({ written }) => {
        const once = normalizeEvent(riskEventSchema.parse(written));
        expect(once.ok).toBe(true);
        if (!once.ok) return;
        expect(normalizeEvent(once.event)).toStrictEqual(once);
      }),
      RUNS,
    );
  });

  it("decodes a serialized clean event to itself", () => {
    fc.assert(
      fc.property(event, ({ clean }) => {
        const first = decodeRecord(encode(clean), ctx);
        expect(first).toStrictEqual({ ok: true, event: clean });
        if (!first.ok) return;
        expect(decodeRecord(encode(first.event), ctx)).toStrictEqual(first);
      }),
      RUNS,
    );
  });
});

describe("decodeRecord is total", () => {
  const settles = (bytes: Uint8Array) => {
    const result = decodeRecord(bytes, ctx);
    if (!result.ok) {
      expect(isQuarantineReason(result.reason)).toBe(true);
      expect(result.reason).not.toBe("DECODER_FAULT");
      expect(result.message.length).toBeGreaterThan(0);
    }
    return result;
  };

  it("on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        settles(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it("on arbitrary strings, including lone surrogates once encoded", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        settles(new TextEncoder().encode(text));
      }),
      { numRuns: 1000 },
    );
  });

  it("on arbitrary JSON values", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        settles(encode(value));
      }),
      { numRuns: 1000 },
    );
  });

  it("on valid events with one field replaced by anything JSON can hold", () => {
    const field = fc.constantFrom(
      "schemaVersion",
      "eventId",
      "type",
      "occurredAt",
      "userId",
      "ip",
      "deviceId",
      "phone",
      "email",
      "amount",
      "currency",
      "cardFingerprint",
      "campaignId",
      "couponId",
      "geo",
      "attributes",
      "somethingElse",
    );
    fc.assert(
      fc.property(event, field, fc.jsonValue({ maxDepth: 3 }), ({ written }, name, value) => {
        const result = settles(encode({ ...written, [name]: value }));
        // Whatever got through is clean: it normalizes to itself and survives a round trip.
        if (result.ok) {
          expect(normalizeEvent(result.event)).toStrictEqual(result);
          expect(decodeRecord(encode(result.event), ctx)).toStrictEqual(result);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("never quotes a rejected email, phone or ip in its message", () => {
    const junk = fc.string({ minLength: 4, maxLength: 40 }).filter((s) => !/^[a-z]+$/i.test(s.trim()));
    fc.assert(
      fc.property(event, fc.constantFrom("email", "phone", "ip"), junk, ({ written }, name, value) => {
        const result = decodeRecord(encode({ ...written, [name]: value }), ctx);
        if (!result.ok) expect(result.message.includes(value)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
