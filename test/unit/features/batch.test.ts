import { describe, expect, it } from "vitest";
import { createMemoryStateStore } from "#shared/adapters/memory-state-table";
import {
  compileFeatureSet,
  type FeatureDefinition,
  type FeatureRecord,
  InvalidBatchError,
  markKey,
  planBatch,
} from "#shared/domain/features/index";
import { cleanEvent, SHARDS, STREAM, T0 } from "./feature-streams";

const features: FeatureDefinition[] = [
  { id: "logins", entity: ["userId"], aggregation: { type: "count" }, window: "1h" },
  { id: "users", entity: ["deviceId"], aggregation: { type: "distinct", field: "userId" }, window: "1h" },
];
const set = compileFeatureSet({ features });

const rec = (id: string, seq: string, fields: Record<string, unknown> = {}, shard = 0): FeatureRecord => ({
  event: cleanEvent({ eventId: id, at: T0 + Number(seq), ...fields }),
  stream: STREAM,
  shardId: SHARDS[shard] as string,
  sequenceNumber: seq,
});
const source = (r: FeatureRecord) => ({ shardId: r.shardId, sequenceNumber: r.sequenceNumber });

describe("planBatch", () => {
  it("classifies first copies, decided records and other copies", () => {
    const a = rec("a", "1");
    const b = rec("b", "2");
    const aAgain = rec("a", "3");
    const c = rec("c", "4");
    const cResent = rec("c", "5");
    // c was decided from its re-sent copy (the caller stored that record's decision).
    const plan = planBatch(
      set,
      [a, b, aAgain, c, cResent],
      new Map([
        ["b", source(b)],
        ["c", source(cResent)],
      ]),
    );
    expect(plan.records.map((p) => p.role)).toEqual(["new", "decided", "copy", "copy", "decided"]);
    expect(plan.entities.map((w) => [w.pk, w.touches])).toEqual([
      ["userId#u1", [0, 1, 4]],
      ["deviceId#d1", [0, 1, 4]],
    ]);
  });

  it("refuses sequence numbers that are not canonical or do not ascend per shard", () => {
    expect(() => planBatch(set, [rec("a", "01")], new Map())).toThrow(InvalidBatchError);
    expect(() => planBatch(set, [rec("a", "5"), rec("b", "5")], new Map())).toThrow(/must ascend/);
    expect(() => planBatch(set, [rec("a", "5"), rec("b", "4", {}, 1)], new Map())).not.toThrow();
  });
});

describe("prepare and commit", () => {
  it("gives each event the values of the state plus the batch's earlier events", async () => {
    const { store } = createMemoryStateStore(set, { clock: () => T0 });
    await (await store.prepare([rec("a", "1", { userId: "u1" })], new Map())).commit();
    const pass = await store.prepare(
      [rec("b", "2", { userId: "u2" }), rec("c", "3", { userId: "u1" }), rec("d", "4", { userId: "u3" })],
      new Map(),
    );
    expect([...pass.vectors].map(([id, v]) => [id, v.values])).toEqual([
      ["b", { logins: 1, users: 2 }],
      ["c", { logins: 2, users: 2 }],
      ["d", { logins: 1, users: 3 }],
    ]);
    // Nothing is written before commit.
    expect((await store.read("deviceId", ["d1"])).features[0]?.value).toBe(1);
    expect(await pass.commit()).toEqual({ failed: [], written: 4, errors: [] });
    expect((await store.read("deviceId", ["d1"])).features[0]?.value).toBe(3);
  });

  it("applies a shard only up to the first record whose decision failed, and reports it", async () => {
    const { store } = createMemoryStateStore(set, { clock: () => T0 });
    const batch = [
      rec("a", "10", { userId: "u1" }),
      rec("b", "11", { userId: "u2" }),
      rec("c", "12", { userId: "u3" }),
    ];
    const pass = await store.prepare(batch, new Map());
    const result = await pass.commit({ failed: [source(batch[1] as FeatureRecord)] });
    expect(result.failed).toEqual([{ shardId: SHARDS[0], sequenceNumber: "11" }]);
    const device = await store.read("deviceId", ["d1"]);
    expect(device.features[0]?.value).toBe(1);
    expect(device.highWater).toEqual({ [markKey(STREAM, SHARDS[0])]: "10" });

    // The redelivery from "11": "c" was decided in the first attempt, "b" was not.
    const retry = await store.prepare(batch.slice(1), new Map([["c", source(batch[2] as FeatureRecord)]]));
    expect([...retry.vectors.keys()]).toEqual(["b"]);
    expect(retry.vectors.get("b")?.values).toEqual({ logins: 1, users: 2 });
    await retry.commit();
    expect((await store.read("deviceId", ["d1"])).features[0]?.value).toBe(3);
  });

  it("never applies a record twice, and flags an undecided event whose contribution is already stored", async () => {
    const { store } = createMemoryStateStore(set, { clock: () => T0 });
    const batch = [rec("a", "20", { userId: "u1" }), rec("b", "21", { userId: "u2" })];
    await (await store.prepare(batch, new Map())).commit();
    // Decisions lost (a caller that commits before storing decisions, then crashes).
    const again = await store.prepare(batch, new Map());
    expect(again.vectors.get("a")).toMatchObject({ values: { logins: 1, users: 2 }, redelivered: true });
    expect(await again.commit()).toEqual({ failed: [], written: 0, errors: [] });
    expect((await store.read("deviceId", ["d1"])).features[0]?.value).toBe(2);
  });

  it("does not apply a record whose decision turned out to come from another record", async () => {
    const { store } = createMemoryStateStore(set, { clock: () => T0 });
    const original = rec("a", "30", { userId: "u1" });
    await (await store.prepare([original], new Map())).commit();
    // A re-sent copy whose original's decision the lookup missed: putIfAbsent says duplicate.
    const copy = rec("a", "31", { userId: "u1" });
    const pass = await store.prepare([copy, rec("b", "32", { userId: "u2" })], new Map());
    expect(pass.vectors.get("a")?.values).toEqual({ logins: 2, users: 1 });
    // u1 has nothing left to apply: only u2 and the device are written.
    expect(await pass.commit({ duplicates: [source(copy)] })).toEqual({ failed: [], written: 2, errors: [] });
    const user = await store.read("userId", ["u1"]);
    expect(user.features[0]?.value).toBe(1);
    expect((await store.read("deviceId", ["d1"])).features[0]?.value).toBe(2);
  });

  it("reports every shard's first failed record when an entity cannot be written", async () => {
    const { store, table } = createMemoryStateStore(set, { clock: () => T0 });
    const put = table.put.bind(table);
    table.put = async (pk, item, previous) => {
      if (pk === "userId#u2") throw new Error("injected");
      return put(pk, item, previous);
    };
    const batch = [
      rec("a", "1", { userId: "u1" }),
      rec("b", "7", { userId: "u2" }, 1),
      rec("c", "2", { userId: "u2" }),
    ];
    const result = await (await store.prepare(batch, new Map())).commit();
    expect(result.failed).toEqual([
      { shardId: SHARDS[1], sequenceNumber: "7" },
      { shardId: SHARDS[0], sequenceNumber: "2" },
    ]);
    expect(result.errors).toEqual([{ entityType: "userId", error: "Error: injected" }]);
    expect(result.written).toBe(2);
  });

  it("gives up on an entity that keeps conflicting and reports it", async () => {
    const { store, table } = createMemoryStateStore(set, {
      clock: () => T0,
      sleep: async () => {},
      maxWriteAttempts: 3,
    });
    let attempts = 0;
    table.put = async () => {
      attempts++;
      return { ok: false, current: undefined };
    };
    const result = await (await store.prepare([rec("a", "1")], new Map())).commit();
    expect(result.errors.map((e) => e.error)).toEqual([
      "WriteConflictError: userId: still conflicting after 3 attempts",
      "WriteConflictError: deviceId: still conflicting after 3 attempts",
    ]);
    expect(attempts).toBe(6);
    expect(result.failed).toEqual([{ shardId: SHARDS[0], sequenceNumber: "1" }]);
  });
});
