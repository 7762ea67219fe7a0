import { describe, expect, it } from "vitest";
import { decodeRecord } from "#shared/domain/event/decode-record";
import { EVENT_TYPES } from "#shared/domain/event/schema";
import { buildHostileCorpus, CORPUS_REFERENCE_TIME, hostileCorpus } from "../../fixtures/hostile-corpus";

const ctx = { arrivalTime: CORPUS_REFERENCE_TIME };

describe("hostile-input corpus", () => {
  it("has at least 45 distinct kinds", () => {
    const kinds = hostileCorpus.map((c) => c.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(kinds.length).toBeGreaterThanOrEqual(45);
  });

  it("has distinct records", () => {
    const records = new Set(hostileCorpus.map((c) => Buffer.from(c.bytes).toString("base64")));
    expect(records.size).toBe(hostileCorpus.length);
  });

  it.each(hostileCorpus.map((c) => [c.kind, c] as const))("%s decodes to its reason", (_kind, c) => {
    const result = decodeRecord(c.bytes, ctx);
    expect(result.ok ? "decoded" : result.reason).toBe(c.expectedReason);
  });

  it("decodes each record in well under a millisecond on average", () => {
    const started = performance.now();
    for (let round = 0; round < 5; round++) {
      for (const c of hostileCorpus) decodeRecord(c.bytes, ctx);
    }
    expect((performance.now() - started) / (5 * hostileCorpus.length)).toBeLessThan(1);
  });

  it("never echoes a string value of the record in the message", () => {
    const contractWords = new Set<string>(EVENT_TYPES);
    for (const c of hostileCorpus) {
      const result = decodeRecord(c.bytes, ctx);
      if (result.ok) continue;
      for (const value of stringValues(tryParse(c.bytes))) {
        if (value.length >= 4 && !contractWords.has(value)) {
          expect({ kind: c.kind, leaked: result.message.includes(value) }).toEqual({
            kind: c.kind,
            leaked: false,
          });
        }
      }
    }
  });

  it("never echoes the number that was refused", () => {
    for (const kind of ["amount-beyond-2^53", "amount-1e400", "amount-precision-loss"]) {
      const c = hostileCorpus.find((entry) => entry.kind === kind);
      const result = c === undefined ? undefined : decodeRecord(c.bytes, ctx);
      expect(result?.ok).toBe(false);
      const message = result !== undefined && !result.ok ? result.message : "";
      expect(message).toMatch(/^amount: /);
      expect(message).not.toMatch(/9007199254740993|1e400|12\.34/);
    }
  });

  it("reports the eventId when the record has a readable one", () => {
    const missingIp = hostileCorpus.find((c) => c.kind === "missing-ip");
    const result = missingIp === undefined ? undefined : decodeRecord(missingIp.bytes, ctx);
    expect(result).toEqual({
      ok: false,
      reason: "SCHEMA_VIOLATION",
      message: "ip: required",
      eventId: expect.stringMatching(/^hostile-\d+$/),
    });
    const forged = hostileCorpus.find((c) => c.kind === "newline-in-event-id");
    const forgedResult = forged === undefined ? undefined : decodeRecord(forged.bytes, ctx);
    expect(forgedResult).toEqual({
      ok: false,
      reason: "SCHEMA_VIOLATION",
      message: "eventId: must match /^[A-Za-z0-9._:=+/-]+$/",
    });
  });

  it("keeps its reasons when built for another arrival time", () => {
    const now = new Date("2031-02-03T04:05:06.789Z");
    for (const c of buildHostileCorpus({ now, runId: "run7" })) {
      const result = decodeRecord(c.bytes, { arrivalTime: now });
      expect([c.kind, result.ok ? "decoded" : result.reason]).toEqual([c.kind, c.expectedReason]);
    }
  });

  it("gives each parseable case its own eventId and a partition key", () => {
    const ids = hostileCorpus.flatMap((c) => {
      const value = tryParse(c.bytes);
      return typeof value === "object" &&
        value !== null &&
        "eventId" in value &&
        typeof value.eventId === "string"
        ? [value.eventId]
        : [];
    });
    expect(new Set(ids).size).toBe(ids.length);
    expect(hostileCorpus.every((c) => c.partitionKey.length > 0 && c.partitionKey.length <= 256)).toBe(true);
  });
});

function tryParse(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}

/** String values up to 20 levels down (deeper records are refused before any value is read). */
function stringValues(value: unknown, depth = 0): string[] {
  if (typeof value === "string") return [value];
  if (depth > 20) return [];
  if (Array.isArray(value)) return value.flatMap((item) => stringValues(item, depth + 1));
  if (typeof value === "object" && value !== null) {
    return Object.values(value).flatMap((item) => stringValues(item, depth + 1));
  }
  return [];
}
