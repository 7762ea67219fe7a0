import { describe, expect, it } from "vitest";
import { createMemoryStateStore } from "#shared/adapters/memory-state-table";
import type { CleanEvent } from "#shared/domain/event/index";
import {
  compileFeatureSet,
  DEFAULT_LATENESS_ALLOWANCE,
  type FeatureDefinition,
  type FeatureVector,
  type LatenessAllowance,
  ReferenceFeatures,
} from "#shared/domain/features/index";
import { cleanEvent, SHARDS, STREAM, T0 } from "./feature-streams";

/**
 * The window semantics of docs/features.md with values worked out by hand. Each scenario runs
 * through the reference and through the engine (one event per batch), so these also pin down
 * the reference the property tests compare against.
 */

const S = 1_000;

async function run(
  features: FeatureDefinition[],
  events: CleanEvent[],
  allowance: LatenessAllowance = DEFAULT_LATENESS_ALLOWANCE,
): Promise<FeatureVector[]> {
  const set = compileFeatureSet({ features });
  const reference = new ReferenceFeatures(set, allowance);
  const expected = events.map((e) => reference.process(e));
  const { store } = createMemoryStateStore(set, { clock: () => T0, ...allowance });
  const actual: FeatureVector[] = [];
  for (const [i, event] of events.entries()) {
    const pass = await store.prepare(
      [{ event, stream: STREAM, shardId: SHARDS[0], sequenceNumber: String(100 + i) }],
      new Map(),
    );
    await pass.commit();
    const vector = pass.vectors.get(event.eventId);
    if (!vector) throw new Error(`no vector for ${event.eventId}`);
    actual.push(vector);
  }
  expect(actual).toEqual(expected);
  return actual;
}

const values = (vectors: FeatureVector[], id: string) => vectors.map((v) => v.values[id]);
const at = (seconds: number, fields: Record<string, unknown> = {}, n = seconds) =>
  cleanEvent({ eventId: `e${n}-${Math.random().toString(36).slice(2)}`, at: T0 + seconds * S, ...fields });

const count1m: FeatureDefinition = {
  id: "n",
  entity: ["deviceId"],
  aggregation: { type: "count" },
  window: "1m",
};

describe("window semantics", () => {
  it("counts the 60 one-second buckets ending with the event's own", async () => {
    const v = await run([count1m], [at(0), at(30), at(59.5), at(60), at(60.9), at(120)]);
    // At 60 s the window is buckets 1..60: the event at 0 s (bucket 0) has left it.
    expect(values(v, "n")).toEqual([1, 2, 3, 3, 4, 1]);
  });

  it("lets an out-of-order event see later events of its own bucket but not of later buckets", async () => {
    const f: FeatureDefinition = {
      id: "n",
      entity: ["deviceId"],
      aggregation: { type: "count" },
      window: "10m",
    };
    // 10 s buckets: 25 s and 21 s share bucket 2; 5 s is bucket 0 and cannot see bucket 2.
    const v = await run([f], [at(25), at(21), at(5)]);
    expect(values(v, "n")).toEqual([1, 2, 1]);
  });

  it("reads null for an event whose window may reach data no longer kept, and counts it anyway", async () => {
    // L = 30 s, P = 20 s, S = 5 s: R = 55 s. One-second buckets, 60 of them.
    const f: FeatureDefinition = { ...count1m, lateness: "30s" };
    const allowance = { processingLagMs: 20 * S, maxFutureSkewMs: 5 * S };
    const v = await run(
      [f],
      [at(100), at(44), at(45), at(101), at(30), at(46), at(200), at(145), at(144)],
      allowance,
    );
    // 44 s: bucket 44 is before bucket(100 − 55) = 45: late, but counted. 45 s is not late and
    // reads buckets −14..45 (44 and itself); 101 s reads 42..101 (44, 45, 100, itself). 30 s is
    // late and counted; 46 s reads −13..46: 30, 44, 45 and itself. At 200 s the horizon moves:
    // the store keeps buckets from bucket(145) − 59 = 86 on, so 145 s reads 86..145 (100, 101 and
    // itself) and 144 s, whose window would reach bucket 85, is late.
    expect(values(v, "n")).toEqual([1, null, 2, 4, null, 4, 1, 3, null]);
    expect(v.map((x) => x.late)).toEqual([[], ["n"], [], [], ["n"], [], [], [], ["n"]]);
  });

  it("gives first seen including the event and last seen excluding it", async () => {
    const features: FeatureDefinition[] = [
      { id: "first", entity: ["deviceId"], aggregation: { type: "firstSeen" }, window: "1m" },
      { id: "last", entity: ["deviceId"], aggregation: { type: "lastSeen" }, window: "1m" },
    ];
    const v = await run(features, [at(10), at(20), at(15), at(5), at(79)]);
    const t = (s: number) => T0 + s * S;
    // At 79 s the window is buckets 20..79: 5, 10 and 15 s have left it, 20 s has not.
    expect(values(v, "first")).toEqual([t(10), t(10), t(10), t(5), t(20)]);
    // At 15 s the latest other event in buckets up to 15 is 10 s: 20 s is in a later bucket.
    expect(values(v, "last")).toEqual([null, t(10), t(10), null, t(20)]);
  });

  it("sums amounts in minor units per currency and reads the event's currency", async () => {
    const f: FeatureDefinition = {
      id: "spend",
      entity: ["cardFingerprint"],
      aggregation: { type: "sum", field: "amount" },
      window: "1h",
      filter: { eventTypes: ["payment"] },
    };
    const pay = (s: number, amount: string, currency: string) =>
      at(s, { type: "payment", amount, currency, cardFingerprint: "card-1" });
    const v = await run(
      [f],
      [pay(1, "10.00", "USD"), pay(2, "500", "JPY"), pay(3, "0.50", "USD"), pay(4, "0.005", "KWD")],
    );
    expect(values(v, "spend")).toEqual([1_000, 500, 1_050, 5]);
  });

  it("reads features it does not count, and gives null without the entity key", async () => {
    const features: FeatureDefinition[] = [
      {
        id: "pays",
        entity: ["deviceId"],
        aggregation: { type: "count" },
        window: "1h",
        filter: { eventTypes: ["payment"] },
      },
      {
        id: "phone_users",
        entity: ["phone"],
        aggregation: { type: "distinct", field: "userId" },
        window: "1h",
      },
      {
        id: "cards",
        entity: ["deviceId"],
        aggregation: { type: "distinct", field: "cardFingerprint" },
        window: "1h",
      },
    ];
    const pay = (s: number, card?: string) =>
      at(s, { type: "payment", amount: "1.00", currency: "USD", ...(card ? { cardFingerprint: card } : {}) });
    const v = await run(features, [pay(1, "c1"), at(2), pay(3), at(4, { phone: "+12015550123" })]);
    expect(values(v, "pays")).toEqual([1, 1, 2, 2]);
    expect(values(v, "phone_users")).toEqual([null, null, null, 1]);
    // A payment without a card counts as a payment but adds no card.
    expect(values(v, "cards")).toEqual([1, 1, 1, 1]);
  });

  it("keeps the most recently seen values at the cap and flags windows that lost one", async () => {
    const f: FeatureDefinition = {
      id: "users",
      entity: ["deviceId"],
      aggregation: { type: "distinct", field: "userId", maxDistinct: 2 },
      window: "1m",
    };
    const v = await run(
      [f],
      [at(1, { userId: "a" }), at(2, { userId: "b" }), at(3, { userId: "c" }), at(70, { userId: "a" })],
    );
    // At 3 s the cap is exceeded: the threshold becomes the smallest latest sighting, (1, "a"), so
    // "a" is forgotten and bucket 1 marked: the value 2 is a lower bound. At 70 s "a" is above the
    // threshold again and kept; the cap is exceeded again and the threshold rises to (2, "b"):
    // "b" is forgotten, bucket 2 marked. The window 11..70 holds neither mark: 1 is exact.
    expect(values(v, "users")).toEqual([1, 2, 2, 1]);
    expect(v.map((x) => x.saturated)).toEqual([[], [], ["users"], []]);
  });

  it("forgets at the cap by bucket and then by value, whatever the order of the sightings", async () => {
    const f: FeatureDefinition = {
      id: "users",
      entity: ["deviceId"],
      aggregation: { type: "distinct", field: "userId", maxDistinct: 2 },
      window: "1m",
    };
    const sightings = ["a", "b", "c", "d", "a"];
    const forward = await run(
      [f],
      sightings.map((userId, i) => at(5, { userId }, i)),
    );
    // All in bucket 5. "c" exceeds the cap: the threshold becomes (5, "a"), the smallest of the
    // three; "a" is forgotten. "d" exceeds it again: the threshold rises to (5, "b"). The second
    // "a" is at or below the threshold: forgotten at once. Every reader after the first two is
    // flagged: bucket 5 is marked.
    expect(values(forward, "users")).toEqual([1, 2, 2, 2, 2]);
    expect(forward.map((x) => x.saturated)).toEqual([[], [], ["users"], ["users"], ["users"]]);
    const backward = await run(
      [f],
      [...sightings].reverse().map((userId, i) => at(5, { userId }, 10 + i)),
    );
    expect(values(backward, "users")).toEqual([1, 2, 2, 2, 2]);
  });

  it("keys combinations on all their fields", async () => {
    const f: FeatureDefinition = {
      id: "claims",
      entity: ["deviceId", "campaignId"],
      aggregation: { type: "count" },
      window: "1h",
      filter: { eventTypes: ["coupon_claim"] },
    };
    const claim = (s: number, device: string, campaign: string) =>
      at(s, { type: "coupon_claim", deviceId: device, campaignId: campaign, couponId: `q${s}` });
    const v = await run(
      [f],
      [claim(1, "d1", "k1"), claim(2, "d1", "k2"), claim(3, "d1", "k1"), at(4, { deviceId: "d1" })],
    );
    expect(values(v, "claims")).toEqual([1, 1, 2, null]);
  });
});
