import type { KinesisStreamRecord } from "aws-lambda";
import { expect } from "vitest";
import { type ScoreBatchResult, type ScoreDependencies, scoreRecords } from "#functions/score/score-records";
import { MemoryDecisionStore } from "#shared/adapters/memory-decision-store";
import { MemoryLabelStore } from "#shared/adapters/memory-label-store";
import { MemoryQuarantineStore } from "#shared/adapters/memory-quarantine-store";
import { MemoryReceiptLedger } from "#shared/adapters/memory-receipt-ledger";
import { MemoryStateTable } from "#shared/adapters/memory-state-table";
import { type StateItemTable, StateStoreEngine } from "#shared/adapters/state-store-engine";
import { DecisionEngineFactory } from "#shared/domain/decision/index";
import { SHIPPED_DEFAULTS } from "#shared/domain/decision/shipped-defaults";
import { createPseudonymizer, type PseudonymKey } from "#shared/domain/decision-message/index";
import {
  compareSequenceNumbers,
  compileFeatureSet,
  DEFAULT_FEATURE_SET,
} from "#shared/domain/features/index";
import type { DecidedEvent, DecisionPublisher } from "#shared/ports/decision-publisher";
import type { DecisionRecord, DecisionStore, StoreOutcome } from "#shared/ports/decision-store";
import type { QuarantineEntry, QuarantineStore } from "#shared/ports/quarantine-store";
import type { ReceiptLedger, SettledRecord, ShardLedger, ShardRef } from "#shared/ports/receipt-ledger";
import type { CommitOptions, FeaturePass, FeatureStateStore } from "#shared/ports/state-store";
import { encodeEvent, makeValidEvent } from "../fixtures/valid-events.ts";
import { memoryLogger } from "./kinesis-records.ts";

/**
 * The score use case driven directly, on real stores (in memory or on DynamoDB Local), with
 * faults injected at the ports: records as Lambda delivers them, an event source mapping's retry
 * loop, and the checks every run must pass (docs/data-quality.md).
 */

export const EVENTS_STREAM = "vigil-test-events";
const STREAM_ARN = `arn:aws:kinesis:us-east-1:000000000000:stream/${EVENTS_STREAM}`;
export const SHARD_A = "shardId-000000000000";
export const SHARD_B = "shardId-000000000001";

/** A Kinesis-shaped sequence number (56 digits) for position `n` of a shard. */
export const sequenceNumber = (n: number) => (10n ** 55n + BigInt(n)).toString();

/** An events-stream record as Lambda delivers it. */
export function eventRecord(
  data: Uint8Array | object,
  position: { readonly shardId: string; readonly n: number; readonly arrivalMs: number },
): KinesisStreamRecord {
  const bytes = data instanceof Uint8Array ? data : encodeEvent(data);
  const seq = sequenceNumber(position.n);
  return {
    eventID: `${position.shardId}:${seq}`,
    eventName: "aws:kinesis:record",
    eventSource: "aws:kinesis",
    eventSourceARN: STREAM_ARN,
    eventVersion: "1.0",
    awsRegion: "us-east-1",
    invokeIdentityArn: "arn:aws:iam::000000000000:role/test",
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey: "pk",
      sequenceNumber: seq,
      data: Buffer.from(bytes).toString("base64"),
      approximateArrivalTimestamp: position.arrivalMs / 1000,
    },
  };
}

/** The test pseudonymization key. */
export const SCORE_TEST_KEY: PseudonymKey = { id: "t1", secret: Buffer.from("score-test-secret-".repeat(3)) };

/** The shipped rules, lists (192.0.2.0/24 is block-listed) and model, as a fresh deployment decides. */
export function shippedEngine() {
  return new DecisionEngineFactory().build({
    rules: { version: 1, document: SHIPPED_DEFAULTS.rules },
    lists: { version: 1, document: SHIPPED_DEFAULTS.lists },
    model: { version: 1, document: SHIPPED_DEFAULTS.model },
  });
}

/**
 * A scenario over two shards, about `size` records per shard: users of both shards share devices
 * and IPs (the valid-event fixture reuses entity ids), some events are block-listed (list hits),
 * some are re-sent on the same shard (in the batch and later) and on the other shard, and a few
 * records are not events at all. Dated minutes before `nowMs`.
 */
export function scenario(nowMs: number, size = 24, runId = "score"): Record<string, KinesisStreamRecord[]> {
  const shards: Record<string, KinesisStreamRecord[]> = { [SHARD_A]: [], [SHARD_B]: [] };
  const put = (shardId: string, data: Uint8Array | object) => {
    const list = shards[shardId] as KinesisStreamRecord[];
    list.push(
      eventRecord(data, { shardId, n: list.length + 1, arrivalMs: nowMs - 60_000 + list.length * 50 }),
    );
  };
  const types = ["register", "login", "order", "payment", "coupon_claim"] as const;
  for (let i = 0; i < size * 2; i++) {
    const shardId = i % 2 === 0 ? SHARD_A : SHARD_B;
    const event = makeValidEvent(
      i % 11,
      types[i % 5] as (typeof types)[number],
      new Date(nowMs - 300_000 + i * 1000),
      {
        runId: `${runId}-${i}`,
      },
    );
    // Entity ids come from i % 11: shared devices, IPs and cards across the two shards.
    put(shardId, event);
    if (i % 9 === 4) put(shardId, event); // re-sent right behind the original
    if (i % 13 === 7) put(shardId === SHARD_A ? SHARD_B : SHARD_A, event); // re-sent on the other shard
    if (i % 10 === 3) put(shardId, new TextEncoder().encode(i % 20 === 3 ? "{ not json" : '{"eventId":"x"}'));
  }
  return shards;
}

/** Decisions published, in order; consumers are idempotent per eventId, so repeats are allowed. */
export class RecordingPublisher implements DecisionPublisher {
  readonly published: DecidedEvent[] = [];
  async publish(decided: readonly DecidedEvent[]): Promise<void> {
    for (const d of decided) this.published.push(structuredClone(d));
  }
}

/** Where a fault strikes: before the call reaches the store, or after the store did its work. */
export type FaultTiming = "before" | "after";

/** The I/O calls of the score path that faults can hit. */
export type FaultPoint =
  | "getMany"
  | "prepare"
  | "putIfAbsent"
  | "get"
  | "recordDuplicate"
  | "commit"
  | "statePut"
  | "publish"
  | "quarantine"
  | "receive"
  | "settle";

/** An injected I/O failure, named like an SDK error. */
export class InjectedFault extends Error {
  override readonly name = "InjectedFault";
}

/** Arms one failure at a time: the `nth` call of a point fails, before or after doing its work. */
export class Faults {
  private readonly calls = new Map<FaultPoint, number>();
  private armed: { point: FaultPoint; nth: number; timing: FaultTiming } | undefined;
  /** How many faults struck. */
  struck = 0;

  arm(point: FaultPoint, nth = 1, timing: FaultTiming = "before"): void {
    this.armed = { point, nth, timing };
    this.calls.clear();
  }

  disarm(): void {
    this.armed = undefined;
  }

  /** Runs `work` as call `point`, failing it when armed so. */
  async run<T>(point: FaultPoint, work: () => Promise<T>): Promise<T> {
    const n = (this.calls.get(point) ?? 0) + 1;
    this.calls.set(point, n);
    const strike = this.armed?.point === point && this.armed.nth === n;
    if (strike && this.armed?.timing === "before") {
      this.struck++;
      throw new InjectedFault(`${point} #${n}`);
    }
    const result = await work();
    if (strike) {
      this.struck++;
      throw new InjectedFault(`${point} #${n} (after the work was done)`);
    }
    return result;
  }
}

/**
 * The decision store with faults, and with puts that may answer "duplicate" after writing (the
 * answer an SDK retry of a put that went through gets).
 */
export class FaultyDecisionStore implements DecisionStore {
  /** eventIds whose next put writes and then answers "duplicate". */
  readonly answerDuplicateAfterWrite = new Set<string>();
  /** eventIds whose puts always fail (a record that exhausts its retries). */
  readonly alwaysFail = new Set<string>();
  constructor(
    private readonly inner: DecisionStore,
    private readonly faults: Faults,
  ) {}
  putIfAbsent(decision: DecisionRecord): Promise<StoreOutcome> {
    return this.faults.run("putIfAbsent", async () => {
      if (this.alwaysFail.has(decision.eventId)) throw new InjectedFault("putIfAbsent, always");
      const outcome = await this.inner.putIfAbsent(decision);
      if (this.answerDuplicateAfterWrite.delete(decision.eventId)) return "duplicate";
      return outcome;
    });
  }
  get(eventId: string) {
    return this.faults.run("get", () => this.inner.get(eventId));
  }
  getMany(eventIds: readonly string[]) {
    return this.faults.run("getMany", () => this.inner.getMany(eventIds));
  }
  recordDuplicate(eventId: string, source: DecisionRecord["source"], at: string) {
    return this.faults.run("recordDuplicate", () => this.inner.recordDuplicate(eventId, source, at));
  }
}

/** The quarantine store with faults on writes. */
export class FaultyQuarantineStore implements QuarantineStore {
  constructor(
    private readonly inner: QuarantineStore,
    private readonly faults: Faults,
  ) {}
  putIfAbsent(entry: QuarantineEntry) {
    return this.faults.run("quarantine", () => this.inner.putIfAbsent(entry));
  }
  get(id: string) {
    return this.inner.get(id);
  }
  list(filter?: Parameters<QuarantineStore["list"]>[0]) {
    return this.inner.list(filter);
  }
  markReplayed(id: string, at: string, replayedAs: string) {
    return this.inner.markReplayed(id, at, replayedAs);
  }
}

/** The feature state store with faults on `prepare` and on `commit` (a commit that throws). */
export class FaultyStateStore implements FeatureStateStore {
  constructor(
    private readonly inner: FeatureStateStore,
    private readonly faults: Faults,
  ) {}
  async prepare(...args: Parameters<FeatureStateStore["prepare"]>): Promise<FeaturePass> {
    const pass = await this.faults.run("prepare", () => this.inner.prepare(...args));
    return {
      vectors: pass.vectors,
      entities: pass.entities,
      commit: (options?: CommitOptions) => this.faults.run("commit", () => pass.commit(options)),
    };
  }
  read(entityType: string, keyValues: readonly string[]) {
    return this.inner.read(entityType, keyValues);
  }
}

/** A state table whose entity writes can fail (the store then reports where to retry from). */
export class FaultyStateTable implements StateItemTable {
  constructor(
    private readonly inner: StateItemTable,
    private readonly faults: Faults,
  ) {}
  getMany(pks: readonly string[]) {
    return this.inner.getMany(pks);
  }
  get(pk: string) {
    return this.inner.get(pk);
  }
  put(...args: Parameters<StateItemTable["put"]>) {
    return this.faults.run("statePut", () => this.inner.put(...args));
  }
}

/** The publisher with faults (after: the messages went out, the call still failed). */
export class FaultyPublisher implements DecisionPublisher {
  constructor(
    private readonly inner: DecisionPublisher,
    private readonly faults: Faults,
  ) {}
  publish(decided: readonly DecidedEvent[]) {
    return this.faults.run("publish", () => this.inner.publish(decided));
  }
}

/** The receipt ledger with faults. */
export class FaultyReceiptLedger implements ReceiptLedger {
  constructor(
    private readonly inner: ReceiptLedger,
    private readonly faults: Faults,
  ) {}
  receive(shard: ShardRef, sequenceNumbers: readonly string[], at: Date) {
    return this.faults.run("receive", () => this.inner.receive(shard, sequenceNumbers, at));
  }
  settle(shard: ShardRef, records: readonly SettledRecord[], at: Date) {
    return this.faults.run("settle", () => this.inner.settle(shard, records, at));
  }
  read(shard: ShardRef) {
    return this.inner.read(shard);
  }
}

/** Everything a run left behind, in a form two runs can be compared by. */
export interface WorldSnapshot {
  readonly decisions: Readonly<Record<string, DecisionRecord>>;
  /** Keys of the duplicate markers (`<shardId>:<sequenceNumber>`). */
  readonly duplicates: readonly string[];
  readonly quarantine: Readonly<Record<string, QuarantineEntry>>;
  /** Encoded entity states by key (revisions left out: retries may write an entity twice). */
  readonly state: Readonly<Record<string, string>>;
  readonly ledger: Readonly<Record<string, ShardLedger>>;
}

/** Real stores for one run, fresh and empty, with a fault switchboard in front of them. */
export interface ScoreWorld {
  readonly faults: Faults;
  readonly decisions: FaultyDecisionStore;
  readonly publisher: RecordingPublisher;
  readonly deps: ScoreDependencies;
  readonly logLines: string[];
  snapshot(): Promise<WorldSnapshot>;
}

/** The parts a flavor of world provides (memory, DynamoDB Local); faults are wrapped around them here. */
export interface WorldStores {
  readonly decisions: DecisionStore;
  readonly quarantine: QuarantineStore;
  /** Built over a table the faults wrap. */
  readonly features: (wrapTable: (table: StateItemTable) => StateItemTable) => FeatureStateStore;
  readonly receipts: ReceiptLedger;
  snapshot(): Promise<Omit<WorldSnapshot, "ledger">>;
}

const ENGINE = shippedEngine();

/** A world over `stores`, deciding with the shipped configuration at the fixed instant `nowMs`. */
export function assembleWorld(stores: WorldStores, nowMs: number): ScoreWorld {
  const faults = new Faults();
  const decisions = new FaultyDecisionStore(stores.decisions, faults);
  const publisher = new RecordingPublisher();
  const logger = memoryLogger();
  const receipts = new FaultyReceiptLedger(stores.receipts, faults);
  const deps: ScoreDependencies = {
    decisions,
    publisher: new FaultyPublisher(publisher, faults),
    quarantine: new FaultyQuarantineStore(stores.quarantine, faults),
    features: new FaultyStateStore(
      stores.features((table) => new FaultyStateTable(table, faults)),
      faults,
    ),
    receipts,
    labels: new MemoryLabelStore(),
    decide: (event, vector) => ENGINE.decide({ event, features: vector }, nowMs),
    pseudonymizer: async () => createPseudonymizer(SCORE_TEST_KEY),
    now: () => new Date(nowMs),
    logger,
  };
  return {
    faults,
    decisions,
    publisher,
    deps,
    logLines: logger.lines,
    async snapshot() {
      const ledger: Record<string, ShardLedger> = {};
      for (const shardId of [SHARD_A, SHARD_B]) {
        const read = await stores.receipts.read({ stream: EVENTS_STREAM, shardId });
        if (read) ledger[shardId] = read;
      }
      return { ...(await stores.snapshot()), ledger };
    },
  };
}

/** Counts summed over the invocations of a run. */
export interface RunTotals {
  received: number;
  decided: number;
  quarantined: number;
  duplicates: number;
  redelivered: number;
  failed: number;
  invocations: number;
  /** Sum of put-to-decision latency values (one per decision counted). */
  latencyValues: number;
}

/** Totals of a run that has not started. */
export const emptyTotals = (): RunTotals => ({
  received: 0,
  decided: 0,
  quarantined: 0,
  duplicates: 0,
  redelivered: 0,
  failed: 0,
  invocations: 0,
  latencyValues: 0,
});

/** Adds one invocation's counts to a run's totals. */
export function addResult(totals: RunTotals, result: ScoreBatchResult): void {
  const c = result.counts;
  totals.received += c.received;
  totals.decided += c.decided;
  totals.quarantined += c.quarantined;
  totals.duplicates += c.duplicates;
  totals.redelivered += c.redelivered;
  totals.failed += c.failed;
  totals.invocations++;
  totals.latencyValues += result.putToDecisionMs.length;
  expect(result.decided).toHaveLength(c.decided);
}

/**
 * Delivers one shard's records as an event source mapping does: in batches of `batchSize`; after
 * a partial failure, again from the lowest reported record, until the batch succeeds (at most
 * `maxAttempts` invocations per batch, then the rest is given up, as records sent to an on-failure
 * destination are).
 */
export async function deliver(
  records: readonly KinesisStreamRecord[],
  deps: ScoreDependencies,
  totals: RunTotals,
  options: { readonly batchSize?: number; readonly maxAttempts?: number; readonly between?: () => void } = {},
): Promise<{ readonly givenUp: readonly KinesisStreamRecord[] }> {
  const batchSize = options.batchSize ?? 10;
  const givenUp: KinesisStreamRecord[] = [];
  for (let start = 0; start < records.length; start += batchSize) {
    let batch = records.slice(start, start + batchSize);
    for (let attempt = 1; batch.length > 0; attempt++) {
      const result = await scoreRecords(batch, deps);
      expect(
        result.counts.decided +
          result.counts.quarantined +
          result.counts.duplicates +
          result.counts.redelivered +
          result.counts.failed,
      ).toBe(batch.length);
      addResult(totals, result);
      options.between?.();
      const failures = result.response.batchItemFailures.map((f) => f.itemIdentifier);
      if (failures.length === 0) break;
      const lowest = failures.reduce((a, b) => (compareSequenceNumbers(a, b) <= 0 ? a : b));
      const rest = batch.filter((r) => compareSequenceNumbers(r.kinesis.sequenceNumber, lowest) >= 0);
      if (attempt >= (options.maxAttempts ?? 10)) {
        givenUp.push(...rest);
        break;
      }
      batch = rest;
    }
  }
  return { givenUp };
}

/** Delivers every shard of a scenario, shards concurrently (as one mapping does), records in order. */
export async function deliverAll(
  shards: Readonly<Record<string, readonly KinesisStreamRecord[]>>,
  deps: ScoreDependencies,
  totals: RunTotals,
  options: Parameters<typeof deliver>[3] = {},
): Promise<void> {
  await Promise.all(Object.values(shards).map((records) => deliver(records, deps, totals, options)));
}

/**
 * What must hold after any run whose retries settled: one outcome per record, counted once; every
 * stored decision published, as stored; the ledger's totals equal to the counts.
 */
export async function expectSettledRun(
  world: ScoreWorld,
  shards: Readonly<Record<string, readonly KinesisStreamRecord[]>>,
  totals: RunTotals,
  options: {
    /**
     * A ledger write went through but its caller was told it failed: the ledger's totals stay
     * exact, and that invocation's metrics are missing (never doubled).
     */
    readonly metricsMayLag?: boolean;
  } = {},
): Promise<WorldSnapshot> {
  const snapshot = await world.snapshot();
  const records = Object.values(shards).flat();
  const decisions = Object.values(snapshot.decisions);
  const sum = (key: keyof ShardLedger) =>
    Object.values(snapshot.ledger).reduce((n, l) => n + Number(l[key] ?? 0), 0);
  // The ledger counts every record once as received, and once as its outcome.
  expect(sum("received")).toBe(records.length);
  expect(sum("decided")).toBe(decisions.length);
  expect(sum("quarantined")).toBe(Object.keys(snapshot.quarantine).length);
  expect(sum("duplicates")).toBe(snapshot.duplicates.length);
  const metrics = [
    [totals.received, sum("received")],
    [totals.decided, sum("decided")],
    [totals.quarantined, sum("quarantined")],
    [totals.duplicates, sum("duplicates")],
    [totals.latencyValues, sum("decided")],
  ] as const;
  for (const [emitted, counted] of metrics) {
    if (options.metricsMayLag) expect(emitted).toBeLessThanOrEqual(counted);
    else expect(emitted).toBe(counted);
  }
  if (!options.metricsMayLag)
    expect(totals.received).toBe(totals.decided + totals.quarantined + totals.duplicates);
  // Every stored decision reached the stream at least once, exactly as stored.
  const published = new Map(world.publisher.published.map((p) => [p.decision.eventId, p.decision]));
  for (const d of decisions) expect(published.get(d.eventId), d.eventId).toEqual(d);
  expect(new Set(published.keys())).toEqual(new Set(decisions.map((d) => d.eventId)));
  // Nothing raw about list entries or rule errors in the table.
  for (const d of decisions) {
    for (const hit of d.listHits) expect(Object.keys(hit).sort()).toEqual(["entryPseudonym", "kind", "list"]);
  }
  return snapshot;
}

/** The feature set the score path tests compute: the built-in one. */
export const SCORE_FEATURES = compileFeatureSet(DEFAULT_FEATURE_SET);

/** A world on the in-memory stores. */
export function memoryWorld(nowMs: number): ScoreWorld {
  const decisions = new MemoryDecisionStore();
  const quarantine = new MemoryQuarantineStore();
  const table = new MemoryStateTable();
  return assembleWorld(
    {
      decisions,
      quarantine,
      features: (wrap) => new StateStoreEngine(wrap(table), SCORE_FEATURES, { clock: () => nowMs }),
      receipts: new MemoryReceiptLedger(),
      async snapshot() {
        return {
          decisions: Object.fromEntries(decisions.decisions),
          duplicates: [...decisions.duplicates.keys()].sort(),
          quarantine: Object.fromEntries(quarantine.entries),
          state: Object.fromEntries([...table.items].map(([pk, item]) => [pk, item.state])),
        };
      },
    },
    nowMs,
  );
}
