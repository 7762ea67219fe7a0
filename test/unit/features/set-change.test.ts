import { describe, expect, it } from "vitest";
import { createMemoryStateStore } from "#shared/adapters/memory-state-table";
import type { StateStoreEngine } from "#shared/adapters/state-store-engine";
import { compileFeatureSet, type FeatureDefinition } from "#shared/domain/features/index";
import { cleanEvent, SHARDS, STREAM, T0 } from "./feature-streams";

/**
 * Changing the feature set in force (docs/features.md, "Changing the feature set"): unchanged
 * definitions keep their state, new ones start empty, and states of features the set no longer
 * defines are carried in the item, so that switching back within a day finds them again.
 */

const logins = (id: string, window: string): FeatureDefinition => ({
  id,
  entity: ["userId"],
  aggregation: { type: "count" },
  window,
  filter: { eventTypes: ["login"] },
});
const KEEP = logins("logins_1h", "1h");
const OLD = logins("logins_2h", "2h");
const NEW: FeatureDefinition = {
  id: "ips_1h",
  entity: ["userId"],
  aggregation: { type: "distinct", field: "ip" },
  window: "1h",
};
const A = compileFeatureSet({ features: [KEEP, OLD] });
const B = compileFeatureSet({ features: [KEEP, NEW] });

let sequence = 0;
/** Decides one login of u1 and commits it; returns its feature values. */
async function login(store: StateStoreEngine, minute: number, ip: string) {
  sequence++;
  const event = cleanEvent({ eventId: `e${sequence}`, at: T0 + minute * 60_000, ip });
  const pass = await store.prepare(
    [{ event, stream: STREAM, shardId: SHARDS[0], sequenceNumber: String(1000 + sequence) }],
    new Map(),
  );
  const committed = await pass.commit();
  expect(committed.failed).toEqual([]);
  return pass.vectors.get(event.eventId)?.values;
}

describe("changing the feature set", () => {
  it("keeps unchanged features, starts new ones empty, and carries removed ones for a switch back", async () => {
    const { store } = createMemoryStateStore(A, { clock: () => T0 + 10 * 60_000 });
    expect(await login(store, 1, "10.0.0.1")).toEqual({ logins_1h: 1, logins_2h: 1 });
    expect(await login(store, 2, "10.0.0.2")).toEqual({ logins_1h: 2, logins_2h: 2 });

    store.use(B);
    expect(store.features).toBe(B);
    expect(await login(store, 3, "10.0.0.3")).toEqual({ logins_1h: 3, ips_1h: 1 });
    const reading = await store.read("userId", ["u1"]);
    expect(reading.features.map((f) => f.id)).toEqual(["logins_1h", "ips_1h"]);

    store.use(A);
    // logins_2h was carried untouched: it missed the login decided under B, and nothing else.
    expect(await login(store, 4, "10.0.0.4")).toEqual({ logins_1h: 4, logins_2h: 3 });
    store.use(B);
    expect(await login(store, 5, "10.0.0.5")).toEqual({ logins_1h: 5, ips_1h: 2 });
  });

  it("lets a prepared pass commit with the set it was prepared with", async () => {
    const { store } = createMemoryStateStore(A, { clock: () => T0 + 10 * 60_000 });
    const event = cleanEvent({ eventId: "p1", at: T0 + 60_000 });
    const pass = await store.prepare(
      [{ event, stream: STREAM, shardId: SHARDS[0], sequenceNumber: "1" }],
      new Map(),
    );
    store.use(B);
    expect((await pass.commit()).written).toBe(1);
    store.use(A);
    expect(await login(store, 2, "10.0.0.9")).toEqual({ logins_1h: 2, logins_2h: 2 });
  });

  it("ignores a set with the same version (compiled again by a reload)", () => {
    const { store } = createMemoryStateStore(A);
    store.use(compileFeatureSet({ features: [OLD, KEEP] }));
    expect(store.features).toBe(A);
  });
});
