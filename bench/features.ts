/**
 * Benchmark of the feature state store against a naive baseline, on DynamoDB Local started here.
 *
 *   npx tsx bench/features.ts [--events 4000] [--batch 100] [--users 3000] [--hours 1] [--examples]
 *
 * `--examples` adds the example definitions of the issue-16 kinds (EXAMPLE_FEATURES: derived
 * keys, IP types, a converted sum, ratios, time-since, link counts) to the default set, with an
 * example rates table, and skips the naive baseline: it measures what those kinds cost.
 *
 * One realistic stream (Zipf-like users, shared devices and NAT IPs, a few hot fraud devices and
 * cards, coupon campaigns) is scored twice with the default feature set:
 * - store: DynamoDbStateStore, batches of `--batch` records per shard, two shards consumed
 *   concurrently as two event source mapping pollers would;
 * - naive: one UpdateItem per feature per event that adds to it (ADD/SET on a bucket attribute
 *   of a per-feature item, ReturnValues ALL_NEW), one GetItem per feature it only reads.
 * Both report requests, capacity units (ReturnConsumedCapacity: TOTAL, which DynamoDB Local
 * returns; the store also estimates write units from item sizes) and throughput.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  paginateScan,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { startLocalStack } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { fromItem, itemSizeBytes } from "#shared/adapters/dynamodb-state-codec";
import { DynamoDbStateStore } from "#shared/adapters/dynamodb-state-store";
import { compileRates } from "#shared/domain/enrichment/rates";
import type { CleanEvent, EventType } from "#shared/domain/event/index";
import {
  bucketIndex,
  type CompiledFeature,
  type CompiledFeatureSet,
  compileFeatureSet,
  DEFAULT_FEATURE_SET,
  EXAMPLE_FEATURES,
  entityPk,
  eventKeyValues,
  type FeatureRecord,
  planBatch,
  windowRange,
  withCurrencyConverter,
} from "#shared/domain/features/index";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "4000" },
    batch: { type: "string", default: "100" },
    users: { type: "string", default: "3000" },
    hours: { type: "string", default: "1" },
    examples: { type: "boolean", default: false },
  },
});
const EXAMPLES = args.examples === true;
const EVENTS = Number(args.events);
const BATCH = Number(args.batch);
const USERS = Number(args.users);
/** Event time the stream spans: longer streams show what pruning keeps behind the horizon. */
const HOURS = Number(args.hours);
const SHARDS = ["shardId-000000000000", "shardId-000000000001"];
/** The ARN of a stream named the way CDK names one (high-water marks are keyed by stream). */
const STREAM_ARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/VigilStack-Events4A1B2C3D-x9Y8z7W6v5U4";

/** Deterministic pseudo-random numbers (mulberry32), so runs are comparable. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(42);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

/** Zipf-like index in [0, n): rank r drawn with weight 1/(r+1)^s, by inverse transform on a table. */
function zipf(n: number, s: number): () => number {
  const cumulative: number[] = [];
  let total = 0;
  for (let r = 0; r < n; r++) {
    total += 1 / (r + 1) ** s;
    cumulative.push(total);
  }
  return () => {
    const x = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** The stream: who does what from where, over `--hours` of event time, slightly out of order. */
function makeStream(): CleanEvent[] {
  const user = zipf(USERS, 1.05);
  const sharedIp = zipf(200, 1.2);
  const farmDevice = zipf(20, 1.0);
  const fraudCard = zipf(30, 1.0);
  const types: EventType[] = [
    "login",
    "login",
    "login",
    "login",
    "order",
    "order",
    "payment",
    "payment",
    "register",
    "coupon_claim",
  ];
  const start = Date.UTC(new Date().getUTCFullYear() + 1, 0, 1);
  const events: CleanEvent[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const u = user();
    const fraud = random() < 0.03;
    const type = pick(types);
    const base = {
      schemaVersion: 1 as const,
      eventId: `bench-${i}`,
      occurredAt: new Date(
        start + Math.floor((i / EVENTS) * HOURS * 3_600_000 + (random() - 0.5) * 4_000),
      ).toISOString(),
      userId: `user-${u}`,
      deviceId: fraud ? `farm-${farmDevice()}` : `dev-${u}-${random() < 0.85 ? 0 : 1}`,
      ip: random() < 0.6 ? `10.${(u >> 8) & 255}.${u & 255}.1` : `100.64.0.${sharedIp()}`,
      ...(type === "register" || random() < 0.1
        ? { phone: `+1201555${String(u % 10_000).padStart(4, "0")}` }
        : {}),
      // Fields only the example kinds read, derived without drawing random numbers, so the
      // stream the default set sees is the same with and without them.
      email: i % 3 === 0 ? `user.${u}+shop@gmail.com` : `user${u}@gmail.com`,
      attributes: (type === "login"
        ? { method: i % 4 === 0 ? "otp" : "password" }
        : type === "register"
          ? { referrerId: `user-${(u * 7) % USERS}` }
          : {}) as Record<string, string>,
    };
    const amount = {
      amount: `${1 + Math.floor(random() * 300)}.${String(Math.floor(random() * 100)).padStart(2, "0")}`,
      currency: random() < 0.8 ? "USD" : "EUR",
    };
    switch (type) {
      case "order":
        events.push({ ...base, type, ...amount });
        break;
      case "payment":
        events.push({
          ...base,
          type,
          ...amount,
          cardFingerprint: fraud ? `stolen-${fraudCard()}` : `card-${u}`,
          cardBin: `4${String(u % 97).padStart(5, "0")}`,
        });
        break;
      case "coupon_claim":
        events.push({
          ...base,
          type,
          campaignId: `campaign-${Math.floor(random() * 5)}`,
          couponId: `coupon-${i}`,
        });
        break;
      default:
        events.push({ ...base, type } as CleanEvent);
    }
  }
  return events;
}

/** Records per shard (partition key userId), with ascending sequence numbers. */
function shardRecords(events: readonly CleanEvent[]): FeatureRecord[][] {
  const shards: FeatureRecord[][] = SHARDS.map(() => []);
  let sequence = 49590338271490256608559692538361571095921575989136588898n;
  for (const event of events) {
    let h = 0;
    for (const ch of event.userId) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
    const s = Math.abs(h) % SHARDS.length;
    sequence += 1n;
    shards[s]?.push({
      event,
      stream: STREAM_ARN,
      shardId: SHARDS[s] as string,
      sequenceNumber: String(sequence),
    });
  }
  return shards;
}

interface RunStats {
  events: number;
  seconds: number;
  readRequests: number;
  writeRequests: number;
  readUnits: number;
  writeUnits: number;
  estimatedWriteUnits?: number;
  itemsRead?: number;
  linkRounds?: number;
  linkKeys?: number;
  entityBatches?: number;
  conflicts?: number;
  /** Distinct entities per batch, summed, by entity type. */
  byType?: Map<string, number>;
}

async function runStore(
  client: DynamoDBClient,
  table: string,
  set: CompiledFeatureSet,
  shards: FeatureRecord[][],
): Promise<RunStats> {
  const store = new DynamoDbStateStore({ client, tableName: table, features: set });
  let entityBatches = 0;
  const byType = new Map<string, number>();
  const started = performance.now();
  await Promise.all(
    shards.map(async (records) => {
      for (let i = 0; i < records.length; i += BATCH) {
        const batch = records.slice(i, i + BATCH);
        for (const work of planBatch(set, batch, new Map()).entities) {
          const type = work.group.entity.name;
          byType.set(type, (byType.get(type) ?? 0) + 1);
        }
        const pass = await store.prepare(batch, new Map());
        entityBatches += pass.entities;
        const result = await pass.commit();
        if (result.failed.length > 0) throw new Error(`commit failed: ${JSON.stringify(result.errors)}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const s = store.stats;
  return {
    events: shards.flat().length,
    seconds,
    readRequests: s.readRequests,
    writeRequests: s.writeRequests,
    readUnits: s.readCapacityUnits,
    writeUnits: s.writeCapacityUnits,
    estimatedWriteUnits: s.estimatedWriteUnits,
    itemsRead: s.itemsRead,
    linkRounds: store.linkReads.rounds,
    linkKeys: store.linkReads.keys,
    entityBatches,
    conflicts: s.conflicts,
    byType,
  };
}

/** Sizes of the store's items after the run (bytes as DynamoDB bills them), by entity type. */
interface ItemSizes {
  readonly items: number;
  readonly meanBytes: number;
  readonly p95Bytes: number;
  readonly maxBytes: number;
  /** Mean bytes of the high-water marks (`"w":{...}`) per item. */
  readonly meanMarkBytes: number;
  /** Items over 1 KB, which cost more than one write unit per write. */
  readonly overOneKb: number;
  readonly byType: ReadonlyMap<string, { items: number; meanBytes: number; maxBytes: number }>;
}

async function measureItems(client: DynamoDBClient, table: string): Promise<ItemSizes> {
  const sizes: number[] = [];
  let markBytes = 0;
  const byType = new Map<string, { items: number; total: number; maxBytes: number }>();
  for await (const page of paginateScan({ client }, { TableName: table })) {
    for (const item of page.Items ?? []) {
      const pk = item.pk?.S;
      if (pk === undefined || pk.startsWith("naive|")) continue;
      const stored = fromItem(pk, item);
      const size = itemSizeBytes(pk, stored);
      sizes.push(size);
      markBytes += /"w":\{[^}]*\}/.exec(stored.state)?.[0].length ?? 0;
      const type = pk.slice(0, pk.indexOf("#"));
      const t = byType.get(type) ?? { items: 0, total: 0, maxBytes: 0 };
      t.items++;
      t.total += size;
      t.maxBytes = Math.max(t.maxBytes, size);
      byType.set(type, t);
    }
  }
  sizes.sort((a, b) => a - b);
  const n = sizes.length;
  return {
    items: n,
    meanBytes: sizes.reduce((a, b) => a + b, 0) / n,
    p95Bytes: sizes[Math.min(n - 1, Math.floor(n * 0.95))] ?? 0,
    maxBytes: sizes[n - 1] ?? 0,
    meanMarkBytes: markBytes / n,
    overOneKb: sizes.filter((size) => size > 1024).length,
    byType: new Map(
      [...byType].map(([type, t]) => [
        type,
        { items: t.items, meanBytes: t.total / t.items, maxBytes: t.maxBytes },
      ]),
    ),
  };
}

/**
 * The naive baseline: per event and feature, one request. Items are per feature and entity, one
 * attribute per bucket; counts and sums ADD to it, distinct counts ADD to a string set, first/last
 * seen SET it; the window is summed from the item returned. No exactly-once, no pruning.
 */
async function runNaive(
  client: DynamoDBClient,
  table: string,
  set: CompiledFeatureSet,
  shards: FeatureRecord[][],
): Promise<RunStats> {
  const stats = { readRequests: 0, writeRequests: 0, readUnits: 0, writeUnits: 0 };
  const started = performance.now();
  const featureOf = (f: CompiledFeature, event: CleanEvent) => {
    const group = set.groups.find((g) => g.entity.name === f.entity.name);
    const values = group ? eventKeyValues(group, event) : undefined;
    return values && { pk: `naive|${f.id}|${entityPk(f.entity, values)}` };
  };
  const one = async (f: CompiledFeature, event: CleanEvent) => {
    const target = featureOf(f, event);
    if (!target) return;
    const t = Date.parse(event.occurredAt);
    const b = bucketIndex(t, f.bucketMs);
    const key = { pk: { S: target.pk } };
    const ttl = { ":e": { N: String(Math.ceil(t / 1000) + (2 * f.windowMs) / 1000) } };
    let update: { expression: string; values: Record<string, AttributeValue>; name: string } | undefined;
    if (f.accepts(event)) {
      const name = `b${b}`;
      const time = { ":v": { N: String(t) } };
      switch (f.aggregation) {
        case "count":
          update = { expression: "ADD #b :v SET expiresAt = :e", values: { ":v": { N: "1" } }, name };
          break;
        case "sum": {
          const addend = f.addend?.(event);
          if (addend) {
            const values = { ":v": { N: String(addend.value) } };
            update = { expression: "ADD #b :v SET expiresAt = :e", values, name: `${name}_${addend.series}` };
          }
          break;
        }
        case "distinct": {
          const value = f.element?.(event);
          if (value)
            update = { expression: "ADD #b :v SET expiresAt = :e", values: { ":v": { SS: [value] } }, name };
          break;
        }
        case "firstSeen":
          update = { expression: "SET #b = if_not_exists(#b, :v), expiresAt = :e", values: time, name };
          break;
        case "lastSeen":
          update = { expression: "SET #b = :v, expiresAt = :e", values: time, name };
          break;
      }
    }
    let item: Record<string, AttributeValue> | undefined;
    if (update) {
      stats.writeRequests++;
      const r = await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key,
          UpdateExpression: update.expression,
          ExpressionAttributeNames: { "#b": update.name },
          ExpressionAttributeValues: { ...update.values, ...ttl },
          ReturnValues: "ALL_NEW",
          ReturnConsumedCapacity: "TOTAL",
        }),
      );
      stats.writeUnits += r.ConsumedCapacity?.CapacityUnits ?? 0;
      item = r.Attributes;
    } else {
      stats.readRequests++;
      const r = await client.send(
        new GetItemCommand({
          TableName: table,
          Key: key,
          ConsistentRead: true,
          ReturnConsumedCapacity: "TOTAL",
        }),
      );
      stats.readUnits += r.ConsumedCapacity?.CapacityUnits ?? 0;
      item = r.Item;
    }
    // Read the window back, as a naive implementation must to give the event its value.
    const { first, last } = windowRange(t, f);
    let value = 0;
    for (const [name, attr] of Object.entries(item ?? {})) {
      const m = /^b(\d+)/.exec(name);
      if (!m || Number(m[1]) < first || Number(m[1]) > last) continue;
      value += attr.SS ? attr.SS.length : Number(attr.N ?? 0);
    }
    return value;
  };
  await Promise.all(
    shards.map(async (records) => {
      for (let i = 0; i < records.length; i += BATCH) {
        // The same parallelism the store gets: a batch's requests in flight together, 32 at a time.
        const tasks = records
          .slice(i, i + BATCH)
          .flatMap((r) => set.features.map((f) => () => one(f, r.event)));
        for (let k = 0; k < tasks.length; k += 32)
          await Promise.all(tasks.slice(k, k + 32).map((task) => task()));
      }
    }),
  );
  return { events: shards.flat().length, seconds: (performance.now() - started) / 1000, ...stats };
}

function report(
  store: RunStats,
  naive: RunStats | undefined,
  batches: number,
  sizes: ItemSizes,
  set: CompiledFeatureSet,
): void {
  const per = (n: number, s: RunStats) => n / s.events;
  // Costs: lower is better, the factor is naive ÷ store. Throughput: the factor is store ÷ naive.
  const rows: [string, (s: RunStats) => number, number, "cost" | "speed"][] = [
    ["DynamoDB requests / event", (s) => per(s.readRequests + s.writeRequests, s), 3, "cost"],
    ["  write requests / event", (s) => per(s.writeRequests, s), 3, "cost"],
    ["  read requests / event", (s) => per(s.readRequests, s), 3, "cost"],
    ["write capacity units / event", (s) => per(s.writeUnits, s), 3, "cost"],
    ["read capacity units / event", (s) => per(s.readUnits, s), 3, "cost"],
    ["events / s (DynamoDB Local)", (s) => s.events / s.seconds, 0, "speed"],
  ];
  const pad = (text: string, n: number) => text.padEnd(n);
  console.log(
    `\n${EVENTS} events, ${batches} batches of up to ${BATCH} records on ${SHARDS.length} shards, ` +
      `${set.features.length} features${EXAMPLES ? " (default set + EXAMPLE_FEATURES)" : ""}, ${USERS} users, ${HOURS} h of event time\n`,
  );
  console.log(`${pad("", 32)}${pad("store", 10)}${naive ? `${pad("naive", 10)}store is better by` : ""}`);
  for (const [label, f, digits, kind] of rows) {
    const a = f(store);
    if (!naive) {
      console.log(`${pad(label, 32)}${a.toFixed(digits)}`);
      continue;
    }
    const b = f(naive);
    const factor = kind === "cost" ? b / a : a / b;
    console.log(
      `${pad(label, 32)}${pad(a.toFixed(digits), 10)}${pad(b.toFixed(digits), 10)}${factor.toFixed(1)}x`,
    );
  }
  console.log(`${pad("items read / event", 32)}${per(store.itemsRead ?? 0, store).toFixed(3)}`);
  if (set.linked.length > 0) {
    console.log(
      `link counts (${set.linked.length}): ${store.linkRounds} extra BatchGetItem rounds ` +
        `(${((store.linkRounds ?? 0) / batches).toFixed(2)} per batch), ${store.linkKeys} item keys asked ` +
        `(${per(store.linkKeys ?? 0, store).toFixed(3)} per event), no writes`,
    );
  }
  const entityBatches = store.entityBatches ?? 0;
  console.log(
    `\nstore: ${store.writeRequests} writes for ${entityBatches} distinct entities summed over batches ` +
      `(${(store.writeRequests / entityBatches).toFixed(3)} per entity per batch; ` +
      `${store.conflicts} of them retries after conditional conflicts between the two shards).\n` +
      "Capacity units are DynamoDB Local's ReturnConsumedCapacity; write units computed from item " +
      `sizes by AWS's rule (1 per KB, rounded up, larger of before and after): ` +
      `${per(store.estimatedWriteUnits ?? 0, store).toFixed(3)} / event.`,
  );
  const types = [...(store.byType ?? new Map<string, number>())].map(
    ([t, n]) => `${t} ${per(n, store).toFixed(2)}`,
  );
  console.log(`distinct entities per batch, per event, by entity type: ${types.join(", ")}`);
  console.log(
    `\nstore items after the run: ${sizes.items}, mean ${sizes.meanBytes.toFixed(0)} B, ` +
      `p95 ${sizes.p95Bytes} B, max ${sizes.maxBytes} B, ${sizes.overOneKb} over 1 KB; ` +
      `high-water marks ${sizes.meanMarkBytes.toFixed(0)} B per item on average`,
  );
  const typeSizes = [...sizes.byType]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([t, s]) => `${t} ${s.meanBytes.toFixed(0)}/${s.maxBytes}`);
  console.log(`mean/max bytes by entity type: ${typeSizes.join(", ")}`);
}

const stateDir = mkdtempSync(join(tmpdir(), "vigil-bench-features-"));
console.log("starting DynamoDB Local ...");
const stack = await startLocalStack({ stateDir });
try {
  const client = createDynamoDbClient(stack.env);
  const set = EXAMPLES
    ? withCurrencyConverter(
        compileFeatureSet({ features: [...DEFAULT_FEATURE_SET.features, ...EXAMPLE_FEATURES] }),
        compileRates({ base: "EUR", asOf: "2026-12-01", rates: { USD: "0.9234" } }).converter,
      )
    : compileFeatureSet(DEFAULT_FEATURE_SET);
  const shards = shardRecords(makeStream());
  const batches = shards.reduce((n, s) => n + Math.ceil(s.length / BATCH), 0);
  console.log(`store: ${EVENTS} events ...`);
  const store = await runStore(client, stack.names.tables.state, set, shards);
  const sizes = await measureItems(client, stack.names.tables.state);
  let naive: RunStats | undefined;
  if (!EXAMPLES) {
    console.log(`naive: ${EVENTS} events ...`);
    naive = await runNaive(client, stack.names.tables.state, set, shards);
  }
  report(store, naive, batches, sizes, set);
  if (store.writeRequests > (store.entityBatches ?? 0) + (store.conflicts ?? 0)) {
    throw new Error("more than one write per distinct entity per batch (beyond conflict retries)");
  }
} finally {
  await stack.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
