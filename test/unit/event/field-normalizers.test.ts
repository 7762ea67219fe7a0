import { describe, expect, it } from "vitest";
import { normalizeCountry } from "#shared/domain/event/country";
import { currencyExponent } from "#shared/domain/event/currency";
import { normalizeEmail } from "#shared/domain/event/email";
import { normalizeIp } from "#shared/domain/event/ip-address";
import { minorUnits, normalizeMoney } from "#shared/domain/event/money";
import { normalizePhone } from "#shared/domain/event/phone";
import { normalizeTimestamp } from "#shared/domain/event/timestamp";

describe("normalizeTimestamp", () => {
  it.each([
    ["2025-06-01T12:00:00Z", "2025-06-01T12:00:00.000Z"],
    ["2025-06-01T12:00:00z", "2025-06-01T12:00:00.000Z"],
    ["2025-06-01t12:00:00.5Z", "2025-06-01T12:00:00.500Z"],
    ["2025-06-01T14:00:00.123+02:00", "2025-06-01T12:00:00.123Z"],
    ["2025-06-01T06:30:00.123456789-05:30", "2025-06-01T12:00:00.123Z"],
    ["2025-06-01T00:15:00+00:30", "2025-05-31T23:45:00.000Z"],
    ["2025-01-01T00:00:00.999999999+14:00", "2024-12-31T10:00:00.999Z"],
    ["2025-06-01T12:00:00-00:00", "2025-06-01T12:00:00.000Z"],
    ["2024-02-29T23:59:59.999Z", "2024-02-29T23:59:59.999Z"],
    ["2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000Z"],
    ["0050-06-01T00:00:00Z", "0050-06-01T00:00:00.000Z"],
    ["9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"],
  ])("normalizes %s to %s", (input, expected) => {
    expect(normalizeTimestamp(input)).toEqual({ ok: true, value: expected });
  });

  it.each([
    "2025-06-01T12:00:00",
    "2025-06-01 12:00:00Z",
    "2025-06-01",
    "20250601T120000Z",
    "2025-06-01T12:00Z",
    "2025-06-01T12:00:00.Z",
    "2025-06-01T12:00:00.1234567890Z",
    "2025-06-01T12:00:00+0200",
    "2025-06-01T12:00:00+02",
    "2025-13-01T00:00:00Z",
    "2025-00-10T00:00:00Z",
    "2025-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2025-04-31T00:00:00Z",
    "2025-06-01T24:00:00Z",
    "2025-06-01T12:60:00Z",
    "2025-06-01T23:59:60Z",
    "2025-06-01T12:00:00+24:00",
    "2025-06-01T12:00:00+01:60",
    "+002025-06-01T12:00:00Z",
    "0000-01-01T00:00:00+00:01",
    "9999-12-31T23:59:59-00:01",
    " 2025-06-01T12:00:00Z",
    "１２３",
  ])("rejects %j", (input) => {
    const result = normalizeTimestamp(input);
    expect(result.ok).toBe(false);
    expect(result.ok ? undefined : result.reason).toBe("INVALID_TIMESTAMP");
  });
});

describe("normalizeIp", () => {
  it.each([
    ["192.0.2.1", "192.0.2.1"],
    [" 192.0.2.1\t", "192.0.2.1"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["::FFFF:C000:0201", "192.0.2.1"],
    ["0:0:0:0:0:ffff:c000:201", "192.0.2.1"],
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::0:1", "2001:db8::1"],
    ["1:0:0:1:0:0:0:1", "1:0:0:1::1"],
    ["::", "::"],
    ["::1", "::1"],
    ["fe80::1", "fe80::1"],
    ["64:ff9b::192.0.2.1", "64:ff9b::c000:201"],
    ["::192.0.2.1", "::c000:201"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"],
  ])("normalizes %s to %s", (input, expected) => {
    expect(normalizeIp(input)).toEqual({ ok: true, value: expected });
  });

  it.each([
    "",
    "256.0.0.1",
    "1.2.3",
    "1.2.3.4.5",
    "010.0.0.1",
    "127.1",
    "0x7f.0.0.1",
    "2130706433",
    "1.2.3.4/32",
    "1.2.3.4:80",
    "2001:db8::g",
    "2001::db8::1",
    "12345::",
    "1:2:3:4:5:6:7:8:9",
    "fe80::1%eth0",
    "fe80::1%25eth0",
    "[::1]",
    "::ffff:1.2.3.04",
    "::ffff:256.1.1.1",
    "1.2.3.4::",
    "localhost",
    "::１",
  ])("rejects %j", (input) => {
    expect(normalizeIp(input)).toEqual({
      ok: false,
      reason: "INVALID_IP",
      message: "ip: not a strictly written IPv4 or IPv6 address",
    });
  });
});

describe("normalizeEmail", () => {
  it.each([
    ["alice@example.com", "alice@example.com"],
    ["  Alice.Smith@Example.COM \n", "alice.smith@example.com"],
    ["o'brien+tag@mail.example.co.uk", "o'brien+tag@mail.example.co.uk"],
    ["x@xn--bcher-kva.example", "x@xn--bcher-kva.example"],
    ["a@b.xn--p1ai", "a@b.xn--p1ai"],
    ["user_1@sub-domain.example.org", "user_1@sub-domain.example.org"],
  ])("normalizes %j to %s", (input, expected) => {
    expect(normalizeEmail(input)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ["alice.example.com", "email: has no '@'"],
    ["@example.com", "email: local part must have 1-64 characters"],
    [`${"a".repeat(65)}@example.com`, "email: local part must have 1-64 characters"],
    [
      `a@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.${"e".repeat(61)}.com`,
      "email: longer than 254 characters",
    ],
    ["alice..b@example.com", "email: local part is not a dot-atom"],
    [".alice@example.com", "email: local part is not a dot-atom"],
    ["alice.@example.com", "email: local part is not a dot-atom"],
    ['"alice"@example.com', "email: local part is not a dot-atom"],
    ["a@b@example.com", "email: local part is not a dot-atom"],
    ["alice@localhost", "email: domain is not a host name with at least two labels"],
    ["alice@example..com", "email: domain is not a host name with at least two labels"],
    ["alice@-example.com", "email: domain is not a host name with at least two labels"],
    ["alice@example.com.", "email: domain is not a host name with at least two labels"],
    ["alice@[192.0.2.1]", "email: domain is not a host name with at least two labels"],
    ["alice@example.123", "email: top-level domain is not alphabetic or punycode"],
    ["alice b@example.com", "email: must be printable ASCII without spaces"],
    ["jürgen@example.de", "email: must be printable ASCII without spaces"],
    ["", "email: must be printable ASCII without spaces"],
  ])("rejects %j", (input, message) => {
    expect(normalizeEmail(input)).toEqual({ ok: false, reason: "INVALID_EMAIL", message });
  });
});

describe("normalizePhone", () => {
  it.each([
    ["+12015550123", "+12015550123"],
    ["+1 (201) 555-0123", "+12015550123"],
    [" +44 20 7946 0958 ", "+442079460958"],
    ["+86 138 0013 8000", "+8613800138000"],
    ["+49.30.123456", "+4930123456"],
  ])("normalizes %j to %s", (input, expected) => {
    expect(normalizePhone(input)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ["2015550123", "phone: must be in international format: '+', country code, number"],
    ["0044 20 7946 0958", "phone: must be in international format: '+', country code, number"],
    ["++12015550123", "phone: must be in international format: '+', country code, number"],
    ["+1-800-FLOWERS", "phone: must be in international format: '+', country code, number"],
    ["+1 201 555 0123 ext 5", "phone: must be in international format: '+', country code, number"],
    ["tel:+12015550123", "phone: must be in international format: '+', country code, number"],
    ["+1 555", "phone: not a valid number for its country code"],
    ["+1 555 555 0100", "phone: not a valid number for its country code"],
    ["+999 1234 5678", "phone: not a valid number for its country code"],
    ["+44 20 7946 09", "phone: not a valid number for its country code"],
  ])("rejects %j", (input, message) => {
    expect(normalizePhone(input)).toEqual({ ok: false, reason: "INVALID_PHONE", message });
  });
});

describe("normalizeMoney", () => {
  it.each([
    ["12.34", "USD", "12.34", "USD", 1234],
    ["12.3", "usd", "12.30", "USD", 1230],
    ["12", "EUR", "12.00", "EUR", 1200],
    ["12.340", "USD", "12.34", "USD", 1234],
    ["0012.50", "GBP", "12.50", "GBP", 1250],
    ["0", "USD", "0.00", "USD", 0],
    ["0.000", "USD", "0.00", "USD", 0],
    ["1500", "JPY", "1500", "JPY", 1500],
    ["1500.000", "jpy", "1500", "JPY", 1500],
    ["0.5", "KWD", "0.500", "KWD", 500],
    ["1.234", "BHD", "1.234", "BHD", 1234],
    ["90071992547409.91", "USD", "90071992547409.91", "USD", 9007199254740991],
    [12.3, "USD", "12.30", "USD", 1230],
    [0.1, "EUR", "0.10", "EUR", 10],
    [1500, "JPY", "1500", "JPY", 1500],
    [-0, "USD", "0.00", "USD", 0],
  ] as const)("normalizes %j %s to %s %s", (amount, currency, expectedAmount, expectedCurrency, minor) => {
    const result = normalizeMoney(amount, currency);
    expect(result).toEqual({ ok: true, value: { amount: expectedAmount, currency: expectedCurrency } });
    expect(result.ok ? minorUnits(result.value) : undefined).toBe(minor);
  });

  it.each([
    ["-1.00", "USD", "amount: must not be negative"],
    [-1, "USD", "amount: must not be negative"],
    [-0.01, "USD", "amount: must not be negative"],
    [Number.NaN, "USD", "amount: must be a finite number"],
    [Number.POSITIVE_INFINITY, "USD", "amount: must be a finite number"],
    ["NaN", "USD", "amount: must be a plain decimal such as 12.34 (no sign, exponent or spaces)"],
    ["Infinity", "USD", "amount: must be a plain decimal such as 12.34 (no sign, exponent or spaces)"],
    ["1e3", "USD", "amount: must be a plain decimal such as 12.34 (no sign, exponent or spaces)"],
    ["+12", "USD", "amount: must be a plain decimal such as 12.34 (no sign, exponent or spaces)"],
    [" 12", "USD", "amount: must be a plain decimal such as 12.34 (no sign, exponent or spaces)"],
    ["12.", "USD", "amount: must be a plain decimal such as 12.34 (no sign, exponent or spaces)"],
    [".5", "USD", "amount: must be a plain decimal such as 12.34 (no sign, exponent or spaces)"],
    ["1,000.00", "USD", "amount: must be a plain decimal such as 12.34 (no sign, exponent or spaces)"],
    ["", "USD", "amount: must be a plain decimal such as 12.34 (no sign, exponent or spaces)"],
    ["１２", "USD", "amount: must be a plain decimal such as 12.34 (no sign, exponent or spaces)"],
    ["12.345", "USD", "amount: has more decimal places than USD allows (2)"],
    ["100.5", "JPY", "amount: has more decimal places than JPY allows (0)"],
    ["1.0001", "KWD", "amount: has more decimal places than KWD allows (3)"],
    [0.30000000000000004, "USD", "amount: has more decimal places than USD allows (2)"],
    [1e-7, "USD", "amount: has more decimal places than any currency allows"],
    ["90071992547409.92", "USD", "amount: is too large (more than 2^53 - 1 minor units)"],
    ["12345678901234567890", "JPY", "amount: is too large (more than 2^53 - 1 minor units)"],
    [1e20, "JPY", "amount: is too large (more than 2^53 - 1 minor units)"],
    [1e21, "USD", "amount: is too large (more than 2^53 - 1 minor units)"],
  ] as const)("rejects amount %j %s", (amount, currency, message) => {
    expect(normalizeMoney(amount, currency)).toEqual({ ok: false, reason: "INVALID_AMOUNT", message });
  });

  it.each(["XYZ", "HRK", "XAU", "XDR", "840", "US", "USDX", " USD", "ÜSD"])(
    "rejects currency %j",
    (currency) => {
      expect(normalizeMoney("1.00", currency)).toEqual({
        ok: false,
        reason: "INVALID_CURRENCY",
        message: "currency: not an active ISO-4217 code with a minor unit",
      });
    },
  );

  it("uses ISO-4217 minor units, not display digits", () => {
    expect([
      currencyExponent("USD"),
      currencyExponent("JPY"),
      currencyExponent("KWD"),
      currencyExponent("IQD"),
      currencyExponent("HUF"),
      currencyExponent("CLP"),
      currencyExponent("XCG"),
      currencyExponent("ANG"),
    ]).toEqual([2, 0, 3, 3, 2, 0, 2, undefined]);
  });
});

describe("normalizeCountry", () => {
  it.each([
    ["US", "US"],
    ["gb", "GB"],
    ["Cn", "CN"],
    ["XK", "XK"],
  ])("normalizes %s to %s", (input, expected) => {
    expect(normalizeCountry(input)).toEqual({ ok: true, value: expected });
  });

  it.each(["ZZ", "UK", "USA", "U1", "", "AA", "EU"])("rejects %j", (input) => {
    expect(normalizeCountry(input)).toEqual({
      ok: false,
      reason: "INVALID_COUNTRY",
      message: "geo.country: not an ISO-3166-1 alpha-2 code",
    });
  });
});
