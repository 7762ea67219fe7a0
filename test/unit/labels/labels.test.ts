import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  LABEL_JSON_SCHEMA_PATH,
  type Label,
  LabelValidationError,
  labelAsOf,
  labelJsonSchema,
  parseLabel,
  subjectKey,
} from "#shared/domain/labels/index";

const base = {
  schemaVersion: 1,
  subject: { eventId: "evt-1" },
  label: "fraud",
  category: "card_testing",
  source: "chargeback",
  observedAt: "2026-03-04T10:00:00+02:00",
  author: "bank-feed",
} as const;

describe("label contract", () => {
  it("normalizes the time to UTC and derives a stable id from the content", () => {
    const a = parseLabel(base);
    expect(a.observedAt).toBe("2026-03-04T08:00:00.000Z");
    expect(a.labelId).toMatch(/^lbl_[0-9a-f]{24}$/);
    expect(parseLabel({ ...base, note: "a note does not change the fact" }).labelId).toBe(a.labelId);
    expect(parseLabel({ ...base, label: "legit" }).labelId).not.toBe(a.labelId);
    expect(parseLabel({ ...base, labelId: "mine-1" }).labelId).toBe("mine-1");
  });

  it("accepts open-ended categories and entity subjects, refuses what the contract does not allow", () => {
    expect(parseLabel({ ...base, category: "coupon_farming/slow" }).category).toBe("coupon_farming/slow");
    const entity = parseLabel({ ...base, subject: { entity: { type: "deviceId", value: "dev-9" } } });
    expect(subjectKey(entity.subject)).toBe("entity#deviceId#dev-9");
    expect(subjectKey(parseLabel(base).subject)).toBe("event#evt-1");
    const bad = [
      { ...base, label: "maybe" },
      { ...base, source: "rumour" },
      { ...base, category: "has space" },
      { ...base, observedAt: "yesterday" },
      { ...base, subject: { eventId: "evt-1", entity: { type: "ip", value: "1.2.3.4" } } },
      { ...base, extra: 1 },
    ];
    for (const value of bad) expect(() => parseLabel(value)).toThrow(LabelValidationError);
    try {
      parseLabel({ ...base, source: "rumour" });
    } catch (error) {
      expect((error as LabelValidationError).issues[0]?.path).toBe("source");
    }
  });

  it("matches the committed docs/label.schema.json (regenerate: npx tsx scripts/export-label-schema.ts)", () => {
    const committed: unknown = JSON.parse(
      readFileSync(new URL(`../../../${LABEL_JSON_SCHEMA_PATH}`, import.meta.url), "utf8"),
    );
    expect(committed).toEqual(labelJsonSchema());
  });
});

describe("labelAsOf", () => {
  const at = (observedAt: string, extra: Partial<Record<string, unknown>> = {}): Label =>
    parseLabel({ ...base, observedAt, ...extra });
  const review = at("2026-03-05T00:00:00Z", { label: "legit", source: "review", category: undefined });
  const chargeback = at("2026-03-20T00:00:00Z");

  it("gives the latest label known at the cutoff, never one observed after it", () => {
    const labels = [chargeback, review];
    expect(labelAsOf(labels, Date.parse("2026-03-04T23:59:59.999Z"))).toBeUndefined();
    expect(labelAsOf(labels, Date.parse("2026-03-05T00:00:00Z"))).toBe(review);
    expect(labelAsOf(labels, Date.parse("2026-03-19T00:00:00Z"))).toBe(review);
    expect(labelAsOf(labels, Date.parse("2026-03-20T00:00:00Z"))).toBe(chargeback);
  });

  it("breaks ties by source precedence, whatever the input order", () => {
    const same = "2026-03-06T00:00:00Z";
    const byReview = at(same, { label: "legit", source: "review" });
    const byChargeback = at(same, { label: "fraud", source: "chargeback" });
    const cutoff = Date.parse(same);
    expect(labelAsOf([byReview, byChargeback], cutoff)).toBe(byChargeback);
    expect(labelAsOf([byChargeback, byReview], cutoff)).toBe(byChargeback);
  });
});
