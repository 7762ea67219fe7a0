import { describe, expect, it } from "vitest";
import { createMemoryStateStore } from "#shared/adapters/memory-state-table";
import { compileRates } from "#shared/domain/enrichment/rates";
import {
  compileFeatureSet,
  DEFAULT_FEATURE_SET,
  EXAMPLE_FEATURES,
  type FeatureDefinition,
  FeatureDefinitionError,
  withCurrencyConverter,
} from "#shared/domain/features/index";
import { TEST_IP_ENRICHMENT } from "./extended-streams";
import { cleanEvent, SHARDS, STREAM, T0 } from "./feature-streams";

const ip = { ipEnrichment: () => TEST_IP_ENRICHMENT };

function problems(features: unknown[], extra: Record<string, unknown> = {}): string[] {
  try {
    compileFeatureSet({ features, ...extra }, ip);
  } catch (error) {
    if (error instanceof FeatureDefinitionError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

const distinct = (id: string, entity: string[], field: string, maxDistinct = 10): FeatureDefinition => ({
  id,
  entity: entity as FeatureDefinition["entity"],
  aggregation: { type: "distinct", field, maxDistinct },
  window: "1h",
});

describe("definitions of the issue-16 kinds", () => {
  it("keeps the state keys of the features the default set had before the issue-16 pack (their meaning is unchanged)", () => {
    const set = compileFeatureSet(DEFAULT_FEATURE_SET);
    // The first 23 are the set before the pack, with the version it had: the extensions changed no
    // meaning, and state written by earlier deployments for those features stays valid.
    const before = compileFeatureSet({ features: DEFAULT_FEATURE_SET.features.slice(0, 23) });
    expect(before.version).toBe("ea7c76aaf89746ac");
    expect(before.ipDataset).toBeUndefined();
    for (const f of before.features)
      expect(set.features.find((g) => g.id === f.id)?.stateKey).toBe(f.stateKey);
    // The pack's features are new state; one reads the IP dataset (ip.type), two are link counts.
    expect(set.version).toBe("556e8dec784dbb75");
    expect(set.ipDataset?.source).toMatch(/^@ip-location-db\/asn@/);
    expect(set.linked.map((l) => l.feature.id)).toEqual([
      "accounts_via_phone_block_7d",
      "referral_siblings_of_referrer_7d",
    ]);
  });

  it("puts the derived-key rules and the IP dataset into the meaning of features that use them", () => {
    const f = distinct("accounts_per_email", ["email.canonical"], "userId");
    const plain = compileFeatureSet({ features: [f] }, ip);
    const other = compileFeatureSet(
      { features: [f], derivedKeys: { email: { providers: [], otherTagSeparator: null } } },
      ip,
    );
    expect(other.features[0]?.stateKey).not.toBe(plain.features[0]?.stateKey);
    expect(other.version).not.toBe(plain.version);
    const byAsn = compileFeatureSet({ features: [distinct("accounts_per_asn", ["ip.asn"], "userId")] }, ip);
    expect(byAsn.features[0]?.normalized.derivation).toEqual({ ipDataset: "test-ip-dataset" });
    expect(byAsn.ipDataset?.source).toBe("test");
    // Unused rules change nothing.
    const unrelated = compileFeatureSet({
      features: [distinct("d", ["userId"], "deviceId")],
      derivedKeys: { phoneBlockDigits: 3 },
    });
    expect(unrelated.features[0]?.stateKey).toBe(
      compileFeatureSet({ features: [distinct("d", ["userId"], "deviceId")] }).features[0]?.stateKey,
    );
  });

  it("names attribute keys and derived keys in canonical order", () => {
    const set = compileFeatureSet(
      { features: [distinct("x", ["attributes.merchantId", "ip.prefix", "userId"], "deviceId")] },
      ip,
    );
    expect(set.groups[0]?.entity.name).toBe("userId+ip.prefix+attributes.merchantId");
  });

  it("refuses what cannot work, naming the feature and the reason", () => {
    expect(
      problems([
        {
          id: "a",
          entity: ["userId"],
          aggregation: { type: "sum", field: "attributes.qty", currency: "EUR" },
          window: "1h",
        },
        {
          id: "b",
          entity: ["userId"],
          aggregation: { type: "sum", field: "amount", currency: "XXX" },
          window: "1h",
        },
        { id: "c", entity: ["userId"], aggregation: { type: "rateRatio", baseline: "30m" }, window: "1h" },
        {
          id: "d",
          entity: ["userId"],
          aggregation: { type: "rateRatio", baseline: "7d" },
          window: "1h",
          bucket: "1m",
        },
        {
          id: "e",
          entity: ["userId"],
          aggregation: { type: "count" },
          window: "1h",
          filter: { match: { "geo.planet": ["x"] } },
        },
        { id: "f", entity: ["userId"], aggregation: { type: "linked", path: ["a", "e"] } },
        { id: "g", entity: ["userId"], aggregation: { type: "linked", path: ["h", "i"] }, window: "1h" },
        distinct("h", ["userId"], "deviceId", 100),
        distinct("i", ["deviceId"], "userId", 100),
        distinct("j", ["deviceId"], "ip", 100),
        { id: "k", entity: ["userId"], aggregation: { type: "linked", path: ["h", "i", "j"] } },
        {
          id: "l",
          entity: ["cardBin"],
          aggregation: { type: "count" },
          window: "1h",
          filter: { eventTypes: ["login"] },
        },
        { id: "m", entity: ["attributes.a", "attributes.a"], aggregation: { type: "count" }, window: "1h" },
        { id: "n", entity: ["userId"], aggregation: { type: "count" } },
      ]),
    ).toEqual([
      'features[0].aggregation.currency: converts amounts only: field must be "amount"',
      "features[1].aggregation.currency: is not an active ISO-4217 currency",
      "features[2].aggregation.baseline: must be longer than the window and at most 30d",
      "features[3].bucket: gives 10080 buckets; at most 240",
      "features[4].filter.match.geo.planet: is not a field a filter can match",
      "features[6].window: a link count reads its steps' windows: no window, bucket or lateness of its own",
      "features[11].filter.eventTypes: cardBin only exists on payment events, which the filter excludes",
      "features[12].entity: lists a field twice",
      "features[13].window: is required",
      "features[5].aggregation.path: step 1 (a) is not a distinct-count feature of the set",
      "features[5].aggregation.path: step 2 (e) is not a distinct-count feature of the set",
      "features[10].aggregation.path: may read 10100 entity items per event (the product of the steps' maxDistinct); at most 200: lower maxDistinct of the steps",
    ]);
  });

  it("switches a store to new exchange rates without a new feature set version", async () => {
    const f: FeatureDefinition = {
      id: "spend_eur",
      entity: ["userId"],
      aggregation: { type: "sum", field: "amount", currency: "EUR" },
      window: "1h",
    };
    const set = compileFeatureSet({ features: [f] });
    const a = withCurrencyConverter(
      set,
      compileRates({ base: "EUR", asOf: "2026-01-01", rates: { USD: "0.5" } }).converter,
    );
    const b = withCurrencyConverter(
      set,
      compileRates({ base: "EUR", asOf: "2026-01-02", rates: { USD: "2" } }).converter,
    );
    expect(withCurrencyConverter(a, a.converter)).toBe(a);
    const { store } = createMemoryStateStore(a, { clock: () => T0 });
    const pay = (i: number) => ({
      event: cleanEvent({ eventId: `p${i}`, at: T0 + i, type: "payment", amount: "10.00", currency: "USD" }),
      stream: STREAM,
      shardId: SHARDS[0],
      sequenceNumber: String(10 + i),
    });
    const first = await store.prepare([pay(1)], new Map());
    await first.commit();
    expect(first.vectors.get("p1")?.values.spend_eur).toBe(500);
    store.use(b);
    const second = await store.prepare([pay(2)], new Map());
    // Both payments, converted with the new rate: state keeps amounts per currency.
    expect(second.vectors.get("p2")?.values.spend_eur).toBe(4_000);
    expect(b.version).toBe(a.version);
  });
});

describe("the example definitions", () => {
  it("compile with the default set and the shipped IP dataset", () => {
    const set = compileFeatureSet({ features: [...DEFAULT_FEATURE_SET.features, ...EXAMPLE_FEATURES] });
    expect(set.linked.map((l) => l.feature.id)).toEqual([
      "accounts_via_phone_block_7d",
      "referral_siblings_of_referrer_7d",
      "accounts_via_devices_24h",
      "accounts_via_device_cards_24h",
      "referral_tree_7d",
    ]);
    expect(set.ipDataset?.source).toMatch(/^@ip-location-db\/asn@/);
  });
});
