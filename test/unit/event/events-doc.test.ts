import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeRecord } from "#shared/domain/event/decode-record";
import { QUARANTINE_REASONS } from "#shared/domain/event/reasons";
import { EVENT_TYPES } from "#shared/domain/event/schema";

// docs/events.md is the producers' contract: its examples must decode and its reason table
// must list exactly the reasons the decoder can give.
const doc = readFileSync(new URL("../../../docs/events.md", import.meta.url), "utf8");
const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
const ctx = { arrivalTime: new Date("2025-06-01T12:05:00.000Z") };
const encode = (text: string) => new TextEncoder().encode(text);

describe("docs/events.md", () => {
  it("has an example of every type, and every example decodes", () => {
    const types = examples.map((text) => {
      const result = decodeRecord(encode(text), ctx);
      expect(result.ok ? "decoded" : `${result.reason}: ${result.message}`).toBe("decoded");
      return result.ok ? result.event.type : undefined;
    });
    expect(new Set(types)).toEqual(new Set(EVENT_TYPES));
  });

  it("shows the register example's clean form exactly", () => {
    const [written = "", clean = ""] = examples;
    expect(decodeRecord(encode(written), ctx)).toStrictEqual({ ok: true, event: JSON.parse(clean) });
  });

  it("states the cleaned order amount, currency and time", () => {
    const order = examples.find((text) => text.includes('"type": "order"')) ?? "";
    const result = decodeRecord(encode(order), ctx);
    expect(result).toMatchObject({
      ok: true,
      event: { amount: "1999.90", currency: "EUR", occurredAt: "2025-06-01T12:03:07.123Z" },
    });
    expect(doc).toContain('`"amount": "1999.90", "currency": "EUR"`');
    expect(doc).toContain("`2025-06-01T12:03:07.123Z`");
  });

  it("lists every reason code, in decoder order, in the reason table", () => {
    const listed = [...doc.matchAll(/^\| `([A-Z_0-9]+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual([...QUARANTINE_REASONS]);
  });
});
