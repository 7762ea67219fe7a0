import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { eventKeyValues } from "#shared/domain/features/entity-key";
import { compileFeatureSet, DEFAULT_FEATURE_SET } from "#shared/domain/features/index";
import {
  cleanEventOf,
  materialize,
  PRODUCTION_SHAPE,
  planTraffic,
  type Slot,
} from "../../support/crash/traffic.ts";

/** The crash test's traffic has the shape it claims: shared entities, exact re-sends, hostile records. */
const shardOf = (key: string) => (createHash("md5").update(key).digest()[0] ?? 0) >> 7;

describe("crash-test traffic", () => {
  const slots = planTraffic(5000, PRODUCTION_SHAPE, 11);

  it("re-sends exactly a tenth of the events, each after its original, some in the same batch and some minutes later", () => {
    const position = new Map<number, number>();
    slots.forEach((s, i) => {
      if (s.kind === "event") position.set(s.index, i);
    });
    const resends = slots.flatMap((s, i) => (s.kind === "resend" ? [{ of: s.of, at: i }] : []));
    expect(resends).toHaveLength(500);
    expect(new Set(resends.map((r) => r.of)).size).toBe(500);
    const gaps = resends.map((r) => r.at - (position.get(r.of) ?? Number.POSITIVE_INFINITY));
    expect(gaps.every((g) => g > 0)).toBe(true);
    expect(gaps.some((g) => g <= 2)).toBe(true);
    expect(gaps.some((g) => g > 2000)).toBe(true);
  });

  it("mixes in one hostile record per 120 events and is the same plan for the same seed", () => {
    expect(slots.filter((s) => s.kind === "hostile")).toHaveLength(Math.floor(5000 / 120));
    expect(planTraffic(5000, PRODUCTION_SHAPE, 11)).toEqual(slots);
    expect(planTraffic(5000, PRODUCTION_SHAPE, 12)).not.toEqual(slots);
  });

  it("shares devices, IPs and cards between users of different shards, unless asked to keep them apart", () => {
    const events = (perShard: boolean) => {
      const shape = { ...PRODUCTION_SHAPE, entitiesPerShard: perShard };
      const sent = new Map();
      const only = slots.filter((s): s is Extract<Slot, { kind: "event" }> => s.kind === "event");
      return materialize(only, Date.now(), 0, shape, 11, shardOf, sent).map((o) =>
        cleanEventOf(o.data, new Date()),
      );
    };
    // Every entity the default features key on other than the user's, read as the engine reads
    // it (derived keys such as the number block and the email domain included).
    const set = compileFeatureSet(DEFAULT_FEATURE_SET);
    const crossShard = (list: ReturnType<typeof events>, entity: string) => {
      const group = set.groups.find((g) => g.entity.name === entity);
      if (!group) throw new Error(`no entity ${entity} in the default features`);
      const shards = new Map<string, Set<number>>();
      for (const e of list) {
        const key = eventKeyValues(group, e);
        if (key === undefined) continue;
        const id = JSON.stringify(key);
        shards.set(id, (shards.get(id) ?? new Set()).add(shardOf(e.userId)));
      }
      return [...shards.values()].filter((s) => s.size > 1).length;
    };
    const shared = events(false);
    expect(new Set(shared.map((e) => e.type)).size).toBe(5);
    for (const entity of ["deviceId", "ip", "cardFingerprint", "phone.block", "email.domain"])
      expect({ entity, shared: crossShard(shared, entity) > 0 }).toEqual({ entity, shared: true });
    const apart = events(true);
    const notUser = set.groups
      .map((g) => g.entity.name)
      .filter((name) => !name.split("+").includes("userId"));
    expect(notUser.length).toBeGreaterThan(8);
    for (const entity of notUser)
      expect({ entity, crossShard: crossShard(apart, entity) }).toEqual({ entity, crossShard: 0 });
  });
});
