import { describe, expect, it } from "vitest";
import type { CleanEvent } from "#shared/domain/event/index";
import {
  type ConditionCompiler,
  compileFeatureSet,
  DEFAULT_FEATURE_SET,
  FeatureDefinitionError,
  type FeatureSetDefinition,
  formatDefinitionIssue,
} from "#shared/domain/features/index";
import { cleanEvent } from "./feature-streams";

const base = {
  id: "f",
  entity: ["userId"],
  aggregation: { type: "count" },
  window: "1h",
} as const;

/** The issues a feature set is refused with. */
function issues(features: unknown[], options = {}): string[] {
  try {
    compileFeatureSet({ features }, options);
  } catch (error) {
    if (error instanceof FeatureDefinitionError) return error.issues.map(formatDefinitionIssue);
    throw error;
  }
  return [];
}

describe("feature definitions", () => {
  it("compiles the default set with the defaults filled in", () => {
    const set = compileFeatureSet(DEFAULT_FEATURE_SET);
    // 23 velocity features, 17 of the issue-16 pack (docs/decision-engine.md, "Default features").
    expect(set.features).toHaveLength(40);
    expect(set.groups.map((g) => g.entity.name)).toEqual([
      "userId",
      "deviceId",
      "ip",
      "cardFingerprint",
      "phone",
      "userId+deviceId",
      "deviceId+campaignId",
      "ip+campaignId",
      "userId+ip.prefix",
      "phone.block",
      "email.domain",
      "attributes.merchantId",
      "cardBin",
      "attributes.referrerId",
    ]);
    const card = set.features.find((f) => f.id === "card_spend_24h");
    expect(card?.normalized).toEqual({
      id: "card_spend_24h",
      entity: ["cardFingerprint"],
      aggregation: "sum",
      field: "amount",
      maxDistinct: null,
      window: "1d",
      bucket: "20m",
      lateness: "1d",
      eventTypes: ["payment"],
      condition: null,
    });
    expect(card?.buckets).toBe(72);
    expect(set.features.find((f) => f.id === "accounts_per_ip_1h")?.maxDistinct).toBe(100);
    expect(set.version).toMatch(/^[0-9a-f]{16}$/);
  });

  it("versions a set by meaning only: not by order, descriptions or how a duration is written", () => {
    const set = compileFeatureSet(DEFAULT_FEATURE_SET);
    const reordered: FeatureSetDefinition = {
      features: [...DEFAULT_FEATURE_SET.features]
        .reverse()
        .map((f) => ({ ...f, description: "changed", ...(f.window === "24h" ? { window: "1d" } : {}) })),
    };
    expect(compileFeatureSet(reordered).version).toBe(set.version);
    const changed: FeatureSetDefinition = {
      features: DEFAULT_FEATURE_SET.features.map((f) =>
        f.id === "payments_per_card_10m" ? { ...f, window: "15m" } : f,
      ),
    };
    expect(compileFeatureSet(changed).version).not.toBe(set.version);
    // The changed feature gets a new state key (its old buckets are not reused); the others keep theirs.
    const before = new Map(set.features.map((f) => [f.id, f.stateKey]));
    for (const f of compileFeatureSet(changed).features) {
      expect(f.stateKey === before.get(f.id)).toBe(f.id !== "payments_per_card_10m");
    }
  });

  it("puts entity fields in one canonical order so both spellings share an item", () => {
    const set = compileFeatureSet({ features: [{ ...base, entity: ["deviceId", "userId"] }] });
    expect(set.groups[0]?.entity).toEqual({ name: "userId+deviceId", fields: ["userId", "deviceId"] });
  });

  it("refuses bad definitions and says why", () => {
    expect(issues([{ ...base, window: "30s" }])).toEqual([
      "features[0] (f).window: must be between 1m and 30d",
    ]);
    expect(issues([{ ...base, window: "31d" }])).toEqual([
      "features[0] (f).window: must be between 1m and 30d",
    ]);
    expect(issues([{ ...base, window: "1441m" }])).toEqual([
      "features[0] (f).bucket: gives 1441 buckets; at most 240",
    ]);
    expect(issues([{ ...base, bucket: "7m" }])).toEqual([
      "features[0] (f).bucket: must divide the window (1h)",
    ]);
    expect(issues([{ ...base, lateness: "2h" }])).toEqual([
      "features[0] (f).lateness: must not exceed the window",
    ]);
    expect(issues([{ ...base, entity: ["userId", "userId"] }])).toEqual([
      "features[0] (f).entity: lists a field twice",
    ]);
    expect(issues([{ ...base, aggregation: { type: "distinct", field: "userId" } }])).toEqual([
      "features[0] (f).aggregation.field: is part of the entity key, so its distinct count would always be 1",
    ]);
    expect(issues([{ ...base, entity: ["cardFingerprint"], filter: { eventTypes: ["login"] } }])).toEqual([
      "features[0] (f).filter.eventTypes: cardFingerprint only exists on payment events, which the filter excludes",
    ]);
    expect(
      issues([{ ...base, aggregation: { type: "sum", field: "amount" }, filter: { eventTypes: ["login"] } }]),
    ).toEqual([
      "features[0] (f).filter.eventTypes: amount only exists on order, payment events, which the filter excludes",
    ]);
    expect(issues([base, base])).toEqual(["features[1] (f).id: duplicate feature id"]);
    expect(issues([{ ...base, filter: { condition: { cel: "event.amount > 100" } } }])).toEqual([
      "features[0] (f).filter.condition: CEL conditions need a condition compiler, and none is configured",
    ]);
  });

  it("reports schema problems with their paths", () => {
    expect(issues([{ ...base, id: "Bad-Id" }])).toEqual([
      "features[0].id: lower snake case, starting with a letter, at most 64 chars",
    ]);
    expect(issues([{ ...base, window: "1 hour" }])).toEqual([
      'features[0].window: a duration such as "90s", "10m", "24h", "30d"',
    ]);
    expect(issues([{ ...base, entity: ["geo.country"] }]).length).toBe(1);
    expect(issues([{ ...base, aggregation: { type: "median" } }]).length).toBe(1);
    expect(issues([{ ...base, extra: 1 }]).length).toBe(1);
    expect(issues([])).toEqual(["features: Too small: expected array to have >=1 items"]);
  });

  it("compiles a CEL condition through the compiler it is given", () => {
    const compiler: ConditionCompiler = {
      compile: (expression) =>
        expression === "big"
          ? { ok: true, test: (e: CleanEvent) => e.type === "order" && Number(e.amount) > 100 }
          : { ok: false, message: `cannot compile ${expression}` },
    };
    const set = compileFeatureSet(
      { features: [{ ...base, filter: { eventTypes: ["order"], condition: { cel: "big" } } }] },
      { conditions: compiler },
    );
    const f = set.features[0];
    const order = (amount: string) =>
      cleanEvent({ eventId: "o", at: 0, type: "order", amount, currency: "USD" });
    expect(f?.accepts(order("100.01"))).toBe(true);
    expect(f?.accepts(order("99.99"))).toBe(false);
    expect(f?.normalized.condition).toBe("big");
    expect(issues([{ ...base, filter: { condition: { cel: "nope" } } }], { conditions: compiler })).toEqual([
      "features[0] (f).filter.condition: cannot compile nope",
    ]);
  });
});
