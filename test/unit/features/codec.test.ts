import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeEntity,
  encodeState,
  itemSizeBytes,
  StateCorruptError,
} from "#shared/adapters/dynamodb-state-codec";
import { createMemoryStateStore } from "#shared/adapters/memory-state-table";
import { compileFeatureSet, DEFAULT_FEATURE_SET } from "#shared/domain/features/index";
import { buildRecords, deliver, scenario, TEST_SET } from "./feature-streams";

const set = TEST_SET;
const byKey = new Map(set.features.map((f) => [f.stateKey, f]));

describe("entity state encoding", () => {
  it("reads back exactly what it wrote", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenario(1, 30), async (s) => {
        const { store, table } = createMemoryStateStore(set, { clock: () => 0 });
        await deliver(store, { arm() {}, disarm() {} }, buildRecords(s, `k${run++}`), []);
        for (const [pk, stored] of table.items) {
          const state = decodeEntity(pk, stored, byKey);
          expect(encodeState(state, byKey)).toBe(stored.state);
          expect(decodeEntity(pk, { ...stored, state: encodeState(state, byKey) }, byKey)).toEqual(state);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("writes runs of buckets and deltas compactly", () => {
    const f = set.features.find((x) => x.id === "u_devices_2m");
    if (!f) throw new Error("feature missing");
    const state = decodeEntity("userId#u", undefined, byKey);
    state.features.set(f.stateKey, {
      kind: "distinct",
      horizon: 1_000_000,
      elements: new Map([["dev-1", [1000, 1001, 1002, 1005]]]),
      marks: new Set([999, 1003]),
      threshold: undefined,
    });
    state.highWater.set("8kkEtwyr/shardId-000000000000", { sequenceNumber: "42", recordedAtMs: 7 });
    expect(encodeState(state, byKey)).toBe(
      `{"v":1,"w":{"8kkEtwyr/shardId-000000000000":["42",7]},"f":{"${f.stateKey}":["d",1000000,{"dev-1":[1000,3,2,1]},[999,4]]}}`,
    );
    // Once the cap was exceeded, the threshold follows the marks.
    state.features.set(f.stateKey, {
      kind: "distinct",
      horizon: 1_000_000,
      elements: new Map([["dev-1", [1005]]]),
      marks: new Set([1003]),
      threshold: { bucket: 1003, value: "dev-0" },
    });
    const encoded = encodeState(state, byKey);
    expect(encoded).toContain(`"${f.stateKey}":["d",1000000,{"dev-1":[1005,1]},[1003],[1003,"dev-0"]]`);
    expect(decodeEntity("userId#u", { revision: 1, state: encoded, expiresAt: 0 }, byKey)).toEqual({
      ...state,
      revision: 1,
    });
  });

  it("carries states of features it does not know, and refuses what it cannot read", () => {
    const other = compileFeatureSet(DEFAULT_FEATURE_SET);
    const carried = '{"v":1,"w":{},"f":{"0badc0de":["c",5,[1,2]]}}';
    const state = decodeEntity("deviceId#x", { revision: 3, state: carried, expiresAt: 9 }, byKey);
    expect(state.carried.get("0badc0de")).toEqual({ horizon: 5, raw: ["c", 5, [1, 2]] });
    expect(encodeState(state, byKey)).toBe(carried);
    expect(state.revision).toBe(3);

    const corrupt = (text: string) => () =>
      decodeEntity("deviceId#x", { revision: 1, state: text, expiresAt: 0 }, byKey);
    expect(corrupt("{")).toThrow(StateCorruptError);
    expect(corrupt('{"v":2,"w":{},"f":{}}')).toThrow("is not version 1 state");
    const key = set.features.find((f) => f.id === "d_logins_2m")?.stateKey;
    expect(corrupt(`{"v":1,"w":{},"f":{"${key}":["d",5,[1,2]]}}`)).toThrow(
      "d_logins_2m: kind d where c was expected",
    );
    expect(corrupt(`{"v":1,"w":{},"f":{"${key}":["c",5,[1]]}}`)).toThrow("bucket list has odd length");
    expect(corrupt('{"v":1,"w":{"s":[1,2]},"f":{}}')).toThrow("high-water mark of s");
    const distinct = set.features.find((f) => f.id === "u_devices_2m")?.stateKey;
    expect(corrupt(`{"v":1,"w":{},"f":{"${distinct}":["d",5,{"x":[1,1]},[],[1]]}}`)).toThrow(
      "threshold is not [bucket, value]",
    );
    expect(other.version).not.toBe(set.version);
  });

  it("measures items the way DynamoDB bills them", () => {
    // pk: 2 + 6, s: 1 + 2, rev: 3 + (1 digit → 2 bytes), expiresAt: 9 + (10 digits → 6 bytes)
    expect(itemSizeBytes("userId", { revision: 1, state: "{}", expiresAt: 1_700_000_000 })).toBe(
      2 + 6 + 1 + 2 + 3 + 2 + 9 + 6,
    );
  });
});
