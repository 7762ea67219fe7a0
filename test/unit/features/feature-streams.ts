import fc from "fast-check";
import { featureConditions } from "#shared/domain/decision/index";
import type { CleanEvent, EventType } from "#shared/domain/event/index";
import {
  type CompiledFeatureSet,
  compileFeatureSet,
  type FeatureRecord,
  type FeatureSetDefinition,
  type FeatureVector,
  type LatenessAllowance,
  type RecordSource,
  ReferenceFeatures,
} from "#shared/domain/features/index";
import type { FeatureStateStore } from "#shared/ports/state-store";

/**
 * Random event streams and a Kinesis-like delivery harness for property tests of the feature
 * store: the same harness drives the in-memory engine (unit) and DynamoDB Local (integration).
 */

/**
 * The start of every generated stream: 1 January of next year (UTC). In the future on purpose:
 * DynamoDB Local runs TTL deletion on its own wall clock, and items of a stream in the past
 * would expire (and vanish) while a test reads them.
 */
export const T0 = Date.UTC(new Date().getUTCFullYear() + 1, 0, 1);

/** Builds a clean event; only what a test names differs from a plain login. */
export function cleanEvent(
  fields: Partial<Record<string, unknown>> & { eventId: string; at: number },
): CleanEvent {
  const { at, ...rest } = fields;
  return {
    schemaVersion: 1,
    type: "login",
    userId: "u1",
    ip: "10.0.0.1",
    deviceId: "d1",
    ...rest,
    occurredAt: new Date(at).toISOString(),
  } as CleanEvent;
}

/**
 * Small windows, small caps and short lateness on a ten-minute stream, so that window edges,
 * caps, too-late events and every aggregation occur in almost every generated stream.
 */
export const TEST_FEATURE_SET: FeatureSetDefinition = {
  features: [
    {
      id: "u_devices_2m",
      entity: ["userId"],
      aggregation: { type: "distinct", field: "deviceId", maxDistinct: 2 },
      window: "2m",
    },
    {
      id: "u_ips_5m",
      entity: ["userId"],
      aggregation: { type: "distinct", field: "ip" },
      window: "5m",
      lateness: "30s",
    },
    { id: "u_last_2m", entity: ["userId"], aggregation: { type: "lastSeen" }, window: "2m" },
    {
      id: "u_qty_2m",
      entity: ["userId"],
      aggregation: { type: "sum", field: "attributes.qty" },
      window: "2m",
    },
    {
      id: "d_accounts_1m",
      entity: ["deviceId"],
      aggregation: { type: "distinct", field: "userId", maxDistinct: 3 },
      window: "1m",
    },
    {
      id: "d_logins_2m",
      entity: ["deviceId"],
      aggregation: { type: "count" },
      window: "2m",
      filter: { eventTypes: ["login"] },
    },
    {
      id: "d_first_5m",
      entity: ["deviceId"],
      aggregation: { type: "firstSeen" },
      window: "5m",
      lateness: "1m",
    },
    {
      id: "ip_count_1m",
      entity: ["ip"],
      aggregation: { type: "count" },
      window: "1m",
      bucket: "10s",
      lateness: "20s",
    },
    {
      id: "card_spend_5m",
      entity: ["cardFingerprint"],
      aggregation: { type: "sum", field: "amount" },
      window: "5m",
      filter: { eventTypes: ["payment"] },
    },
    {
      id: "card_users_2m",
      entity: ["cardFingerprint"],
      aggregation: { type: "distinct", field: "userId", maxDistinct: 2 },
      window: "2m",
      lateness: "0s",
    },
    {
      id: "phone_users_2m",
      entity: ["phone"],
      aggregation: { type: "distinct", field: "userId", maxDistinct: 1 },
      window: "2m",
    },
    { id: "ud_first_5m", entity: ["userId", "deviceId"], aggregation: { type: "firstSeen" }, window: "5m" },
    {
      id: "dc_claims_5m",
      entity: ["deviceId", "campaignId"],
      aggregation: { type: "count" },
      window: "5m",
      filter: { eventTypes: ["coupon_claim"] },
    },
    // CEL filter conditions: on an attribute, and on the amount with a type and event-type filter.
    {
      id: "u_big_qty_2m",
      entity: ["userId"],
      aggregation: { type: "count" },
      window: "2m",
      filter: { condition: { cel: "has(event.attributes.qty) && event.attributes.qty >= 5" } },
    },
    {
      id: "ip_even_spend_1m",
      entity: ["ip"],
      aggregation: { type: "sum", field: "amount" },
      window: "1m",
      filter: { eventTypes: ["order", "payment"], condition: { cel: "int(event.amountMinor) % 2 == 0" } },
    },
  ],
};

/**
 * The store options of the property tests: 20 s of processing lag and 5 s of future skew, so that
 * with the test set's lateness (0 s to 5 min) events are late from 25 s to 5 min 25 s behind a
 * feature's horizon, and the generated streams hold late events of every feature.
 */
export const TEST_ALLOWANCE: LatenessAllowance = { processingLagMs: 20_000, maxFutureSkewMs: 5_000 };

/** TEST_FEATURE_SET compiled as the score function compiles sets (CEL conditions included). */
export const TEST_SET: CompiledFeatureSet = compileFeatureSet(TEST_FEATURE_SET, {
  conditions: featureConditions,
});

/** One generated event before it gets ids and a time. */
interface EventSpec {
  readonly type: EventType;
  readonly user: number;
  readonly device: number;
  readonly ip: number;
  readonly card: number;
  readonly campaign: number;
  readonly phone: number;
  readonly currency: "USD" | "JPY";
  readonly minor: number;
  readonly qty: number | undefined;
  /** Milliseconds after the previous event's nominal time (may be negative: out of order). */
  readonly stepMs: number;
}

const eventSpec: fc.Arbitrary<EventSpec> = fc.record({
  type: fc.constantFrom<EventType>(
    "register",
    "login",
    "login",
    "order",
    "payment",
    "payment",
    "coupon_claim",
  ),
  user: fc.integer({ min: 0, max: 3 }),
  device: fc.integer({ min: 0, max: 3 }),
  ip: fc.integer({ min: 0, max: 2 }),
  card: fc.integer({ min: 0, max: 2 }),
  campaign: fc.integer({ min: 0, max: 1 }),
  phone: fc.integer({ min: 0, max: 2 }),
  currency: fc.constantFrom("USD", "JPY"),
  minor: fc.integer({ min: 1, max: 50_000 }),
  qty: fc.option(fc.integer({ min: -3, max: 9 }), { nil: undefined }),
  stepMs: fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 0, max: 20_000 }) },
    { weight: 4, arbitrary: fc.integer({ min: -40_000, max: 0 }) },
    { weight: 2, arbitrary: fc.integer({ min: -200_000, max: -40_000 }) },
    // Beyond the reach of every feature of the test set (5 min 25 s at most).
    { weight: 1, arbitrary: fc.integer({ min: -900_000, max: -300_000 }) },
  ),
});

/** What happens to one delivery attempt. */
export type AttemptOutcome =
  | { readonly kind: "ok" }
  /** Dies after storing the first `decisions` decisions: no commit, no checkpoint. */
  | { readonly kind: "crashWhileDeciding"; readonly decisions: number }
  /** Dies after committing, before the checkpoint. */
  | { readonly kind: "crashAfterCommit" }
  /** Storing the decision of the record at `index` fails; commit reports it for retry. */
  | { readonly kind: "decisionFails"; readonly index: number }
  /** Some entity writes fail (`mask` bit i: the i-th write); then either follow the partial
   * batch response or die before the checkpoint. */
  | { readonly kind: "writesFail"; readonly mask: number; readonly followResponse: boolean };

/** One delivery attempt: which shard (when free to choose), how many records, what happens. */
export interface Attempt {
  readonly shard: number;
  readonly size: number;
  readonly outcome: AttemptOutcome;
}

const attempt: fc.Arbitrary<Attempt> = fc.record({
  shard: fc.nat(),
  size: fc.integer({ min: 1, max: 9 }),
  outcome: fc.oneof(
    { weight: 5, arbitrary: fc.constant({ kind: "ok" as const }) },
    {
      weight: 1,
      arbitrary: fc.nat({ max: 9 }).map((decisions) => ({ kind: "crashWhileDeciding" as const, decisions })),
    },
    { weight: 1, arbitrary: fc.constant({ kind: "crashAfterCommit" as const }) },
    { weight: 1, arbitrary: fc.nat({ max: 9 }).map((index) => ({ kind: "decisionFails" as const, index })) },
    {
      weight: 1,
      arbitrary: fc
        .record({ mask: fc.integer({ min: 1, max: 0xffff }), followResponse: fc.boolean() })
        .map((r) => ({ kind: "writesFail" as const, ...r })),
    },
  ),
});

/** A generated scenario: events, re-sent copies, and the delivery attempts. */
export interface Scenario {
  readonly events: readonly EventSpec[];
  /** Indexes of events re-sent later in the stream (same eventId, new sequence number). */
  readonly resend: readonly number[];
  readonly attempts: readonly Attempt[];
}

/** Scenarios of `min`..`max` events. */
export function scenario(min: number, max: number): fc.Arbitrary<Scenario> {
  return fc.record({
    events: fc.array(eventSpec, { minLength: min, maxLength: max }),
    resend: fc.array(fc.nat({ max: max - 1 }), { maxLength: 6 }),
    attempts: fc.array(attempt, { maxLength: 60 }),
  });
}

/** The ARN of the stream the harness's records come from (high-water marks are kept per stream). */
export const STREAM = "arn:aws:kinesis:us-east-1:000000000000:stream/vigil-test-events";

/** The shard ids of the harness: two shards, as the events stream has. */
export const SHARDS = ["shardId-000000000000", "shardId-000000000001"] as const;

/**
 * First sequence numbers per shard: one a few below a power of ten, so that sequence numbers of
 * different lengths meet; one of the 56-digit kind Kinesis writes today.
 */
const FIRST_SEQUENCE = [
  99_999_999_999_999_999_995n,
  49590338271490256608559692538361571095921575989136588898n,
];

/** Turns specs into records: ids under `runId`, times from T0, shard by user, ascending sequence numbers. */
export function buildRecords(s: Scenario, runId: string): FeatureRecord[][] {
  const events: CleanEvent[] = [];
  let nominal = T0 + 60_000;
  // IPs and phones are shared across users on purpose; the run id's hash keeps runs apart.
  const h = hash(runId);
  s.events.forEach((spec, i) => {
    nominal += Math.max(spec.stepMs, 0);
    const at = Math.max(T0, nominal + Math.min(spec.stepMs, 0));
    const base = {
      eventId: `${runId}-e${i}`,
      at,
      type: spec.type,
      userId: `${runId}-u${spec.user}`,
      deviceId: `${runId}-d${spec.device}`,
      ip: `fd00:${(h >>> 16).toString(16)}:${(h & 0xffff).toString(16)}::${spec.ip + 1}`,
      ...(spec.phone > 0 ? { phone: `+1${String(h % 1_000_000_000).padStart(9, "0")}${spec.phone}` } : {}),
      ...(spec.qty === undefined ? {} : { attributes: { qty: spec.qty } }),
    };
    const typed =
      spec.type === "order"
        ? { ...base, amount: money(spec), currency: spec.currency }
        : spec.type === "payment"
          ? {
              ...base,
              amount: money(spec),
              currency: spec.currency,
              cardFingerprint: `${runId}-c${spec.card}`,
            }
          : spec.type === "coupon_claim"
            ? { ...base, campaignId: `${runId}-k${spec.campaign}`, couponId: `${runId}-q${i}` }
            : base;
    events.push(cleanEvent(typed));
  });
  const stream = [...events];
  for (const index of s.resend) {
    const original = events[index % events.length];
    if (original) stream.push(original);
  }
  const byShard: FeatureRecord[][] = SHARDS.map(() => []);
  const next = [...FIRST_SEQUENCE];
  for (const event of stream) {
    const shard = Number(event.userId.slice(-1)) % 2;
    const sequence = next[shard] as bigint;
    next[shard] = sequence + BigInt(1 + (hash(event.eventId) % 1000));
    (byShard[shard] as FeatureRecord[]).push({
      event,
      stream: STREAM,
      shardId: SHARDS[shard] as string,
      sequenceNumber: String(sequence),
    });
  }
  return byShard;
}

function money(spec: EventSpec): string {
  return spec.currency === "JPY"
    ? String(spec.minor)
    : `${Math.floor(spec.minor / 100)}.${String(spec.minor % 100).padStart(2, "0")}`;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Turns entity writes into failures while armed: the harness's fault injector. */
export interface WriteFaults {
  /** Fail the i-th write from now when bit i of `mask` is set (bit 15 repeats for later writes). */
  arm(mask: number): void;
  disarm(): void;
}

/** What a harness run produced. */
export interface HarnessResult {
  /** The first stored decision's vector per eventId. */
  readonly decisions: ReadonlyMap<string, { readonly source: RecordSource; readonly vector: FeatureVector }>;
  /** Events in the order their records were finished (checkpointed), first copies and re-sends. */
  readonly order: readonly CleanEvent[];
  readonly attempts: number;
}

/**
 * Delivers the records the way a Kinesis event source mapping does, with the faults of the
 * attempts: each attempt takes up to `size` records from the shard's checkpoint, prepares,
 * stores decisions (first one per eventId wins), commits, and moves the checkpoint, or dies
 * somewhere in between and is delivered again (possibly split differently: a bisect).
 * A shard with work in flight (records decided but not yet checkpointed) is retried before any
 * other shard runs, as a sequential consumer would; see docs/features.md on cross-shard views.
 */
export async function deliver(
  store: FeatureStateStore,
  faults: WriteFaults,
  shards: readonly (readonly FeatureRecord[])[],
  attempts: readonly Attempt[],
): Promise<HarnessResult> {
  const decisions = new Map<string, { source: RecordSource; vector: FeatureVector }>();
  const order: CleanEvent[] = [];
  const checkpoint = shards.map(() => 0);
  const frontier = shards.map(() => -1);
  let forced: number | undefined;
  let count = 0;
  for (; ; count++) {
    if (count > 2_000) throw new Error("harness did not finish");
    const open = shards
      .map((_, s) => s)
      .filter((s) => (checkpoint[s] as number) < (shards[s] as FeatureRecord[]).length);
    if (open.length === 0) break;
    const plan = attempts[count] ?? { shard: count, size: 5, outcome: { kind: "ok" as const } };
    const s = forced ?? (open[plan.shard % open.length] as number);
    const records = shards[s] as readonly FeatureRecord[];
    const from = checkpoint[s] as number;
    const batch = records.slice(from, from + plan.size);
    const decided = new Map<string, RecordSource>();
    for (const r of batch) {
      const d = decisions.get(r.event.eventId);
      if (d) decided.set(r.event.eventId, d.source);
    }
    const pass = await store.prepare(batch, decided);
    const outcome = plan.outcome;
    let stored = 0;
    let failedRecord: FeatureRecord | undefined;
    const firstInBatch = new Set<string>();
    for (const [i, r] of batch.entries()) {
      // A vector belongs to the first record of its eventId in the batch.
      if (firstInBatch.has(r.event.eventId)) continue;
      firstInBatch.add(r.event.eventId);
      const vector = pass.vectors.get(r.event.eventId);
      if (!vector || decisions.has(r.event.eventId)) continue;
      if (outcome.kind === "crashWhileDeciding" && stored >= outcome.decisions) break;
      if (outcome.kind === "decisionFails" && outcome.index % batch.length === i) {
        failedRecord = r;
        continue;
      }
      decisions.set(r.event.eventId, {
        source: { shardId: r.shardId, sequenceNumber: r.sequenceNumber },
        vector,
      });
      frontier[s] = Math.max(frontier[s] as number, from + i);
      stored++;
    }
    let advanceTo: number | undefined;
    if (outcome.kind === "crashWhileDeciding") {
      advanceTo = undefined;
    } else {
      if (outcome.kind === "writesFail") faults.arm(outcome.mask);
      const result = await pass.commit(failedRecord ? { failed: [failedRecord] } : {});
      faults.disarm();
      const failure = result.failed.find((f) => f.shardId === SHARDS[s]);
      if (outcome.kind === "crashAfterCommit" || (outcome.kind === "writesFail" && !outcome.followResponse)) {
        advanceTo = undefined;
      } else if (failure) {
        advanceTo = records.findIndex((r) => r.sequenceNumber === failure.sequenceNumber);
      } else {
        advanceTo = from + batch.length;
      }
    }
    if (advanceTo !== undefined) {
      for (let i = from; i < advanceTo; i++) order.push((records[i] as FeatureRecord).event);
      checkpoint[s] = advanceTo;
    }
    forced = (checkpoint[s] as number) <= (frontier[s] as number) || advanceTo === undefined ? s : undefined;
  }
  return { decisions, order, attempts: count };
}

/** The reference's vectors for the events in the order the harness finished them. */
export function referenceVectors(
  set: CompiledFeatureSet,
  order: readonly CleanEvent[],
  allowance: LatenessAllowance = TEST_ALLOWANCE,
): {
  vectors: Map<string, FeatureVector>;
  reference: ReferenceFeatures;
} {
  const reference = new ReferenceFeatures(set, allowance);
  const vectors = new Map<string, FeatureVector>();
  for (const event of order) {
    const v = reference.process(event);
    if (v) vectors.set(event.eventId, v);
  }
  return { vectors, reference };
}

/** Every entity (type and key values) the events touched, for comparing final states. */
export function touchedEntities(
  set: CompiledFeatureSet,
  order: readonly CleanEvent[],
): { type: string; values: string[] }[] {
  const seen = new Map<string, { type: string; values: string[] }>();
  for (const event of order) {
    for (const group of set.groups) {
      const values = group.keys.map((read) => read(event));
      if (values.some((v) => v === undefined)) continue;
      const entity = { type: group.entity.name, values: values as string[] };
      seen.set(JSON.stringify(entity), entity);
    }
  }
  return [...seen.values()];
}
