import { describe, expect, it } from "vitest";
import { featureConditions } from "#shared/domain/decision/index";
import type { CleanEvent } from "#shared/domain/event/index";
import {
  type CompiledFeatureSet,
  compileFeatureSet,
  type FeatureDefinition,
  ReferenceFeatures,
} from "#shared/domain/features/index";
import type { DecisionRecord } from "#shared/ports/decision-store";
import { byKind, checkEventValues } from "../../support/crash/checks.ts";
import type { PutRecord } from "../../support/crash/traffic.ts";
import { cleanEvent, T0 } from "../features/feature-streams";

/**
 * The crash test's per-event check of a link count whose last step is an entity shared across
 * shards (accounts through the user's number block): its live value depends on how far the other
 * shard had committed, so it is bounded, not compared exactly — and the bound must still fail a
 * value no timing can explain.
 */
const FEATURES: FeatureDefinition[] = [
  {
    id: "accounts_per_block",
    entity: ["phone.block"],
    aggregation: { type: "distinct", field: "userId", maxDistinct: 50 },
    window: "7d",
    filter: { eventTypes: ["register"] },
  },
  {
    id: "blocks_of_user",
    entity: ["userId"],
    aggregation: { type: "distinct", field: "phone.block", maxDistinct: 3 },
    window: "7d",
    filter: { eventTypes: ["register"] },
  },
  {
    id: "accounts_via_block",
    entity: ["userId"],
    aggregation: { type: "linked", path: ["blocks_of_user", "accounts_per_block"] },
  },
];
const SET = compileFeatureSet({ features: FEATURES }, { conditions: featureConditions });
const MIN = 60_000;

/** Registrations with numbers of one block: users a* on shard 0, b* on shard 1, one a minute. */
function records(): PutRecord[] {
  const plan: Array<[string, string]> = [
    ["a1", "shard-0"],
    ["b1", "shard-1"],
    ["a2", "shard-0"],
    ["b2", "shard-1"],
    ["a3", "shard-0"],
    ["b3", "shard-1"],
  ];
  return plan.map(([user, shardId], i) => {
    const event: CleanEvent = cleanEvent({
      eventId: `r${i}`,
      at: T0 + i * MIN,
      type: "register",
      userId: user,
      phone: `+1201555${String(1000 + i)}`,
    });
    return {
      kind: "event",
      index: i,
      event,
      shardId,
      sequenceNumber: String(100 + i),
      partitionKey: user,
      data: new Uint8Array(),
    };
  });
}

/** Decisions with the values a reference of `set` fed `order` would have read, then `edit` applied. */
function decisions(
  order: PutRecord[],
  edit: (eventId: string, v: Record<string, number | null>) => void = () => {},
  set: CompiledFeatureSet = SET,
) {
  const reference = new ReferenceFeatures(set);
  const out = new Map<string, DecisionRecord>();
  for (const r of order) {
    if (r.kind !== "event") continue;
    const vector = reference.process(r.event);
    if (!vector) continue;
    const values = { ...vector.values };
    edit(r.event.eventId, values);
    out.set(r.event.eventId, {
      eventId: r.event.eventId,
      type: r.event.type,
      decidedAt: r.event.occurredAt,
      features: { ...vector, values },
      source: { shardId: r.shardId, sequenceNumber: r.sequenceNumber },
    } as DecisionRecord);
  }
  return out;
}

describe("checkEventValues on a link count through a shared entity", () => {
  it("accepts the values of a run where one shard committed all its batches before the other began", () => {
    const put = records();
    // Shard 1 first: b1..b3 read 0, 1, 2 accounts via the block; then a1..a3 read 3, 4, 5.
    const shard1First = [
      ...put.filter((r) => r.shardId === "shard-1"),
      ...put.filter((r) => r.shardId === "shard-0"),
    ];
    const stored = decisions(shard1First, () => {});
    expect(stored.get("r0")?.features?.values.accounts_via_block).toBe(3);
    const result = checkEventValues(byKind(put), stored, SET);
    expect(result.problems).toEqual([]);
    expect(result.bounded).toBeGreaterThan(0);
  });

  it("reports a value above what every event of the run could add up to", () => {
    const put = records();
    const stored = decisions(put, (id, v) => {
      if (id === "r2") v.accounts_via_block = 6; // only 5 other accounts exist
    });
    const result = checkEventValues(byKind(put), stored, SET);
    expect(result.problemCount).toBe(1);
    expect(result.problems[0]).toContain("r2 accounts_via_block: 6 outside [1, 5]");
  });

  it("reports a value below what the event's own shard had counted before it", () => {
    const put = records();
    const stored = decisions(put, (id, v) => {
      if (id === "r4") v.accounts_via_block = 1; // a1 and a2 were committed on its own shard
    });
    const result = checkEventValues(byKind(put), stored, SET);
    expect(result.problemCount).toBe(1);
    expect(result.problems[0]).toContain("r4 accounts_via_block: 1 outside [2, 5]");
  });
});

/**
 * A capped distinct count through a bucket boundary: the cap keeps the latest sightings, so the
 * events of a later bucket displace an earlier bucket's. CI met this on 2026-12-07 (a run from
 * 05:55 to 06:21 UTC, across a 2-hour bucket boundary of the 7-day phone-block count): an upper
 * bound read from a capped reference fed the later events was 0 for values of 1 to 19.
 */
describe("checkEventValues on a capped distinct count across a bucket boundary", () => {
  const CAPPED = compileFeatureSet(
    {
      features: [
        {
          id: "accounts_per_block",
          entity: ["phone.block"],
          aggregation: { type: "distinct", field: "userId", maxDistinct: 2 },
          window: "7d",
          filter: { eventTypes: ["register"] },
        },
      ],
    },
    { conditions: featureConditions },
  );
  const HOUR = 60 * MIN;
  // 7-day windows have 2-hour buckets: a1 and b1 in one, a2, b2 and a3 in the next.
  const plan: Array<[string, string, number]> = [
    ["a1", "shard-0", 90 * MIN],
    ["b1", "shard-1", 100 * MIN],
    ["b2", "shard-1", 2 * HOUR + 5 * MIN],
    ["a2", "shard-0", 2 * HOUR + 10 * MIN],
    ["b3", "shard-1", 2 * HOUR + 15 * MIN],
  ];
  const put: PutRecord[] = plan.map(([user, shardId, at], i) => ({
    kind: "event",
    index: i,
    event: cleanEvent({
      eventId: `c${i}`,
      at: T0 + at,
      type: "register",
      userId: user,
      phone: `+1201555${String(1000 + i)}`,
    }),
    shardId,
    sequenceNumber: String(100 + i),
    partitionKey: user,
    data: new Uint8Array(),
  }));
  /** What the store reads when it commits the records in `order` (the reference is its specification). */
  const stored = (order: PutRecord[], edit?: (id: string, v: Record<string, number | null>) => void) =>
    decisions(order, edit, CAPPED);

  it("accepts the values of a run in time order, whose later bucket displaced the earlier one's sightings", () => {
    const inOrder = stored(put);
    expect(inOrder.get("c0")?.features?.values.accounts_per_block).toBe(1);
    // The capped reference fed every event read as of c0 counts nothing: the cap kept a2 and b3.
    const capped = new ReferenceFeatures(CAPPED);
    for (const r of put) if (r.kind === "event") capped.process(r.event);
    const read = capped.read("phone.block", ["+1201555"], T0 + 90 * MIN);
    expect(read.find((s) => s.id === "accounts_per_block")?.value).toBe(0);
    const result = checkEventValues(byKind(put), inOrder, CAPPED);
    expect(result.problems).toEqual([]);
    expect(result.bounded).toBe(5);
  });

  it("accepts a saturated value below the own shard's count when another shard's later bucket came first", () => {
    // Shard 1 commits b1, b2, b3 before a1: the cap keeps b2 and b3, a1's own sighting is forgotten.
    const shard1First = [
      ...put.filter((r) => r.shardId === "shard-1"),
      ...put.filter((r) => r.shardId === "shard-0"),
    ];
    const values = stored(shard1First);
    expect(values.get("c0")?.features?.values.accounts_per_block).toBe(0);
    expect(values.get("c0")?.features?.saturated).toContain("accounts_per_block");
    expect(checkEventValues(byKind(put), values, CAPPED).problems).toEqual([]);
  });

  it("reports an unsaturated value below the own shard's count, and one above every sighting in the window", () => {
    const values = stored(put, (id, v) => {
      if (id === "c0") v.accounts_per_block = 3; // only a1 and b1 registered up to its bucket's end
      if (id === "c1") v.accounts_per_block = 0; // b1 counts itself, and nothing was forgotten yet
    });
    expect(values.get("c1")?.features?.saturated).toEqual([]);
    const result = checkEventValues(byKind(put), values, CAPPED);
    expect(result.problems).toEqual([
      "c0 accounts_per_block: 3 outside [1, 2]",
      "c1 accounts_per_block: 0 outside [1, 2]",
    ]);
  });
});

/**
 * A short window beside a long one: the upper reference is fed every event up to the end of the
 * longest bucket (2 hours for 7 days), so when a shared card is used again more than the short
 * window's reach later, the reference's horizon has passed it. The full-size run met this on
 * 2026-12-07 (100 minutes of traffic): "payments_per_card_10m: 1, own shard 1, at most null".
 */
describe("checkEventValues on a short window read behind a later sighting", () => {
  const SET_10M = compileFeatureSet(
    {
      features: [
        {
          id: "payments_per_card_10m",
          entity: ["cardFingerprint"],
          aggregation: { type: "count" },
          window: "10m",
          filter: { eventTypes: ["payment"] },
        },
        {
          id: "payments_per_card_7d",
          entity: ["cardFingerprint"],
          aggregation: { type: "count" },
          window: "7d",
          filter: { eventTypes: ["payment"] },
        },
      ],
    },
    { conditions: featureConditions },
  );
  // One card, paid with by a1 (shard 0) and 100 minutes later by b1 (shard 1): both in one
  // 2-hour bucket, the second far beyond the 10-minute count's reach behind the first.
  const plan: Array<[string, string, number]> = [
    ["a1", "shard-0", 5 * MIN],
    ["b1", "shard-1", 105 * MIN],
  ];
  const put: PutRecord[] = plan.map(([user, shardId, at], i) => ({
    kind: "event",
    index: i,
    event: cleanEvent({ eventId: `p${i}`, at: T0 + at, type: "payment", userId: user, cardFingerprint: "K" }),
    shardId,
    sequenceNumber: String(100 + i),
    partitionKey: user,
    data: new Uint8Array(),
  }));
  const stored = (edit?: (id: string, v: Record<string, number | null>) => void) =>
    decisions(put, edit, SET_10M);

  it("bounds the earlier payment's values from every event in its window, not by the later one's horizon", () => {
    const values = stored();
    expect(values.get("p0")?.features?.values).toEqual({ payments_per_card_10m: 1, payments_per_card_7d: 1 });
    expect(values.get("p1")?.features?.values).toEqual({ payments_per_card_10m: 1, payments_per_card_7d: 2 });
    const result = checkEventValues(byKind(put), values, SET_10M);
    expect(result.problems).toEqual([]);
    expect(result.bounded).toBe(4);
  });

  it("still reports a value above every payment in the short window", () => {
    const values = stored((id, v) => {
      if (id === "p0") v.payments_per_card_10m = 2; // b1 paid 100 minutes later
    });
    expect(checkEventValues(byKind(put), values, SET_10M).problems).toEqual([
      "p0 payments_per_card_10m: 2 outside [1, 1]",
    ]);
  });
});
