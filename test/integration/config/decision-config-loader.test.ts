import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyDocument, rollback } from "#cli/config-operations";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import {
  type ConfigLoadError,
  configLoadMetrics,
  DecisionConfigLoader,
} from "#shared/adapters/decision-config-loader";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import { createMemoryStateStore } from "#shared/adapters/memory-state-table";
import { decisionSafetyMetrics } from "#shared/domain/decision/index";
import type { CleanEvent } from "#shared/domain/event/index";
import { compileFeatureSet, DEFAULT_FEATURE_SET, type FeatureRecord } from "#shared/domain/features/index";
import type { ConfigHead, ConfigKind, ConfigStore } from "#shared/ports/config-store";

/** The injected clock starts at the real one, so list and config stamps are never from the past year. */
const T0 = Math.floor(Date.now() / 1000) * 1000;

const payment: CleanEvent = {
  schemaVersion: 1,
  eventId: "evt-1",
  type: "payment",
  occurredAt: new Date(T0).toISOString(),
  userId: "user-1",
  ip: "198.51.100.7",
  deviceId: "device-1",
  amount: "1.50",
  currency: "USD",
  cardFingerprint: "card-1",
};

const rules = (threshold: number) => ({
  rules: [
    {
      id: "card_testing",
      description: "many payments with one card",
      scenarios: ["payment"],
      when: `features.payments_per_card_10m >= ${threshold.toFixed(1)}`,
      action: "block",
      severity: "high",
      mode: "active",
    },
  ],
});

/** The real store, counting the calls the loader makes (no behaviour changed). */
class CountingStore implements ConfigStore {
  readonly calls: string[] = [];
  constructor(private readonly inner: ConfigStore) {}
  head(kind: ConfigKind) {
    this.calls.push(`head ${kind}`);
    return this.inner.head(kind);
  }
  heads(kinds: readonly ConfigKind[]): Promise<ReadonlyMap<ConfigKind, ConfigHead>> {
    this.calls.push("heads");
    return this.inner.heads(kinds);
  }
  get(kind: ConfigKind, version: number) {
    this.calls.push(`get ${kind} ${version}`);
    return this.inner.get(kind, version);
  }
  list(kind: ConfigKind, options?: { readonly limit?: number }) {
    return this.inner.list(kind, options);
  }
  apply(request: Parameters<ConfigStore["apply"]>[0]) {
    return this.inner.apply(request);
  }
}

describe("DecisionConfigLoader on DynamoDB Local", () => {
  let stack: LocalStack;
  let store: DynamoDbConfigStore;
  const who = { author: "ops", now: new Date(T0 - 3_600_000).toISOString(), checkFeatures: false };

  beforeAll(async () => {
    stack = await startLocalStack({
      stateDir: mkdtempSync(join(tmpdir(), "vigil-loader-")),
      seedConfig: false,
    });
    store = new DynamoDbConfigStore(createDynamoDbClient(stack.env), stack.names.tables.config);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const decide = async (loader: DecisionConfigLoader, cardPayments: number) => {
    const { engine } = await loader.current();
    return engine.decide(
      { event: payment, features: { version: "fs", values: { payments_per_card_10m: cardPayments } } },
      T0,
    );
  };

  it("picks up a new version once the refresh interval has passed, reading only heads in between", async () => {
    await applyDocument(store, "rules", rules(10), who);
    let now = T0;
    const counting = new CountingStore(store);
    const loader = new DecisionConfigLoader(counting, { refreshMs: 30_000, clock: () => now });

    expect((await decide(loader, 5)).action).toBe("pass");
    expect(counting.calls).toEqual(["heads", "get rules 1"]);
    expect((await loader.current()).versions).toEqual({
      rules: 1,
      lists: null,
      model: null,
      features: 0,
      rates: null,
    });

    await applyDocument(store, "rules", rules(5), who);
    now = T0 + 29_999;
    expect((await decide(loader, 5)).action).toBe("pass");
    expect(counting.calls).toHaveLength(2);

    now = T0 + 30_000;
    const after = await decide(loader, 5);
    expect(after.action).toBe("block");
    expect(after.versions.rules).toBe(2);
    expect(counting.calls).toEqual(["heads", "get rules 1", "heads", "get rules 2"]);

    // Nothing changed: one head read per interval, no document reads, same engine.
    const engine = (await loader.current()).engine;
    now = T0 + 60_000;
    expect((await loader.current()).engine).toBe(engine);
    expect(counting.calls.slice(4)).toEqual(["heads"]);
  });

  it("keeps the last good version when an invalid one appears, reports it on every refresh, and recovers", async () => {
    const head = (await store.head("rules"))?.version ?? 0;
    let now = T0;
    const errors: ConfigLoadError[] = [];
    const loader = new DecisionConfigLoader(store, {
      refreshMs: 1_000,
      clock: () => now,
      onError: (e) => errors.push(e),
    });
    expect((await decide(loader, 5)).versions.rules).toBe(head);

    // Written around validation, as a bug or a hand edit of the table could.
    await store.apply({
      kind: "rules",
      document: { rules: [{ ...rules(1).rules[0], when: "features.payments_per_card_10m >=" }] },
      expectedVersion: head,
      author: "hand-edit",
      now: who.now,
    });
    now += 1_000;
    const kept = await loader.current();
    expect(kept.versions.rules).toBe(head);
    expect(kept.errors).toEqual([
      {
        kind: "rules",
        version: head + 1,
        message: `rules version ${head + 1} is invalid: invalid rules configuration:\n  rules[0] (card_testing).when, line 1, column 32: syntax error: found > but expecting end of input`,
      },
    ]);
    expect((await decide(loader, 5)).action).toBe("block");

    now += 1_000;
    expect((await loader.current()).errors).toHaveLength(1);
    expect(errors.map((e) => [e.kind, e.version])).toEqual([
      ["rules", head + 1],
      ["rules", head + 1],
    ]);

    await rollback(store, "rules", 1, who);
    now += 1_000;
    const recovered = await loader.current();
    expect(recovered.errors).toEqual([]);
    expect(recovered.versions.rules).toBe(head + 2);
    expect((await decide(loader, 5)).action).toBe("pass");
  });

  it("on a cold start walks back from an invalid head to the newest valid version", async () => {
    const head = (await store.head("rules"))?.version ?? 0;
    await store.apply({
      kind: "rules",
      document: { rules: "nope" },
      expectedVersion: head,
      author: "x",
      now: who.now,
    });
    const errors: ConfigLoadError[] = [];
    const loader = new DecisionConfigLoader(store, { clock: () => T0, onError: (e) => errors.push(e) });
    const loaded = await loader.current();
    expect(loaded.versions.rules).toBe(head);
    expect(errors.map((e) => [e.kind, e.version])).toEqual([["rules", head + 1]]);
    await rollback(store, "rules", head, who);
  });

  it("uses the fallback for kinds never applied, and stored versions over it", async () => {
    const fallbackLists = {
      version: 0,
      document: { lists: { block: [{ kind: "card", value: "card-1", addedBy: "x", addedAt: who.now }] } },
    };
    const loader = new DecisionConfigLoader(store, { clock: () => T0, fallback: { lists: fallbackLists } });
    const d = await decide(loader, 1);
    expect(d.action).toBe("block");
    expect(d.listHits).toEqual([{ list: "block", kind: "card", entry: "card-1" }]);
    expect((await loader.current()).versions.lists).toBe(0);
  });

  it("computes the built-in feature set until one is applied, then the stored one; an invalid one is refused", async () => {
    let now = T0;
    const errors: ConfigLoadError[] = [];
    const loader = new DecisionConfigLoader(store, {
      refreshMs: 1_000,
      clock: () => now,
      onError: (e) => errors.push(e),
    });
    const builtIn = await loader.current();
    expect(builtIn.versions.features).toBe(0);
    expect(builtIn.features.version).toBe(compileFeatureSet(DEFAULT_FEATURE_SET).version);

    const extended = {
      features: [
        ...DEFAULT_FEATURE_SET.features,
        {
          id: "big_orders_per_user_24h",
          entity: ["userId"],
          aggregation: { type: "count" },
          window: "24h",
          filter: { eventTypes: ["order"], condition: { cel: "event.amountMinor >= 50000" } },
        },
      ],
    };
    await applyDocument(store, "features", extended, who);
    now += 1_000;
    const stored = await loader.current();
    expect(stored.versions.features).toBe(1);
    expect(stored.features.features.map((f) => f.id)).toContain("big_orders_per_user_24h");

    // Written around validation: a condition that reads features.
    const bad = structuredClone(extended);
    (bad.features.at(-1) as { filter: { condition: { cel: string } } }).filter.condition.cel =
      "features.devices_per_user_1h > 1";
    await store.apply({ kind: "features", document: bad, expectedVersion: 1, author: "x", now: who.now });
    now += 1_000;
    const kept = await loader.current();
    expect(kept.features).toBe(stored.features);
    expect(kept.versions.features).toBe(1);
    expect(errors.map((e) => [e.kind, e.version])).toEqual([["features", 2]]);
    expect(errors[0]?.message).toMatch(
      /features\[40\] \(big_orders_per_user_24h\)\.filter\.condition: line 1, column 1: unknown name 'features'/,
    );

    // A cold start walks back past it to version 1.
    const cold = await new DecisionConfigLoader(store, { clock: () => now }).current();
    expect(cold.versions.features).toBe(1);
    await rollback(store, "features", 1, who);
  });

  it("decides with the shipped default rules when no rules version was ever applied", async () => {
    const fresh = await startLocalStack({
      stateDir: mkdtempSync(join(tmpdir(), "vigil-loader-fresh-")),
      seedConfig: false,
    });
    try {
      const empty = new DynamoDbConfigStore(createDynamoDbClient(fresh.env), fresh.names.tables.config);
      const errors: ConfigLoadError[] = [];
      const loaded = await new DecisionConfigLoader(empty, {
        clock: () => T0,
        onError: (e) => errors.push(e),
      }).current();
      expect(loaded.withoutConfiguredRules).toBe(true);
      expect(loaded.versions.rules).toBe(0);
      expect(loaded.engine.parts.rules?.ruleset.rules.map((r) => r.rule.id)).toContain(
        "card_testing_small_payments",
      );
      expect(errors).toEqual([
        {
          kind: "rules",
          version: 0,
          message: "no rules version applied; deciding with the fallback rules (version 0)",
        },
      ]);
      expect(configLoadMetrics(loaded.errors)).toEqual([
        { name: "ConfigLoadErrors", unit: "Count", value: 1, dimensions: { kind: "rules" } },
      ]);
    } finally {
      await fresh.stop();
    }
  });

  it("on a cold start where no rules version compiles, decides with the shipped defaults and says so", async () => {
    const base = (await store.head("rules"))?.version ?? 0;
    // Seven versions written around validation (a hand edit, or a code change that now refuses
    // them): the head and the five the loader walks back through all fail.
    for (let i = 1; i <= 7; i++) {
      await store.apply({
        kind: "rules",
        document: { rules: [{ ...rules(1).rules[0], when: `features.payments_per_card_10m >= ${i}.0 &&` }] },
        expectedVersion: base + i - 1,
        author: "hand-edit",
        now: who.now,
      });
    }
    const head = base + 7;
    let now = T0;
    const counting = new CountingStore(store);
    const errors: ConfigLoadError[] = [];
    const loader = new DecisionConfigLoader(counting, {
      refreshMs: 1_000,
      clock: () => now,
      onError: (e) => errors.push(e),
    });
    const loaded = await loader.current();
    expect(loaded.withoutConfiguredRules).toBe(true);
    expect(loaded.versions.rules).toBe(0);
    expect(errors.map((e) => [e.kind, e.version])).toEqual([
      ...[0, 1, 2, 3, 4, 5].map((back) => ["rules", head - back]),
      ["rules", 0],
    ]);
    expect(errors.at(-1)?.message).toBe(
      `no rules version compiles (head ${head}); deciding with the fallback rules (version 0)`,
    );
    // The shipped rules act: five small payments on one card within 10 minutes are card testing.
    const d = await decide(loader, 5);
    expect(d.action).toBe("block");
    expect(d.ruleHits.map((h) => h.id)).toEqual(["card_testing_small_payments"]);
    expect(d.versions.rules).toBe(0);
    expect(decisionSafetyMetrics([d, d])).toEqual([
      { name: "DecisionsWithoutConfiguredRules", unit: "Count", value: 2, dimensions: {} },
      { name: "LateEventDecisions", unit: "Count", value: 0, dimensions: {} },
    ]);

    // Warm: the refused head is reported on every refresh, not read and compiled again.
    counting.calls.length = 0;
    errors.length = 0;
    now += 1_000;
    const again = await loader.current();
    expect(counting.calls).toEqual(["heads"]);
    expect(again.withoutConfiguredRules).toBe(true);
    expect(again.errors.map((e) => [e.kind, e.version])).toEqual([
      ["rules", head],
      ["rules", 0],
    ]);

    // A valid version applied: configured rules are in force again, and the reports stop.
    await applyDocument(store, "rules", rules(3), { ...who, expectedVersion: head });
    now += 1_000;
    const fixed = await loader.current();
    expect(fixed.withoutConfiguredRules).toBe(false);
    expect(fixed.versions.rules).toBe(head + 1);
    expect(fixed.errors).toEqual([]);
    expect(decisionSafetyMetrics([await decide(loader, 3)])[0]?.value).toBe(0);
  });

  it("fails the call (the batch is retried) when neither a rules version nor the fallback compiles", async () => {
    const head = (await store.head("rules"))?.version ?? 0;
    for (let i = 1; i <= 6; i++) {
      await store.apply({
        kind: "rules",
        document: { rules: "not a list" },
        expectedVersion: head + i - 1,
        author: "hand-edit",
        now: who.now,
      });
    }
    const loader = new DecisionConfigLoader(store, {
      clock: () => T0,
      fallback: { rules: { version: 0, document: { rules: "nor this" } } },
    });
    await expect(loader.current()).rejects.toThrow(
      "no rules version compiles, nor the fallback rules: nothing safe to decide with",
    );
    await rollback(store, "rules", head, who);
  });

  it("keeps deciding with what it has when the table becomes unreadable, and throws on a cold start", async () => {
    let now = T0;
    let tableName = stack.names.tables.config;
    const client = createDynamoDbClient(stack.env);
    const flaky: ConfigStore = {
      head: (k) => new DynamoDbConfigStore(client, tableName).head(k),
      heads: (k) => new DynamoDbConfigStore(client, tableName).heads(k),
      get: (k, v) => new DynamoDbConfigStore(client, tableName).get(k, v),
      list: (k, o) => new DynamoDbConfigStore(client, tableName).list(k, o),
      apply: (r) => new DynamoDbConfigStore(client, tableName).apply(r),
    };
    const loader = new DecisionConfigLoader(flaky, { refreshMs: 1_000, clock: () => now });
    const good = await loader.current();
    tableName = "no-such-table";
    now += 1_000;
    const degraded = await loader.current();
    expect(degraded.engine).toBe(good.engine);
    expect(degraded.errors.map((e) => e.kind)).toEqual(["store"]);
    expect(degraded.errors[0]?.message).toMatch(/^config table not readable: /);

    const cold = new DecisionConfigLoader(flaky, { clock: () => now });
    await expect(cold.current()).rejects.toThrow();
  });

  it("binds the exchange rates in force to converted features and switches to a new version on reload", async () => {
    let now = T0;
    const errors: ConfigLoadError[] = [];
    const loader = new DecisionConfigLoader(store, {
      refreshMs: 1_000,
      clock: () => now,
      onError: (e) => errors.push(e),
    });
    const spend = {
      id: "card_spend_eur_24h",
      entity: ["cardFingerprint"],
      aggregation: { type: "sum", field: "amount", currency: "EUR" },
      window: "24h",
      filter: { eventTypes: ["payment"] },
    };
    await applyDocument(store, "features", { features: [...DEFAULT_FEATURE_SET.features, spend] }, who);
    now += 1_000;
    const withoutRates = await loader.current();
    expect(withoutRates.versions.rates).toBeNull();
    expect(withoutRates.features.converter).toBeUndefined();

    const read = async (features: typeof withoutRates.features, eventId: string) => {
      const { store: state } = createMemoryStateStore(features, { clock: () => T0 });
      const record: FeatureRecord = {
        event: { ...payment, eventId },
        stream: "arn:aws:kinesis:us-east-1:000000000000:stream/loader-test",
        shardId: "shardId-000000000000",
        sequenceNumber: "1",
      };
      const pass = await state.prepare([record], new Map());
      const vector = pass.vectors.get(eventId);
      return { value: vector?.values.card_spend_eur_24h, saturated: vector?.saturated };
    };
    // No rates: USD cannot be converted: 0, flagged.
    expect(await read(withoutRates.features, "r0")).toEqual({ value: 0, saturated: ["card_spend_eur_24h"] });

    // date-safe: a rates table's asOf label in the config table, which has no TTL.
    await applyDocument(store, "rates", { base: "EUR", asOf: "2026-12-01", rates: { USD: "0.9" } }, who);
    now += 1_000;
    const first = await loader.current();
    expect(first.versions.rates).toBe(1);
    // date-safe: a rates table's asOf label in the config table, which has no TTL.
    expect(first.features.converter?.label).toBe("rates version 1 (EUR, 2026-12-01)");
    expect(await read(first.features, "r1")).toEqual({ value: 135, saturated: [] }); // 1.50 USD → 1.35 EUR

    // date-safe: a rates table's asOf label in the config table, which has no TTL.
    await applyDocument(store, "rates", { base: "EUR", asOf: "2026-12-02", rates: { USD: "1.1" } }, who);
    now += 1_000;
    const second = await loader.current();
    expect(second.versions.rates).toBe(2);
    expect(await read(second.features, "r2")).toEqual({ value: 165, saturated: [] });
    // The feature set itself did not change: same version, state keys kept.
    expect(second.features.version).toBe(first.features.version);
    expect(errors).toEqual([]);
  });
});
