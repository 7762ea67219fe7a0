import { afterEach, describe, expect, it } from "vitest";
import { decodeRecord } from "#shared/domain/event/decode-record";
import { normalizeEvent } from "#shared/domain/event/normalize-event";
import { loginEventSchema } from "#shared/domain/event/schema";
import { CORPUS_REFERENCE_TIME, hostileCorpus } from "../../fixtures/hostile-corpus";

const ctx = { arrivalTime: CORPUS_REFERENCE_TIME };
const snapshot = () => Object.getOwnPropertyNames(Object.prototype).sort();
const before = snapshot();

function assertPristine(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  expect(snapshot()).toEqual(before);
  expect(Object.prototype.toString.call([])).toBe("[object Array]");
}

const encode = (text: string) => new TextEncoder().encode(text);
const event = (extra: string) =>
  `{${extra}"schemaVersion":1,"eventId":"e1","type":"login","occurredAt":"2025-06-01T11:59:00Z","userId":"u1","ip":"192.0.2.1","deviceId":"d1"}`;

describe("prototype pollution", () => {
  afterEach(assertPristine);

  it.each([
    ['"__proto__":{"polluted":true},', "__proto__"],
    ['"constructor":{"prototype":{"polluted":true}},', "constructor"],
    ['"prototype":{"polluted":true},', "prototype"],
    ['"attributes":{"__proto__":{"polluted":true}},', "__proto__"],
    ['"attributes":{"constructor":{"prototype":{"polluted":true}}},', "constructor"],
    ['"geo":{"country":"US","__proto__":{"polluted":true}},', "__proto__"],
    ['"\\u005f\\u005fproto\\u005f\\u005f":{"polluted":true},', "__proto__"],
  ])("refuses %s before any object is built", (extra, key) => {
    const result = decodeRecord(encode(event(extra)), ctx);
    expect(result).toMatchObject({ ok: false, reason: "FORBIDDEN_KEY" });
    expect(result.ok ? "" : result.message).toContain(`forbidden key "${key}"`);
  });

  it("leaves Object.prototype untouched after the whole hostile corpus", () => {
    for (const c of hostileCorpus) decodeRecord(c.bytes, ctx);
  });

  it("builds attributes with own properties even when handed a hostile key directly", () => {
    // JSON.parse makes "__proto__" an own property; a naive copy (out[key] = value) would set
    // the copy's prototype instead. normalizeEvent must copy it as data.
    const attributes = JSON.parse('{"__proto__":"polluted","ok":1}') as Record<string, string | number>;
    const parsed = loginEventSchema.safeParse({
      schemaVersion: 1,
      eventId: "e1",
      type: "login",
      occurredAt: "2025-06-01T11:59:00Z",
      userId: "u1",
      ip: "192.0.2.1",
      deviceId: "d1",
    });
    expect(parsed.success).toBe(true);
    if (!parsed.success) return;
    const result = normalizeEvent({ ...parsed.data, attributes });
    expect(result.ok).toBe(true);
    const cleaned = result.ok ? result.event.attributes : undefined;
    expect(cleaned === undefined ? undefined : Object.getPrototypeOf(cleaned)).toBe(Object.prototype);
    expect(cleaned === undefined ? [] : Object.keys(cleaned)).toEqual(["__proto__", "ok"]);
  });
});
