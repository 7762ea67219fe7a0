import { describe, expect, it } from "vitest";
import {
  aggregateDocuments,
  bucketFor,
  bucketStarts,
  type ReportDocument,
  scoreBin,
} from "#shared/domain/report/report-data";

const doc = (
  eventId: string,
  at: string,
  action: ReportDocument["action"],
  extra: Partial<ReportDocument> = {},
): ReportDocument => ({
  eventId,
  "@timestamp": at,
  type: "payment",
  action,
  score: 0.5,
  activeRules: [],
  shadowRules: [],
  entities: { user: `u:${eventId}` },
  ...extra,
});

describe("report aggregation", () => {
  const query = {
    since: new Date("2026-05-01T10:00:00Z"),
    until: new Date("2026-05-01T13:00:00Z"),
    bucketMs: 3_600_000,
    top: 2,
  };

  it("counts exactly by the written definitions", () => {
    const docs = [
      doc("a", "2026-05-01T10:05:00Z", "block", {
        score: 0.95,
        activeRules: ["r1"],
        shadowRules: ["s1"],
        entities: { user: "u:x", device: "d:1" },
      }),
      doc("b", "2026-05-01T10:30:00Z", "block", {
        score: 1,
        activeRules: ["r1", "r2"],
        entities: { user: "u:x", device: "d:1" },
      }),
      doc("c", "2026-05-01T12:59:59.999Z", "review", {
        type: "login",
        score: null,
        shadowRules: ["s1"],
        entities: { user: "u:y", device: "d:1" },
      }),
      doc("d", "2026-05-01T11:00:00Z", "pass", { score: 0.05, entities: { user: "u:z" } }),
      doc("a", "2026-05-01T10:06:00Z", "pass"), // a second document of eventId a: counted once
      doc("e", "2026-05-01T13:00:00Z", "block"), // at `until`: outside
      doc("f", "2026-05-01T09:59:59Z", "block"), // before `since`: outside
    ];
    const data = aggregateDocuments(docs, query, [{ reason: "NOT_JSON", count: 2 }]);
    expect(data.total).toBe(4);
    expect(data.overTime.buckets).toEqual([
      "2026-05-01T10:00:00.000Z",
      "2026-05-01T11:00:00.000Z",
      "2026-05-01T12:00:00.000Z",
    ]);
    expect(data.overTime.byAction.block).toEqual([2, 0, 0]);
    expect(data.overTime.byAction.pass).toEqual([0, 1, 0]);
    expect(data.overTime.byAction.review).toEqual([0, 0, 1]);
    expect(data.byScenario.payment).toMatchObject({ block: 2, pass: 1, review: 0 });
    expect(data.byScenario.login).toMatchObject({ review: 1 });
    expect(data.topRules).toEqual([
      { id: "r1", active: 2, shadow: 0 },
      { id: "s1", active: 0, shadow: 2 },
      { id: "r2", active: 1, shadow: 0 },
    ]);
    // 0.95 and 1.0 in the last bin, 0.05 in the first, one without a score.
    expect(data.scores.bins).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect(data.scores.noScore).toBe(1);
    expect(data.topEntities).toEqual([
      { kind: "device", id: "d:1", risky: 3, blocks: 2, maxScore: 1 },
      { kind: "user", id: "u:x", risky: 2, blocks: 2, maxScore: 1 },
    ]);
    expect(data.quarantine).toEqual([{ reason: "NOT_JSON", count: 2 }]);
  });

  it("buckets like a fixed-interval date histogram and bins like OpenSearch's histogram", () => {
    expect(bucketFor(86_400_000)).toBe(1_800_000);
    expect(bucketFor(7 * 86_400_000)).toBe(21_600_000);
    expect(bucketFor(3_600_000)).toBe(300_000);
    expect(bucketStarts({ ...query, since: new Date("2026-05-01T10:20:00Z") })[0]).toBe(
      Date.parse("2026-05-01T10:00:00Z"),
    );
    expect(scoreBin(0)).toBe(0);
    expect(scoreBin(0.3)).toBe(2); // floor(0.3 / 0.1) = floor(2.9999999999999996), as OpenSearch computes it
    expect(scoreBin(1)).toBe(9);
  });
});
