import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyDocument, currentDocument, rollback } from "#cli/config-operations";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import {
  ConfigValidationError,
  compileFeatureDocument,
  compileRuleset,
  MODEL_FORMAT,
} from "#shared/domain/decision/index";
import { DEFAULT_FEATURE_SET } from "#shared/domain/features/index";
import {
  type ApplyRequest,
  ConfigDependencyConflictError,
  type ConfigKind,
  type ConfigStore,
} from "#shared/ports/config-store";

/** The feature both sides race over: defined by the extended set, dropped by the default one. */
const EXTRA = "big_orders_per_user_24h";
const EXTENDED = {
  features: [
    ...DEFAULT_FEATURE_SET.features,
    {
      id: EXTRA,
      entity: ["userId"],
      aggregation: { type: "count" },
      window: "24h",
      filter: { eventTypes: ["order"], condition: { cel: "event.amountMinor >= 50000" } },
    },
  ],
};

const rulesReading = (feature: string) => ({
  rules: [
    {
      id: "reader",
      description: `reads ${feature}`,
      scenarios: ["order"],
      when: `has(features.${feature}) && features.${feature} >= 3.0`,
      action: "review",
      severity: "medium",
      mode: "active",
    },
  ],
});
const PLAIN_RULES = rulesReading("devices_per_user_1h");
const EXTRA_RULES = rulesReading(EXTRA);

const who = (author: string) => ({ author, now: new Date().toISOString() });

/**
 * The real store, with every apply held until `parties` applies have arrived: both writers have
 * read and checked the other kind's head before either writes, the interleaving a check that is
 * not part of the write cannot survive. Later applies (retries) pass straight through.
 */
class BarrierStore implements ConfigStore {
  private waiting: (() => void)[] = [];
  private open = false;
  constructor(
    private readonly inner: ConfigStore,
    private readonly parties: number,
  ) {}
  head(kind: ConfigKind) {
    return this.inner.head(kind);
  }
  heads(kinds: readonly ConfigKind[]) {
    return this.inner.heads(kinds);
  }
  get(kind: ConfigKind, version: number) {
    return this.inner.get(kind, version);
  }
  list(kind: ConfigKind, options?: { readonly limit?: number }) {
    return this.inner.list(kind, options);
  }
  async apply(request: ApplyRequest) {
    if (!this.open) {
      await new Promise<void>((release) => {
        this.waiting.push(release);
        // A party that never arrives (refused before writing) must not hang the other.
        const timer = setTimeout(() => this.release(), 10_000);
        if (this.waiting.length >= this.parties) {
          clearTimeout(timer);
          this.release();
        }
      });
    }
    return this.inner.apply(request);
  }
  private release() {
    this.open = true;
    for (const r of this.waiting.splice(0)) r();
  }
}

describe("the cross-kind check between rules and features is atomic (DynamoDB Local)", () => {
  let stack: LocalStack;
  let store: DynamoDbConfigStore;
  beforeAll(async () => {
    stack = await startLocalStack({
      stateDir: mkdtempSync(join(tmpdir(), "vigil-cross-kind-")),
      seedConfig: false,
    });
    store = new DynamoDbConfigStore(createDynamoDbClient(stack.env), stack.names.tables.config);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** The invariant: every feature the rules in force read is in the feature set in force. */
  const rulesReadOnlyKnownFeatures = async () => {
    const [rules, features] = await Promise.all([
      currentDocument(store, "rules"),
      currentDocument(store, "features"),
    ]);
    const set = features.version === 0 ? DEFAULT_FEATURE_SET : features.document;
    const known = new Set(compileFeatureDocument(set).features.map((f) => f.id));
    const read = compileRuleset(rules.document).allRules.flatMap((r) => r.analysis.features);
    return read.filter((id) => !known.has(id));
  };

  it("writes only while a required head is still where the document was checked against", async () => {
    const features = await store.apply({
      kind: "features",
      document: EXTENDED,
      expectedVersion: 0,
      requireHeads: [{ kind: "rules", version: 0 }],
      ...who("ann"),
    });
    expect(features.version).toBe(1);
    const rules = await store.apply({
      kind: "rules",
      document: PLAIN_RULES,
      expectedVersion: 0,
      requireHeads: [{ kind: "features", version: 1 }],
      ...who("ann"),
    });
    expect(rules.version).toBe(1);

    // Checked against "no rules" and features version 0: both moved since, nothing is written.
    const stale = store.apply({
      kind: "features",
      document: DEFAULT_FEATURE_SET,
      expectedVersion: 1,
      requireHeads: [{ kind: "rules", version: 0 }],
      ...who("bob"),
    });
    await expect(stale).rejects.toBeInstanceOf(ConfigDependencyConflictError);
    await expect(stale).rejects.toMatchObject({
      kind: "features",
      dependency: "rules",
      dependencyVersion: 0,
      currentDependencyVersion: 1,
    });
    expect((await store.head("features"))?.version).toBe(1);
    expect(await store.get("features", 2)).toBeUndefined();
    await expect(
      store.apply({
        kind: "rules",
        document: EXTRA_RULES,
        expectedVersion: 1,
        requireHeads: [{ kind: "features", version: 7 }],
        ...who("bob"),
      }),
    ).rejects.toBeInstanceOf(ConfigDependencyConflictError);
    expect((await store.head("rules"))?.version).toBe(1);
  });

  it("lets at most one of a dropping features apply and a rules apply reading the feature win", async () => {
    // Each round starts from: features define EXTRA, rules do not read it.
    const outcomes: string[] = [];
    for (let round = 0; round < 6; round++) {
      await applyDocument(store, "features", EXTENDED, who("setup"));
      await applyDocument(store, "rules", PLAIN_RULES, who("setup"));
      expect(await rulesReadOnlyKnownFeatures()).toEqual([]);
      // Both check against the same heads before either writes (barrier), then race to write.
      const racing = new BarrierStore(store, 2);
      const [dropping, reading] = await Promise.allSettled([
        applyDocument(racing, "features", DEFAULT_FEATURE_SET, who("ann")),
        applyDocument(racing, "rules", EXTRA_RULES, who("bob")),
      ]);
      const won = [dropping, reading].filter((r) => r.status === "fulfilled");
      // Never both; and not neither: the loser checks again against the winner's head.
      expect(won).toHaveLength(1);
      for (const lost of [dropping, reading].filter((r) => r.status === "rejected")) {
        // The loser was checked again against the winner's head and refused.
        expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(ConfigValidationError);
      }
      expect(await rulesReadOnlyKnownFeatures()).toEqual([]);
      outcomes.push(dropping.status === "fulfilled" ? "features" : "rules");
    }
    // Without the barrier: whatever the timing, never both.
    for (let round = 0; round < 6; round++) {
      await applyDocument(store, "features", EXTENDED, who("setup"));
      await applyDocument(store, "rules", PLAIN_RULES, who("setup"));
      const results = await Promise.allSettled([
        applyDocument(store, "rules", EXTRA_RULES, who("bob")),
        applyDocument(store, "features", DEFAULT_FEATURE_SET, who("ann")),
      ]);
      expect(results.filter((r) => r.status === "fulfilled").length).toBeLessThanOrEqual(1);
      expect(await rulesReadOnlyKnownFeatures()).toEqual([]);
    }
    expect(outcomes).toHaveLength(6);
  });

  it("refuses a rules rollback that would read a feature the feature set in force lacks", async () => {
    await applyDocument(store, "features", EXTENDED, who("setup"));
    const reading = await applyDocument(store, "rules", EXTRA_RULES, who("setup"));
    await applyDocument(store, "rules", PLAIN_RULES, who("setup"));
    const dropped = await applyDocument(store, "features", DEFAULT_FEATURE_SET, who("ann"));
    const head = (await store.head("rules"))?.version;

    const attempt = rollback(store, "rules", reading.version, who("carol"));
    await expect(attempt).rejects.toBeInstanceOf(ConfigValidationError);
    await expect(attempt).rejects.toThrow(`unknown feature '${EXTRA}'`);
    expect((await store.head("rules"))?.version).toBe(head);
    expect(await rulesReadOnlyKnownFeatures()).toEqual([]);

    // Staged on purpose (rules guarded with has()): allowed when asked, as apply allows it.
    const staged = await rollback(store, "rules", reading.version, { ...who("carol"), checkFeatures: false });
    expect(staged.restoredFrom).toBe(reading.version);
    // And a feature set may still be applied on top: nothing it drops is read (EXTRA was gone).
    await expect(
      applyDocument(store, "features", DEFAULT_FEATURE_SET, { ...who("ann"), comment: "no drop" }),
    ).resolves.toMatchObject({ version: dropped.version + 1 });
    await applyDocument(store, "rules", PLAIN_RULES, who("setup"));
  });

  it("refuses a features rollback that would drop a feature the rules in force read", async () => {
    const without = await applyDocument(store, "features", DEFAULT_FEATURE_SET, who("setup"));
    await applyDocument(store, "features", EXTENDED, who("setup"));
    await applyDocument(store, "rules", EXTRA_RULES, who("setup"));
    const head = (await store.head("features"))?.version;

    const attempt = rollback(store, "features", without.version, who("carol"));
    await expect(attempt).rejects.toBeInstanceOf(ConfigValidationError);
    const error = (await attempt.catch((e: unknown) => e)) as ConfigValidationError;
    expect(error.issues.map((i) => i.message)).toEqual([
      `rules version ${(await store.head("rules"))?.version} (rule reader) reads feature '${EXTRA}', which this set drops; change the rules first or keep the feature`,
    ]);
    expect((await store.head("features"))?.version).toBe(head);

    // A rules rollback that starts reading it, racing a features rollback that drops it: both
    // pass their checks against the same heads; at most one lands, and the pair stays consistent.
    const plain = await applyDocument(store, "rules", PLAIN_RULES, who("setup"));
    const reading = (await store.list("rules")).find((v) => v.version < plain.version);
    expect(reading).toBeDefined();
    const racing = new BarrierStore(store, 2);
    const results = await Promise.allSettled([
      rollback(racing, "features", without.version, who("ann")),
      rollback(racing, "rules", reading?.version ?? 0, who("bob")),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await rulesReadOnlyKnownFeatures()).toEqual([]);
  });

  it("checks the model too: a model reading a feature pins it, and rolling the model back is checked", async () => {
    await applyDocument(store, "rules", PLAIN_RULES, who("setup"));
    await applyDocument(store, "features", EXTENDED, who("setup"));
    const model = (feature: string) => ({
      active: {
        format: MODEL_FORMAT,
        id: "pinned",
        version: feature,
        createdAt: new Date().toISOString(),
        provenance: { method: "hand-set for tests", data: "none" },
        intercept: -3,
        terms: [
          {
            name: "t",
            input: { feature },
            transform: { type: "standardize", mean: 0, std: 1, weight: 1 },
            reason: "T",
          },
        ],
      },
    });
    const plainModel = await applyDocument(store, "model", model("devices_per_user_1h"), who("setup"));
    await applyDocument(store, "model", model(EXTRA), who("setup"));
    const dropping = applyDocument(store, "features", DEFAULT_FEATURE_SET, who("ann"));
    await expect(dropping).rejects.toThrow(`(active model) reads feature '${EXTRA}', which this set drops`);
    // Once the model no longer reads it (a checked rollback), the feature set may drop it; rolling
    // the model forward again is then refused.
    const back = await rollback(store, "model", plainModel.version, who("carol"));
    await applyDocument(store, "features", DEFAULT_FEATURE_SET, who("ann"));
    await expect(rollback(store, "model", back.version - 1, who("carol"))).rejects.toThrow(
      `unknown feature '${EXTRA}'`,
    );
  });
});
