import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { numberProblem, scanJson } from "#shared/domain/event/json-scan";

const DEEP = 64;

describe("scanJson", () => {
  it.each([
    "{}",
    "[]",
    '""',
    "0",
    "-0",
    "1.5e-7",
    "true",
    "false",
    "null",
    ' \t\n\r{ "a" : [ 1 , { "b" : null } ] } \n',
    '{"a":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00"}',
    '{"a":1,"b":2,"A":3}',
    '[{"a":1},{"a":1}]',
    '{"a":{"a":{"a":1}}}',
    '"😀 é"',
    "1E+2",
    "0.30000000000000004",
    "9007199254740991",
    "-9007199254740991",
    "5e-324",
    "0e99999",
  ])("accepts %j", (text) => {
    expect(scanJson(text, DEEP)).toEqual({ ok: true });
  });

  it.each([
    ["", "unexpected end of input at character 0"],
    ["   ", "unexpected end of input at character 3"],
    ["{", "expected a string key at character 1"],
    ['{"a"', "expected ':' at character 4"],
    ['{"a":}', "unexpected character at character 5"],
    ['{"a":1,}', "expected a string key at character 7"],
    ["[1,]", "unexpected character at character 3"],
    ["[1 2]", "expected ',' or ']' at character 3"],
    ['{"a":1 "b":2}', "expected ',' or '}' at character 7"],
    ["{} {}", "unexpected data after the JSON value at character 3"],
    ["{'a':1}", "expected a string key at character 1"],
    ["01", "unexpected data after the JSON value at character 1"],
    ["1.", "malformed number at character 0"],
    [".5", "unexpected character at character 0"],
    ["-", "malformed number at character 0"],
    ["1e", "malformed number at character 0"],
    ["+1", "unexpected character at character 0"],
    ["NaN", "unexpected character at character 0"],
    ["tru", "unexpected character at character 0"],
    ['"abc', "malformed string at character 0"],
    ['"a\\x"', "malformed string at character 0"],
    ['"\\u12"', "malformed string at character 0"],
    ['"a\u0001"', "malformed string at character 0"],
    ["\uFEFF{}", "unexpected character at character 0"],
    ["{\u00a0}", "expected a string key at character 1"],
  ])("rejects %j as not JSON", (text, message) => {
    expect(scanJson(text, DEEP)).toEqual({ ok: false, reason: "NOT_JSON", message });
  });

  it("allows exactly maxDepth levels and refuses one more", () => {
    expect(scanJson("[[[1]]]", 3)).toEqual({ ok: true });
    expect(scanJson('{"a":{"b":[]}}', 3)).toEqual({ ok: true });
    expect(scanJson("[[[[1]]]]", 3)).toEqual({
      ok: false,
      reason: "NESTING_TOO_DEEP",
      message: "objects and arrays nested deeper than 3 levels",
    });
  });

  it("stops at the depth limit without reading the rest of a 10 000-level document", () => {
    const text = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    const started = performance.now();
    const result = scanJson(text, 8);
    expect(result).toEqual({
      ok: false,
      reason: "NESTING_TOO_DEEP",
      message: "objects and arrays nested deeper than 8 levels",
    });
    expect(performance.now() - started).toBeLessThan(50);
  });

  it.each([
    ['{"__proto__":1}', '(record): forbidden key "__proto__"'],
    ['{"constructor":1}', '(record): forbidden key "constructor"'],
    ['{"prototype":1}', '(record): forbidden key "prototype"'],
    ['{"a":{"b":[{"__proto__":1}]}}', 'a.b[0]: forbidden key "__proto__"'],
    ['{"\\u005f\\u005fproto\\u005f\\u005f":1}', '(record): forbidden key "__proto__"'],
    ['{"constr\\u0075ctor":1}', '(record): forbidden key "constructor"'],
  ])("refuses forbidden key in %s", (text, message) => {
    expect(scanJson(text, DEEP)).toEqual({ ok: false, reason: "FORBIDDEN_KEY", message });
  });

  it("accepts keys that merely contain a forbidden word", () => {
    expect(scanJson('{"__proto":1,"constructors":2,"Prototype":3,"x":"__proto__"}', DEEP)).toEqual({
      ok: true,
    });
  });

  it.each([
    ['{"a":1,"a":2}', "a: key appears more than once"],
    ['{"type":"x","\\u0074ype":"y"}', "type: key appears more than once"],
    ['{"geo":{"city":"a","city":"b"}}', "geo.city: key appears more than once"],
    ['{"k1":1,"k1":2}', "*: key appears more than once"],
  ])("refuses duplicate key in %s", (text, message) => {
    expect(scanJson(text, DEEP)).toEqual({ ok: false, reason: "DUPLICATE_KEY", message });
  });

  it.each([
    ['{"amount":9007199254740993}', "amount: number cannot be represented exactly"],
    ['{"amount":9007199254740992}', "amount: integer is beyond ±(2^53 - 1)"],
    ['{"a":[1,2,-9007199254740992]}', "a[2]: integer is beyond ±(2^53 - 1)"],
    ['{"a":1e400}', "a: number is too large to represent"],
    ['{"a":-1e400}', "a: number is too large to represent"],
    ['{"a":1e-400}', "a: number cannot be represented exactly"],
    ['{"a":0.1000000000000000000001}', "a: number cannot be represented exactly"],
    ['{"a":1e300}', "a: integer is beyond ±(2^53 - 1)"],
    ['{"a":123456789012345678}', "a: number cannot be represented exactly"],
  ])("refuses inexact number in %s", (text, message) => {
    const result = scanJson(text, DEEP);
    expect(result.ok).toBe(false);
    expect(result.ok ? undefined : result.reason).toBe("UNSAFE_NUMBER");
    expect(result.ok ? undefined : result.message).toContain(message);
  });

  it("reports the first problem in document order", () => {
    expect(scanJson('{"a":1,"a":{"__proto__":1}}', DEEP)).toMatchObject({ reason: "DUPLICATE_KEY" });
    expect(scanJson('{"__proto__":1,"a":1,"a":2}', DEEP)).toMatchObject({ reason: "FORBIDDEN_KEY" });
    expect(scanJson('{"a":1e400,"b":', DEEP)).toMatchObject({ reason: "UNSAFE_NUMBER" });
    expect(scanJson('{"a":1,"b":', DEEP)).toMatchObject({ reason: "NOT_JSON" });
  });

  it("agrees with JSON.parse on what is JSON (arbitrary and corrupted JSON text)", () => {
    const jsonText = fc.json({ depthSize: "small" });
    const corrupted = fc
      .tuple(
        jsonText,
        fc.nat(),
        fc.constantFrom("", "{", "}", "[", "]", ",", ":", '"', "\\", "-", "0", "e", " ", "\u0000"),
      )
      .map(([text, at, insert]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        return text.slice(0, i) + insert + text.slice(i + (at % 2));
      });
    fc.assert(
      fc.property(fc.oneof(jsonText, corrupted, fc.string()), (text) => {
        const scan = scanJson(text, 1000);
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        if (scan.ok) expect(parses).toBe(true);
        if (!scan.ok && scan.reason === "NOT_JSON") expect(parses).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it("accepts every JSON text JSON.stringify produces from finite safe values without forbidden keys", () => {
    fc.assert(
      fc.property(fc.jsonValue({ depthSize: "small" }), (value) => {
        const text = JSON.stringify(value);
        const scan = scanJson(text, 1000);
        const hasForbiddenKey = /"(__proto__|constructor|prototype)":/.test(text);
        const hasUnsafeInteger = /(?<![\w.])-?\d{16,}(?![\d.eE])/.test(text);
        if (!hasForbiddenKey && !hasUnsafeInteger && !/e\+/.test(text)) expect(scan).toEqual({ ok: true });
      }),
      { numRuns: 1000 },
    );
  });
});

describe("numberProblem", () => {
  it.each([
    "0",
    "-0",
    "1",
    "-1",
    "12.34",
    "1.5e-7",
    "1E2",
    "0.30000000000000004",
    "5e-324",
    "9007199254740991",
  ])("accepts %s", (literal) => {
    expect(numberProblem(literal)).toBeUndefined();
  });

  it.each([
    ["9007199254740993", "number cannot be represented exactly (send money and long identifiers as strings)"],
    ["9007199254740992", "integer is beyond ±(2^53 - 1)"],
    ["1e400", "number is too large to represent"],
    ["2e-324", "number cannot be represented exactly (send money and long identifiers as strings)"],
  ])("refuses %s", (literal, message) => {
    expect(numberProblem(literal)).toBe(message);
  });
});
