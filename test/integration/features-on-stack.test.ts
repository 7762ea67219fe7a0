import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { compileFeatureDocument } from "#shared/domain/decision/index";
import { DEFAULT_FEATURE_SET, type FeatureDefinition } from "#shared/domain/features/index";
import type { DecisionRecord } from "#shared/ports/decision-store";
import { startTestPipeline, type TestPipeline } from "../support/pipeline.ts";
import { VIGIL_BIN } from "../support/processes.ts";

/** The reload bound this test runs with (production default: 30 s). */
const REFRESH_SECONDS = 2;

/** Orders of 500.00 or more: a CEL condition on the event's amount in minor units. */
const BIG_ORDERS: FeatureDefinition = {
  id: "big_orders_per_user_24h",
  entity: ["userId"],
  aggregation: { type: "count" },
  window: "24h",
  filter: { eventTypes: ["order"], condition: { cel: "event.amountMinor >= 50000" } },
};

/** Sign-ins through the web channel per IP: a CEL condition on an attribute. */
const WEB_LOGINS: FeatureDefinition = {
  id: "web_logins_per_ip_1h",
  entity: ["ip"],
  aggregation: { type: "count" },
  window: "1h",
  filter: {
    condition: {
      cel: 'event.type == "login" && has(event.attributes.channel) && event.attributes.channel == "web"',
    },
  },
};

/**
 * Issue 4's feature definitions as data, on the local stack: an operator applies a feature set
 * with the CLI while events flow; the score function computes it after its reload bound, CEL
 * filters decide what counts, unchanged features keep their state, and a rollback within a day
 * brings a feature back with the state it had.
 */
describe("feature sets applied with the CLI on the local stack", () => {
  let pipeline: TestPipeline;
  const dir = mkdtempSync(join(tmpdir(), "vigil-features-"));
  let n = 0;

  beforeAll(async () => {
    pipeline = await startTestPipeline({ VIGIL_CONFIG_REFRESH_SECONDS: String(REFRESH_SECONDS) });
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  const vigil = (args: string[]) => {
    const r = spawnSync(process.execPath, [VIGIL_BIN, ...args], {
      encoding: "utf8",
      env: { ...process.env, ...pipeline.stack.env, USER: "test-operator" },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const writeSet = (features: readonly FeatureDefinition[]) => {
    const file = join(dir, `features-${++n}.yaml`);
    writeFileSync(file, stringify({ features }));
    return file;
  };
  const featuresVersion = () => {
    const lines = vigil(["features", "list", "--versions", "--json"]).out.trim().split("\n");
    return lines.map((l) => JSON.parse(l) as { version: number; inForce: boolean }).find((l) => l.inForce)
      ?.version;
  };
  const waitForReload = () => new Promise((r) => setTimeout(r, REFRESH_SECONDS * 1000 + 300));

  const USER = "feat-user-1";
  const IP = "198.51.100.77";
  let seq = 0;
  /** Puts events of USER in order (one shard: partition key userId), waits, returns their decisions. */
  const decide = async (
    events: readonly ({ type: "order"; amount: string } | { type: "login"; channel: string })[],
  ): Promise<DecisionRecord[]> => {
    const full = events.map((e) => {
      seq++;
      const base = {
        schemaVersion: 1,
        eventId: `feat-evt-${seq}`,
        occurredAt: new Date(Date.now() - 1000).toISOString(),
        userId: USER,
        ip: IP,
        deviceId: "feat-device-1",
      };
      return e.type === "order"
        ? { ...base, type: "order", amount: e.amount, currency: "USD" }
        : { ...base, type: "login", attributes: { channel: e.channel } };
    });
    for (const event of full) {
      // One at a time, so each event is in its own batch and the test does not depend on batching.
      await pipeline.put([{ data: Buffer.from(JSON.stringify(event)), partitionKey: USER }]);
    }
    await pipeline.idle();
    const decisions = (await pipeline.scan("decisions")) as unknown as DecisionRecord[];
    return full.map((event) => {
      const d = decisions.find((x) => x.eventId === event.eventId);
      if (!d) throw new Error(`no decision for ${event.eventId}`);
      return d;
    });
  };
  const value = (d: DecisionRecord, id: string) => d.features?.values[id];

  const extended = [...DEFAULT_FEATURE_SET.features, BIG_ORDERS, WEB_LOGINS];

  it("a new feature set is computed after the reload bound; CEL filters decide what counts; unchanged features keep their state", async () => {
    expect(featuresVersion()).toBe(1); // the local stack seeds the default set
    const [o1, o2] = await decide([
      { type: "order", amount: "600.00" },
      { type: "order", amount: "20.00" },
    ]);
    expect(value(o1 as DecisionRecord, "order_amount_per_user_24h")).toBe(60_000);
    expect(value(o2 as DecisionRecord, "order_amount_per_user_24h")).toBe(62_000);
    expect(o1?.features?.values).not.toHaveProperty("big_orders_per_user_24h");

    const applied = vigil(["features", "apply", writeSet(extended), "--comment", "big orders, web logins"]);
    expect(applied.err).toMatch(/Applied .* as features version 2/);
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.out)).toMatchObject({
      kind: "features",
      version: 2,
      author: "test-operator",
      fresh: ["big_orders_per_user_24h", "web_logins_per_ip_1h"],
    });
    await waitForReload();

    const [o3, o4, web, app] = await decide([
      { type: "order", amount: "700.00" },
      { type: "order", amount: "10.00" },
      { type: "login", channel: "web" },
      { type: "login", channel: "app" },
    ]);
    const expectedVersion = compileFeatureDocument({ features: extended }).version;
    for (const d of [o3, o4, web, app]) expect(d?.versions.features).toBe(expectedVersion);
    // New feature: counts from its apply on (the 600.00 order came before it existed).
    expect(value(o3 as DecisionRecord, "big_orders_per_user_24h")).toBe(1);
    expect(value(o4 as DecisionRecord, "big_orders_per_user_24h")).toBe(1);
    // Unchanged feature: its state from before the change carries on.
    expect(value(o3 as DecisionRecord, "order_amount_per_user_24h")).toBe(132_000);
    expect(value(o4 as DecisionRecord, "order_amount_per_user_24h")).toBe(133_000);
    // The condition on an attribute: the web sign-in counts, the app one reads it but adds nothing.
    expect(value(web as DecisionRecord, "web_logins_per_ip_1h")).toBe(1);
    expect(value(app as DecisionRecord, "web_logins_per_ip_1h")).toBe(1);
    expect(value(app as DecisionRecord, "logins_per_user_10m")).toBe(2);

    const shown = vigil(["features", "show", "userId", USER]);
    expect(shown.code).toBe(0);
    const reading = JSON.parse(shown.out) as {
      featuresVersion: number;
      features: { id: string; value: unknown }[];
    };
    expect(reading.featuresVersion).toBe(2);
    expect(reading.features.find((f) => f.id === "big_orders_per_user_24h")?.value).toBe(1);
  });

  it("refuses, naming the problem, a CEL condition that reads features and a set that drops features the rules read", () => {
    const version = featuresVersion();
    const reading = {
      ...BIG_ORDERS,
      id: "orders_after_many_devices",
      filter: { condition: { cel: "features.devices_per_user_1h > 2" } },
    };
    const bad = vigil(["features", "apply", writeSet([...extended, reading])]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/feature orders_after_many_devices: features\[\d+\]\.filter\.condition/);
    expect(bad.err).toMatch(/unknown name 'features'; expressions can use event/);

    const withoutCardVelocity = extended.filter((f) => f.id !== "payments_per_card_10m");
    const dropped = vigil(["features", "apply", writeSet(withoutCardVelocity)]);
    expect(dropped.code).toBe(2);
    expect(dropped.err).toMatch(
      /rules version 1 \(rule card_testing_small_payments\) reads feature 'payments_per_card_10m'/,
    );
    expect(featuresVersion()).toBe(version);
  });

  it("a rollback within a day brings a feature back with the state it had", async () => {
    const back = vigil(["features", "rollback", "--to", "1"]);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.out)).toMatchObject({ version: 3, restoredFrom: 1 });
    await waitForReload();
    const [o5] = await decide([{ type: "order", amount: "800.00" }]);
    expect(o5?.features?.values).not.toHaveProperty("big_orders_per_user_24h");
    expect(value(o5 as DecisionRecord, "order_amount_per_user_24h")).toBe(213_000);

    const forward = vigil(["features", "rollback", "--to", "2"]);
    expect(forward.code).toBe(0);
    await waitForReload();
    const [o6] = await decide([{ type: "order", amount: "900.00" }]);
    // The 700.00 order's contribution was carried while the feature was out of force; the
    // 800.00 order, decided then, did not count.
    expect(value(o6 as DecisionRecord, "big_orders_per_user_24h")).toBe(2);
    expect(value(o6 as DecisionRecord, "order_amount_per_user_24h")).toBe(303_000);
  });

  it("computes the issue-16 kinds on the stack: converted sums with applied rates, IP types, time since, ratios, link counts", async () => {
    const kinds: FeatureDefinition[] = [
      {
        id: "order_spend_eur_24h",
        entity: ["userId"],
        aggregation: { type: "sum", field: "amount", currency: "EUR" },
        window: "24h",
        filter: { eventTypes: ["order"] },
      },
      {
        id: "hosting_logins_per_user_1h",
        entity: ["userId"],
        aggregation: { type: "count" },
        window: "1h",
        filter: { eventTypes: ["login"], match: { "ip.type": ["hosting"] } },
      },
      {
        id: "since_login_1h",
        entity: ["userId"],
        aggregation: { type: "timeSince" },
        window: "1h",
        filter: { eventTypes: ["login"] },
      },
      {
        id: "order_vs_max_24h",
        entity: ["userId"],
        aggregation: { type: "valueRatio", field: "amount", baseline: "max" },
        window: "24h",
        filter: { eventTypes: ["order"] },
      },
      {
        id: "devices_of_user_1h",
        entity: ["userId"],
        aggregation: { type: "distinct", field: "deviceId", maxDistinct: 5 },
        window: "1h",
      },
      {
        id: "accounts_on_device_1h",
        entity: ["deviceId"],
        aggregation: { type: "distinct", field: "userId", maxDistinct: 5 },
        window: "1h",
      },
      {
        id: "accounts_via_devices",
        entity: ["userId"],
        aggregation: { type: "linked", path: ["devices_of_user_1h", "accounts_on_device_1h"] },
      },
    ];
    const ratesFile = join(dir, "rates.yaml");
    // date-safe: a rates table's asOf label in the config table, which has no TTL.
    writeFileSync(ratesFile, stringify({ base: "EUR", asOf: "2026-12-01", rates: { USD: "0.9" } }));
    const rates = vigil(["rates", "apply", ratesFile, "--comment", "test rates"]);
    // date-safe: a rates table's asOf label in the config table, which has no TTL.
    expect(rates.err).toMatch(/Applied .* as rates version 1 .*: rates version 1 \(EUR, 2026-12-01\)/);
    expect(rates.code).toBe(0);
    const applied = vigil(["features", "apply", writeSet([...extended, ...kinds])]);
    expect(applied.code).toBe(0);
    await waitForReload();

    const start = Date.now() - 60_000;
    const events = [
      { type: "login", userId: "feat-user-3", deviceId: "feat-shared-phone" },
      { type: "login", userId: "feat-user-2", deviceId: "feat-shared-phone" },
      { type: "order", userId: "feat-user-2", deviceId: "feat-laptop", amount: "100.00", currency: "USD" },
      { type: "order", userId: "feat-user-2", deviceId: "feat-laptop", amount: "300.00", currency: "USD" },
    ].map((e, i) => ({
      schemaVersion: 1,
      eventId: `feat-kinds-${i}`,
      occurredAt: new Date(start + i * 1_000).toISOString(),
      ip: "8.8.4.4", // AS15169, a hosting network in the shipped list
      ...e,
    }));
    for (const event of events) {
      await pipeline.put([{ data: Buffer.from(JSON.stringify(event)), partitionKey: event.userId }]);
      await pipeline.idle();
    }
    const decisions = (await pipeline.scan("decisions")) as unknown as DecisionRecord[];
    const last = decisions.find((d) => d.eventId === "feat-kinds-3") as DecisionRecord;
    expect(last.features?.values).toMatchObject({
      order_spend_eur_24h: 36_000, // 400.00 USD at 0.9
      hosting_logins_per_user_1h: 1,
      since_login_1h: 2_000,
      order_vs_max_24h: 3,
      accounts_via_devices: 1, // feat-user-3, through the shared phone
    });
    expect(last.features?.saturated).toEqual([]);

    const shown = vigil(["features", "show", "userId", "feat-user-2"]);
    expect(shown.code).toBe(0);
    expect(shown.err).toMatch(/IP dataset: @ip-location-db\/asn@\S+, data of \d{4}-\d{2}-\d{2}\./);
    // date-safe: a rates table's asOf label in the config table, which has no TTL.
    expect(shown.err).toMatch(/Exchange rates: rates version 1 \(EUR, 2026-12-01\)\./);
    const reading = JSON.parse(shown.out) as {
      ipDataset: { source: string; date: string; usedByFeatures: boolean };
      features: { id: string; value: unknown }[];
    };
    expect(reading.ipDataset).toMatchObject({
      source: expect.stringMatching(/^@ip-location-db\/asn@/),
      usedByFeatures: true,
    });
    expect(reading.features.find((f) => f.id === "order_spend_eur_24h")?.value).toEqual({ EUR: 36_000 });
  });
});
