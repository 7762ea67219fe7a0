import { describe, expect, it } from "vitest";
import { createMemoryStateStore } from "#shared/adapters/memory-state-table";
import type { CleanEvent } from "#shared/domain/event/index";
import {
  compileFeatureSet,
  type FeatureDefinition,
  type FeatureVector,
  ReferenceFeatures,
} from "#shared/domain/features/index";
import { cleanEvent, SHARDS, T0 } from "./feature-streams";

/**
 * The window semantics of docs/features.md with values worked out by hand. Each scenario runs
 * through the reference and through the engine (one event per batch), so these also pin down
 * the reference the property tests compare against.
 */

const S = 1_000;

async function run(features: FeatureDefinition[], events: CleanEvent[]): Promise<FeatureVector[]> {
  const set = compileFeatureSet({ features });
  const reference = new ReferenceFeatures(set);
  const expected = events.map((e) => reference.process(e));
  const { store } = createMemoryStateStore(set, { clock: () => T0 });
  const actual: FeatureVector[] = [];
  for (const [i, event] of events.entries()) {
    const pass = await store.prepare(
      [{ event, shardId: SHARDS[0], sequenceNumber: String(100 + i) }],
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

  it("neither counts nor reads an event more than the lateness behind the horizon", async () => {
    const f: FeatureDefinition = { ...count1m, lateness: "30s" };
    const v = await run([f], [at(100), at(69), at(70), at(101)]);
    // 69 s is 31 s behind 100 s: too late. 70 s is exactly 30 s behind: counted, and reads
    // buckets 11..70, which do not hold the event at 100 s.
    expect(values(v, "n")).toEqual([1, null, 1, 3]);
    expect(v.map((x) => x.late)).toEqual([[], ["n"], [], []]);
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
    // At 3 s the cap forgets "a" (seen least recently, in bucket 1) and marks bucket 1: the
    // value 2 is a lower bound. At 70 s "a" returns and "b" is forgotten (bucket 2 marked); the
    // window 11..70 holds neither mark, so 1 is exact.
    expect(values(v, "users")).toEqual([1, 2, 2, 1]);
    expect(v.map((x) => x.saturated)).toEqual([[], [], ["users"], []]);
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
