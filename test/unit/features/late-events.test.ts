import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeState } from "#shared/adapters/dynamodb-state-codec";
import { createMemoryStateStore, MemoryStateTable } from "#shared/adapters/memory-state-table";
import { StateStoreEngine } from "#shared/adapters/state-store-engine";
import {
  compileFeatureSet,
  DEFAULT_FEATURE_SET,
  DEFAULT_LATENESS_ALLOWANCE,
  emptyEntityState,
  type FeatureRecord,
  markKey,
  ReferenceFeatures,
} from "#shared/domain/features/index";
import {
  buildRecords,
  cleanEvent,
  referenceVectors,
  SHARDS,
  STREAM,
  scenario,
  T0,
  TEST_ALLOWANCE,
  TEST_SET,
  touchedEntities,
} from "./feature-streams";
import {
  B,
  COMMIT_ORDERS,
  canonicalItem,
  DOCUMENTED,
  reproductionBatches,
  reproductionVectors,
  runOrder,
  twoShardRecords,
} from "./late-scenarios";

/**
 * Late events (docs/features.md, section 3): they count whatever came before them, read null only
 * when their window may reach data no longer kept, and the final state of every entity does not
 * depend on the order in which shards commit.
 */

/**
 * The default set as issue 13 was reproduced with: its first 23 features, the velocity features
 * the documented vectors (late-scenarios.ts) were worked out for. The issue-16 pack's features are
 * checked against the reference in their own tests.
 */
const defaults = compileFeatureSet({ features: DEFAULT_FEATURE_SET.features.slice(0, 23) });

describe("the final state is a function of the set of records", () => {
  it("is the same item for item whatever order and batches the records are committed in", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        scenario(1, 30),
        fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 30, maxLength: 30 }),
        async (s, keys, sizes) => {
          // Every event on a shard of its own: any interleaving is one Kinesis could produce.
          const events = buildRecords({ ...s, resend: [] }, `o${run++}`).flat();
          const records: FeatureRecord[] = events.map((r, i) => ({
            ...r,
            shardId: `shardId-${String(i).padStart(12, "0")}`,
            sequenceNumber: "1",
          }));
          const permuted = records
            .map((record, i) => ({ record, key: keys[i] ?? 0, i }))
            .sort((a, b) => a.key - b.key || a.i - b.i)
            .map((x) => x.record);
          const items = [];
          for (const order of [records, permuted]) {
            const table = new MemoryStateTable();
            const store = new StateStoreEngine(table, TEST_SET, { clock: () => T0, ...TEST_ALLOWANCE });
            for (let i = 0, b = 0; i < order.length; b++) {
              const size = sizes[b % sizes.length] ?? 1;
              const result = await (await store.prepare(order.slice(i, i + size), new Map())).commit();
              expect(result.failed).toEqual([]);
              i += size;
            }
            items.push(new Map([...table.items].map(([pk, item]) => [pk, canonicalItem(item)])));
          }
          expect(items[1]).toEqual(items[0]);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("late events on devices, IPs and cards shared by two shards", () => {
  for (const [name, order] of Object.entries(COMMIT_ORDERS)) {
    it(`reads the documented values when ${name} commits`, async () => {
      const { store } = createMemoryStateStore(defaults, { clock: () => B });
      const records = twoShardRecords("ls");
      const vectors = await runOrder(store, records, order);
      const documented = DOCUMENTED[name] ?? {};
      expect(Object.keys(documented).sort()).toEqual([...vectors.keys()].sort());
      for (const [event, reading] of Object.entries(documented)) {
        const vector = vectors.get(event);
        expect({ event, late: vector?.late }).toEqual({ event, late: reading.late });
        expect({ event, values: vector?.values }).toMatchObject({ event, values: reading.values });
        expect(vector?.saturated).toEqual([]);
      }
      // The whole vector is the reference's, fed the events in the same order.
      const byName = new Map([...records.shard0, ...records.shard1].map((r) => [r.name, r.record.event]));
      const reference = new ReferenceFeatures(defaults, DEFAULT_LATENESS_ALLOWANCE);
      for (const event of order.flat()) {
        const expected = reference.process(byName.get(event) as ReturnType<typeof cleanEvent>);
        expect({ event, ...vectors.get(event) }).toEqual({ event, ...expected });
      }
    });
  }

  it("ends in the same items, byte for byte apart from key order, in every commit order", async () => {
    const finals = [];
    for (const order of Object.values(COMMIT_ORDERS)) {
      const { store, table } = createMemoryStateStore(defaults, { clock: () => B });
      await runOrder(store, twoShardRecords("ls"), order);
      finals.push(new Map([...table.items].map(([pk, item]) => [pk, canonicalItem(item)])));
    }
    expect(finals[0]?.size).toBeGreaterThan(5);
    expect(finals[1]).toEqual(finals[0]);
    expect(finals[2]).toEqual(finals[0]);
  });

  it("keeps what a reader within reach needs: the final state reads like the reference", async () => {
    const { store, table } = createMemoryStateStore(defaults, { clock: () => B });
    const records = twoShardRecords("ls");
    const order = COMMIT_ORDERS["shard 1 first"] ?? [];
    await runOrder(store, records, order);
    const events = [...records.shard1, ...records.shard0].map((r) => r.record.event);
    const { reference } = referenceVectors(defaults, events, DEFAULT_LATENESS_ALLOWANCE);
    for (const at of [B - 26 * 3_600_000, B - 25 * 3_600_000, B - 90 * 60_000, B + 60_000]) {
      const reader = new StateStoreEngine(table, defaults, { clock: () => at });
      for (const entity of touchedEntities(defaults, events)) {
        const stored = (await reader.read(entity.type, entity.values)).features;
        expect({ entity, at, features: stored }).toEqual({
          entity,
          at,
          features: reference.read(entity.type, entity.values, at),
        });
      }
    }
  });
});

describe("the reproduction of issue 13", () => {
  it("gives the 25-hour-late registrations null for 1 h features, listed in late, and counts them", async () => {
    const { store, table } = createMemoryStateStore(defaults, { clock: () => B });
    const documented = reproductionVectors();
    const reference = new ReferenceFeatures(defaults, DEFAULT_LATENESS_ALLOWANCE);
    for (const batch of reproductionBatches("repro")) {
      const pass = await store.prepare(batch, new Map());
      expect((await pass.commit()).failed).toEqual([]);
      for (const record of batch) {
        const name = record.event.eventId.slice("repro-".length);
        const vector = pass.vectors.get(record.event.eventId);
        expect({ name, ...vector }).toEqual({ name, ...documented.get(name), version: defaults.version });
        expect({ name, ...reference.process(record.event) }).toEqual({ name, ...vector });
      }
    }
    // They counted: the device's first sighting in 30 days is the first of them.
    const reader = new StateStoreEngine(table, defaults, { clock: () => B + 120_000 });
    const device = await reader.read("deviceId", ["repro-device"]);
    expect(device.features.find((f) => f.id === "device_first_seen_30d")?.value).toBe(
      B - 25 * 3_600_000 + 1000,
    );
  });
});

describe("high-water marks keyed by stream and shard", () => {
  const set = compileFeatureSet({
    features: [{ id: "n", entity: ["deviceId"], aggregation: { type: "count" }, window: "1h" }],
  });
  const OTHER_STREAM = "arn:aws:kinesis:us-east-1:000000000000:stream/vigil-test-events-2";
  const rec = (id: string, sequenceNumber: string, stream = STREAM): FeatureRecord => ({
    event: cleanEvent({ eventId: id, at: T0 + Number(sequenceNumber) * 1000 }),
    stream,
    shardId: SHARDS[0],
    sequenceNumber,
  });

  it("tells apart two streams that use the same shard id", async () => {
    const { store } = createMemoryStateStore(set, { clock: () => T0 });
    await (await store.prepare([rec("a", "5")], new Map())).commit();
    // The same shard id and a lower sequence number, on another stream: a different record.
    const other = await store.prepare([rec("b", "3", OTHER_STREAM)], new Map());
    expect(other.vectors.get("b")?.redelivered).toBeUndefined();
    await other.commit();
    const device = await store.read("deviceId", ["d1"]);
    expect(device.features[0]?.value).toBe(2);
    expect(device.highWater).toEqual({
      [markKey(STREAM, SHARDS[0])]: "5",
      [markKey(OTHER_STREAM, SHARDS[0])]: "3",
    });
    // Each stream's redeliveries are still recognized.
    expect(await (await store.prepare([rec("a", "5")], new Map())).commit()).toMatchObject({ written: 0 });
    expect(await (await store.prepare([rec("b", "3", OTHER_STREAM)], new Map())).commit()).toMatchObject({
      written: 0,
    });
  });

  it("keys a mark by 8 characters of the stream's hash and the shard id", () => {
    expect(markKey(STREAM, SHARDS[0])).toMatch(/^[A-Za-z0-9_-]{8}\/shardId-000000000000$/);
    expect(markKey(OTHER_STREAM, SHARDS[0])).not.toBe(markKey(STREAM, SHARDS[0]));
  });

  it("reads a legacy bare-shard-id mark, then folds it into the stream's mark", async () => {
    const { store, table } = createMemoryStateStore(set, { clock: () => T0 });
    // An item written before marks were keyed by stream: shard 0 applied up to 7.
    const byKey = new Map(set.features.map((f) => [f.stateKey, f]));
    const legacy = emptyEntityState("deviceId#d1");
    legacy.highWater.set(SHARDS[0], { sequenceNumber: "7", recordedAtMs: T0 });
    legacy.features.set(set.features[0]?.stateKey ?? "", {
      kind: "count",
      horizon: T0 + 7000,
      buckets: new Map([[Math.floor((T0 + 7000) / 60_000), 1]]),
    });
    table.items.set("deviceId#d1", { revision: 1, state: encodeState(legacy, byKey), expiresAt: 0 });

    // Record 7 redelivered after the upgrade: already applied.
    const again = await store.prepare([rec("x", "7")], new Map());
    expect(again.vectors.get("x")?.redelivered).toBe(true);
    expect(await again.commit()).toMatchObject({ written: 0 });
    // Record 8: applied; the legacy mark gives way to the stream's.
    await (await store.prepare([rec("y", "8")], new Map())).commit();
    const device = await store.read("deviceId", ["d1"]);
    expect(device.features[0]?.value).toBe(2);
    expect(device.highWater).toEqual({ [markKey(STREAM, SHARDS[0])]: "8" });
  });
});
