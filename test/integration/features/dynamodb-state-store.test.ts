import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { fromItem } from "#shared/adapters/dynamodb-state-codec";
import { DynamoDbStateStore } from "#shared/adapters/dynamodb-state-store";
import {
  compileFeatureSet,
  DEFAULT_FEATURE_SET,
  DEFAULT_LATENESS_ALLOWANCE,
  type FeatureRecord,
  markKey,
} from "#shared/domain/features/index";
import { TTL_ATTRIBUTE } from "#shared/resources";
import {
  buildRecords,
  cleanEvent,
  deliver,
  referenceVectors,
  SHARDS,
  STREAM,
  scenario,
  T0,
  TEST_ALLOWANCE,
  TEST_SET,
  touchedEntities,
  type WriteFaults,
} from "../../unit/features/feature-streams";
import {
  B,
  COMMIT_ORDERS,
  canonicalItem,
  DOCUMENTED,
  runOrder,
  twoShardRecords,
} from "../../unit/features/late-scenarios";

/**
 * The DynamoDB state store on DynamoDB Local: random streams delivered with redeliveries,
 * bisected retries, crashes at every step and re-sent events give exactly the reference's
 * values for every feature of every event, and end in the reference's state.
 */

const set = TEST_SET;

/** Fails selected UpdateItem requests before they are sent, the way a lost connection would. */
function injectWriteFaults(client: ReturnType<typeof createDynamoDbClient>): WriteFaults {
  let armed = false;
  let mask = 0;
  let writes = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      if (
        armed &&
        args.input !== null &&
        typeof args.input === "object" &&
        "UpdateExpression" in args.input
      ) {
        if ((mask >> Math.min(writes++, 15)) & 1) throw new Error("injected write failure");
      }
      return next(args);
    },
    { step: "initialize", name: "injectWriteFaults" },
  );
  return {
    arm(m) {
      armed = true;
      mask = m;
      writes = 0;
    },
    disarm() {
      armed = false;
    },
  };
}

describe("DynamoDbStateStore on DynamoDB Local", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ stateDir: mkdtempSync(join(tmpdir(), "vigil-features-")) });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("gives every event the reference's values under redelivery, bisects, crashes and re-sends", async () => {
    const client = createDynamoDbClient(stack.env);
    const faults = injectWriteFaults(client);
    const endOfStream = T0 + 3_600_000;
    const store = new DynamoDbStateStore({
      client,
      tableName: stack.names.tables.state,
      features: set,
      clock: () => endOfStream,
      ...TEST_ALLOWANCE,
    });
    let run = 0;
    let decided = 0;
    let late = 0;
    await fc.assert(
      fc.asyncProperty(scenario(5, 30), async (s) => {
        const shards = buildRecords(s, `i${run++}`);
        const result = await deliver(store, faults, shards, s.attempts);
        const { vectors, reference } = referenceVectors(set, result.order);
        expect(result.decisions.size).toBe(vectors.size);
        decided += vectors.size;
        for (const [eventId, expected] of vectors) {
          expect({ eventId, ...result.decisions.get(eventId)?.vector }).toEqual({ eventId, ...expected });
          if (expected.late.length > 0) late++;
        }
        const times = result.order.map((e) => Date.parse(e.occurredAt)).sort((a, b) => a - b);
        const lastEvent = times[times.length - 1] as number;
        for (const at of [times[0] as number, lastEvent, endOfStream]) {
          const reader = new DynamoDbStateStore({
            client,
            tableName: stack.names.tables.state,
            features: set,
            clock: () => at,
            ...TEST_ALLOWANCE,
          });
          for (const entity of touchedEntities(set, result.order)) {
            const actual = await reader.read(entity.type, entity.values);
            expect({ entity, features: actual.features }).toEqual({
              entity,
              features: reference.read(entity.type, entity.values, at),
            });
          }
        }
      }),
      { numRuns: 25, seed: Number(process.env.VIGIL_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
    expect(decided).toBeGreaterThan(50);
    expect(late).toBeGreaterThan(5);
    expect(store.stats.conflicts).toBe(0);
  });

  it("writes each entity at most once per batch and nothing when a batch is delivered again", async () => {
    const client = createDynamoDbClient(stack.env);
    const store = new DynamoDbStateStore({
      client,
      tableName: stack.names.tables.state,
      features: compileFeatureSet(DEFAULT_FEATURE_SET),
      clock: () => T0 + 60_000,
    });
    const records: FeatureRecord[] = Array.from({ length: 20 }, (_, i) => ({
      event: cleanEvent({
        eventId: `once-${i}`,
        at: T0 + i * 1_000,
        type: i % 2 === 0 ? "payment" : "login",
        userId: `once-u${i % 3}`,
        deviceId: `once-d${i % 2}`,
        ip: "192.0.2.7",
        ...(i % 2 === 0 ? { amount: "10.00", currency: "EUR", cardFingerprint: "once-card" } : {}),
      }),
      stream: STREAM,
      shardId: SHARDS[0],
      sequenceNumber: String(1_000 + i),
    }));
    const pass = await store.prepare(records, new Map());
    // users 3, devices 2, ip 1, card 1, user+device pairs: (i%3, i%2) gives 6; and since the
    // issue-16 pack, user+network pairs: 3 users on one /24.
    expect(pass.entities).toBe(16);
    const before = { ...store.stats };
    const result = await pass.commit();
    expect(result).toEqual({ failed: [], written: 16, errors: [] });
    expect(store.stats.writeRequests - before.writeRequests).toBe(16);
    expect(store.stats.readRequests).toBe(1);
    expect(pass.vectors.get("once-18")?.values).toMatchObject({
      payments_per_card_10m: 10,
      card_spend_24h: 10_000,
      accounts_per_ip_1h: 3,
      accounts_per_device_1h: 3,
      devices_per_user_1h: 2,
      logins_per_user_10m: 3,
    });

    // The whole batch again (a retry after a lost checkpoint): read, nothing written.
    const again = await store.prepare(
      records,
      new Map(
        records.map((r) => [r.event.eventId, { shardId: r.shardId, sequenceNumber: r.sequenceNumber }]),
      ),
    );
    expect(again.vectors.size).toBe(0);
    expect(await again.commit()).toEqual({ failed: [], written: 0, errors: [] });
    const card = await store.read("cardFingerprint", ["once-card"]);
    expect(card.features.find((f) => f.id === "card_spend_24h")?.value).toEqual({ EUR: 10_000 });
    expect(card.highWater).toEqual({ [markKey(STREAM, SHARDS[0])]: "1018" });
    expect(card.revision).toBe(1);
  });

  it("sets the TTL from the longest window and the lateness bound, and reads an item TTL has not removed yet", async () => {
    const client = createDynamoDbClient(stack.env);
    const now = T0 + 10 * 60_000;
    const store = new DynamoDbStateStore({
      client,
      tableName: stack.names.tables.state,
      features: compileFeatureSet(DEFAULT_FEATURE_SET),
      clock: () => now,
      maxEventLatenessMs: 7 * 86_400_000,
      processingLagMs: 3_600_000,
      expiryMarginMs: 86_400_000,
      highWaterRetentionMs: 8 * 86_400_000,
    });
    const event = cleanEvent({ eventId: "ttl-1", at: T0 + 5 * 60_000, userId: "ttl-u", deviceId: "ttl-d" });
    const pass = await store.prepare(
      [{ event, stream: STREAM, shardId: SHARDS[1], sequenceNumber: "7" }],
      new Map(),
    );
    await pass.commit();
    const raw = await client.send(
      new GetItemCommand({ TableName: stack.names.tables.state, Key: { pk: { S: "userId#ttl-u" } } }),
    );
    // user_last_seen_30d: 12 h buckets; its data is out of every window from (bucket(t) + 60) · 12 h,
    // plus 7 days of accepted lateness, plus 1 hour of processing lag, plus 1 day of margin.
    const twelveHours = 43_200_000;
    const dataEnd = (Math.floor((T0 + 5 * 60_000) / twelveHours) + 60) * twelveHours;
    expect(raw.Item?.[TTL_ATTRIBUTE]?.N).toBe(
      String(Math.ceil((dataEnd + 8 * 86_400_000 + 3_600_000) / 1000)),
    );

    // 31 days later the item is still there (TTL is lazy): reads must not see its old data.
    const later = new DynamoDbStateStore({
      client,
      tableName: stack.names.tables.state,
      features: compileFeatureSet(DEFAULT_FEATURE_SET),
      clock: () => T0 + 31 * 86_400_000,
    });
    const reading = await later.read("userId", ["ttl-u"]);
    expect(reading.exists).toBe(true);
    expect(reading.features.find((f) => f.id === "user_last_seen_30d")?.value).toBeNull();
    expect(reading.features.find((f) => f.id === "devices_per_user_24h")?.value).toBe(0);
  });

  it("retries a write that lost a race with another writer and keeps both contributions", async () => {
    const client = createDynamoDbClient(stack.env);
    const features = compileFeatureSet(DEFAULT_FEATURE_SET);
    const store = () =>
      new DynamoDbStateStore({
        client,
        tableName: stack.names.tables.state,
        features,
        clock: () => T0 + 60_000,
      });
    const first = store();
    const second = store();
    const record = (i: number, shard: number): FeatureRecord => ({
      event: cleanEvent({ eventId: `race-${i}`, at: T0 + i, userId: `race-u${i}`, deviceId: "race-device" }),
      stream: STREAM,
      shardId: SHARDS[shard] as string,
      sequenceNumber: String(500 + i),
    });
    // Both read the device before either writes: the second write must fail its condition, fold
    // again onto what the first wrote, and succeed.
    const a = await first.prepare([record(1, 0)], new Map());
    const b = await second.prepare([record(2, 1)], new Map());
    await a.commit();
    expect(await b.commit()).toMatchObject({ failed: [], errors: [] });
    expect(second.stats.conflicts).toBeGreaterThan(0);
    const device = await first.read("deviceId", ["race-device"]);
    const accounts = device.features.find((f) => f.id === "accounts_per_device_1h");
    expect(accounts?.distinctValues).toEqual(["race-u1", "race-u2"]);
    expect(device.highWater).toEqual({
      [markKey(STREAM, SHARDS[0])]: "501",
      [markKey(STREAM, SHARDS[1])]: "502",
    });
  });

  it("ends in the reference's state when two shards write shared entities concurrently", async () => {
    const client = createDynamoDbClient(stack.env);
    const features = compileFeatureSet(DEFAULT_FEATURE_SET);
    const store = new DynamoDbStateStore({ client, tableName: stack.names.tables.state, features });
    // Few devices, IPs and cards shared by many users on both shards: most batches of one shard
    // touch items the other is writing at the same moment.
    const events = Array.from({ length: 400 }, (_, i) =>
      cleanEvent({
        eventId: `conc-${i}`,
        at: T0 + i * 500,
        type: i % 3 === 0 ? "payment" : "login",
        userId: `conc-u${i % 40}`,
        deviceId: `conc-d${i % 3}`,
        ip: `198.51.100.${i % 2}`,
        ...(i % 3 === 0 ? { amount: "1.25", currency: "USD", cardFingerprint: `conc-c${i % 2}` } : {}),
      }),
    );
    const shards = SHARDS.map((shardId, s) =>
      events
        .filter((e) => Number(e.userId.slice("conc-u".length)) % 2 === s)
        .map(
          (event, i): FeatureRecord => ({
            event,
            stream: STREAM,
            shardId,
            sequenceNumber: String(1_000 + i),
          }),
        ),
    );
    await Promise.all(
      shards.map(async (records) => {
        for (let i = 0; i < records.length; i += 10) {
          // A write that keeps losing races (10 attempts) fails the batch from its first record,
          // as the event source mapping would be told; redeliver from there, as it would.
          let batch = records.slice(i, i + 10);
          for (let delivery = 1; ; delivery++) {
            const { failed } = await (await store.prepare(batch, new Map())).commit();
            if (failed.length === 0) break;
            expect(delivery).toBeLessThan(5);
            const from = batch.findIndex((r) => r.sequenceNumber === failed[0]?.sequenceNumber);
            expect(from).toBeGreaterThanOrEqual(0);
            batch = batch.slice(from);
          }
        }
      }),
    );
    expect(store.stats.conflicts).toBeGreaterThan(0);
    // No cap is reached and nothing is late, so the final state does not depend on the order
    // in which the shards' writes interleaved.
    const { reference } = referenceVectors(features, events, DEFAULT_LATENESS_ALLOWANCE);
    const at = T0 + 400 * 500;
    const reader = new DynamoDbStateStore({
      client,
      tableName: stack.names.tables.state,
      features,
      clock: () => at,
    });
    for (const entity of touchedEntities(features, events)) {
      const actual = await reader.read(entity.type, entity.values);
      expect({ entity, features: actual.features }).toEqual({
        entity,
        features: reference.read(entity.type, entity.values, at),
      });
    }
  });

  it("ends in the same items in every commit order of two shards sending late events on a shared device, IP and card", async () => {
    const client = createDynamoDbClient(stack.env);
    const features = compileFeatureSet(DEFAULT_FEATURE_SET);
    const finals = [];
    for (const [name, order] of Object.entries(COMMIT_ORDERS)) {
      // A prefix per order: each order writes its own entities.
      const index = Object.keys(COMMIT_ORDERS).indexOf(name);
      const prefix = `late-${index}`;
      const ip = `203.0.113.${10 + index}`;
      const store = new DynamoDbStateStore({
        client,
        tableName: stack.names.tables.state,
        features,
        clock: () => B,
      });
      const records = twoShardRecords(prefix, ip);
      const vectors = await runOrder(store, records, order);
      for (const [event, reading] of Object.entries(DOCUMENTED[name] ?? {})) {
        expect({ name, event, late: vectors.get(event)?.late }).toEqual({ name, event, late: reading.late });
        expect({ name, event, values: vectors.get(event)?.values }).toMatchObject({
          name,
          event,
          values: reading.values,
        });
      }
      const events = [...records.shard0, ...records.shard1].map((r) => r.record.event);
      const items = new Map<string, unknown>();
      for (const entity of touchedEntities(features, events)) {
        const pk = (await store.read(entity.type, entity.values)).pk;
        const raw = await client.send(
          new GetItemCommand({
            TableName: stack.names.tables.state,
            Key: { pk: { S: pk } },
            ConsistentRead: true,
          }),
        );
        if (!raw.Item) throw new Error(`no item for ${pk}`);
        items.set(pk, canonicalItem(fromItem(pk, raw.Item)));
      }
      // Keys and values that name an entity carry the order's prefix and IP: normalize them.
      finals.push(
        JSON.parse(
          JSON.stringify([...items])
            .replaceAll(prefix, "late")
            .replaceAll(ip, "ip"),
        ),
      );
    }
    expect(finals[0].length).toBeGreaterThan(5);
    expect(finals[1]).toEqual(finals[0]);
    expect(finals[2]).toEqual(finals[0]);
  });

  it("refuses to read an item whose state was written by something else", async () => {
    const client = createDynamoDbClient(stack.env);
    await client.send(
      new UpdateItemCommand({
        TableName: stack.names.tables.state,
        Key: { pk: { S: "deviceId#corrupt" } },
        UpdateExpression: "SET s = :s, rev = :r",
        ExpressionAttributeValues: { ":s": { S: "{not json" }, ":r": { N: "1" } },
      }),
    );
    const store = new DynamoDbStateStore({
      client,
      tableName: stack.names.tables.state,
      features: compileFeatureSet(DEFAULT_FEATURE_SET),
    });
    await expect(store.read("deviceId", ["corrupt"])).rejects.toThrow(
      "state item deviceId#corrupt is unreadable",
    );
    const event = cleanEvent({ eventId: "corrupt-1", at: T0, deviceId: "corrupt" });
    await expect(
      store.prepare([{ event, stream: STREAM, shardId: SHARDS[0], sequenceNumber: "1" }], new Map()),
    ).rejects.toThrow("unreadable");
  });
});
