import type { KinesisStreamRecord } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { scoreRecords } from "#functions/score/score-records";
import {
  deliver,
  emptyTotals,
  expectSettledRun,
  type FaultPoint,
  type FaultTiming,
  type RunTotals,
  type ScoreWorld,
  SHARD_A,
  SHARD_B,
  scenario,
  type WorldSnapshot,
} from "./score-path.ts";

/**
 * The score path's guarantees, run against the real `scoreRecords` on one flavor of real stores
 * (in memory for the unit project, DynamoDB Local for the integration project): every record ends
 * exactly once as decided, quarantined or duplicate; every stored decision is published at least
 * once; every decided event's contribution is committed exactly once; whatever fails, whenever.
 */
export interface ScorePathSuiteOptions {
  /** A fresh, empty world deciding at `nowMs`. */
  readonly world: (nowMs: number) => Promise<ScoreWorld>;
  /** Records per shard in the scenario (before re-sends and bad records). */
  readonly size: number;
  /** Which call of each point the fault-in-turn test fails (1 = the first). */
  readonly nths: readonly number[];
}

/** Delivers shard A entirely, then shard B: a fixed commit order, so two runs are comparable. */
async function deliverInOrder(
  shards: Readonly<Record<string, readonly KinesisStreamRecord[]>>,
  world: ScoreWorld,
  totals: RunTotals,
  options: Parameters<typeof deliver>[3] = {},
): Promise<KinesisStreamRecord[]> {
  const givenUp: KinesisStreamRecord[] = [];
  for (const shardId of [SHARD_A, SHARD_B]) {
    const result = await deliver(shards[shardId] ?? [], world.deps, totals, options);
    givenUp.push(...result.givenUp);
  }
  return givenUp;
}

/** The fault-in-turn cases: every I/O call of the score path, before and after it did its work. */
const FAULT_CASES: ReadonlyArray<{ point: FaultPoint; timing: FaultTiming }> = [
  { point: "receive", timing: "before" },
  { point: "receive", timing: "after" },
  { point: "getMany", timing: "before" },
  { point: "prepare", timing: "before" },
  { point: "putIfAbsent", timing: "before" },
  { point: "putIfAbsent", timing: "after" },
  { point: "get", timing: "before" },
  { point: "recordDuplicate", timing: "before" },
  { point: "recordDuplicate", timing: "after" },
  { point: "quarantine", timing: "before" },
  { point: "quarantine", timing: "after" },
  { point: "statePut", timing: "before" },
  { point: "statePut", timing: "after" },
  { point: "commit", timing: "before" },
  { point: "commit", timing: "after" },
  { point: "publish", timing: "before" },
  { point: "publish", timing: "after" },
  { point: "settle", timing: "before" },
  { point: "settle", timing: "after" },
];

/** Registers the suite's tests in the current `describe`. */
export function scorePathSuite(options: ScorePathSuiteOptions): void {
  // Dated from the clock, minutes in the past: TTL never deletes under the test (any date).
  const nowMs = Math.floor(Date.now() / 1000) * 1000;
  const shards = scenario(nowMs, options.size);
  const records = Object.values(shards).flat();
  let reference: WorldSnapshot;

  beforeAll(async () => {
    const world = await options.world(nowMs);
    const totals = emptyTotals();
    await deliverInOrder(shards, world, totals);
    reference = await expectSettledRun(world, shards, totals);
  });

  it("the scenario exercises decisions, list hits, re-sent events and bad records", () => {
    const decisions = Object.values(reference.decisions);
    expect(decisions.length).toBeGreaterThan(options.size);
    expect(decisions.some((d) => d.listHits.length > 0)).toBe(true);
    expect(reference.duplicates.length).toBeGreaterThan(2);
    expect(Object.keys(reference.quarantine).length).toBeGreaterThan(1);
    expect(Object.keys(reference.state).length).toBeGreaterThan(10);
    // A fault-free run counts every record once, as received and as one outcome.
    const ledgers = Object.values(reference.ledger);
    expect(ledgers.reduce((n, l) => n + l.received, 0)).toBe(records.length);
  });

  it("publish fails: the retry finds the stored decisions and publishes them again", async () => {
    const world = await options.world(nowMs);
    world.faults.arm("publish", 1, "before");
    const totals = emptyTotals();
    const batch = (shards[SHARD_A] ?? []).slice(0, 10);
    const first = await scoreRecords(batch, world.deps);
    expect(first.response.batchItemFailures.length).toBeGreaterThan(0);
    expect(world.publisher.published).toHaveLength(0);
    const retry = batch.filter((r) =>
      first.response.batchItemFailures.some((f) => f.itemIdentifier === r.kinesis.sequenceNumber),
    );
    const second = await scoreRecords(retry, world.deps);
    expect(second.response.batchItemFailures).toEqual([]);
    const stored = Object.values((await world.snapshot()).decisions);
    expect(stored.length).toBeGreaterThan(0);
    expect(new Set(world.publisher.published.map((p) => p.decision.eventId))).toEqual(
      new Set(stored.map((d) => d.eventId)),
    );
    // Counted once: decided by the retry, after the publish it was waiting for.
    for (const r of [first, second]) {
      totals.received += r.counts.received;
      totals.decided += r.counts.decided;
    }
    expect(totals.received).toBe(batch.length);
    expect(totals.decided).toBe(stored.length);
  });

  it("a put answered 'exists' for the record's own decision: its contribution is committed and it is published", async () => {
    const world = await options.world(nowMs);
    // Every decision put writes and then answers "duplicate" (an SDK retry of a put that went through).
    for (const r of records) {
      const text = Buffer.from(r.kinesis.data, "base64").toString();
      const id = /"eventId":"([^"]+)"/.exec(text)?.[1];
      if (id) world.decisions.answerDuplicateAfterWrite.add(id);
    }
    const totals = emptyTotals();
    await deliverInOrder(shards, world, totals);
    const snapshot = await expectSettledRun(world, shards, totals);
    expect(snapshot.state).toEqual(reference.state);
    expect(snapshot.decisions).toEqual(reference.decisions);
    expect(snapshot.duplicates).toEqual(reference.duplicates);
  });

  it("two overlapping invocations of every batch: one decision per eventId, contributions once, all published", async () => {
    const world = await options.world(nowMs);
    const totals = emptyTotals();
    for (const shardId of [SHARD_A, SHARD_B]) {
      const shard = shards[shardId] ?? [];
      await Promise.all([deliver(shard, world.deps, totals), deliver(shard, world.deps, totals)]);
    }
    const snapshot = await expectSettledRun(world, shards, totals);
    expect(totals.redelivered).toBe(records.length);
    expect(snapshot.decisions).toEqual(reference.decisions);
    expect(snapshot.state).toEqual(reference.state);
    expect(snapshot.quarantine).toEqual(reference.quarantine);
    expect(snapshot.duplicates).toEqual(reference.duplicates);
  });

  it("a full redelivery (a restart without checkpoints) counts nothing again and publishes every decision again", async () => {
    const world = await options.world(nowMs);
    const totals = emptyTotals();
    await deliverInOrder(shards, world, totals);
    const published = world.publisher.published.length;
    const again = emptyTotals();
    await deliverInOrder(shards, world, again);
    expect(again).toMatchObject({ received: 0, decided: 0, quarantined: 0, duplicates: 0, failed: 0 });
    expect(again.redelivered).toBe(records.length);
    expect(world.publisher.published.length).toBe(2 * published);
    const snapshot = await expectSettledRun(world, shards, totals);
    expect(snapshot.state).toEqual(reference.state);
  });

  for (const { point, timing } of FAULT_CASES) {
    for (const nth of options.nths) {
      it(`${point} fails (${timing} its work, call ${nth}), then the reported records are retried: the fault-free result`, async () => {
        const world = await options.world(nowMs);
        if (point === "get") {
          // `get` is read only after a put answered "exists": make the first puts answer so.
          for (const r of (shards[SHARD_A] ?? []).slice(0, 6)) {
            const id = /"eventId":"([^"]+)"/.exec(Buffer.from(r.kinesis.data, "base64").toString())?.[1];
            if (id) world.decisions.answerDuplicateAfterWrite.add(id);
          }
        }
        world.faults.arm(point, nth, timing);
        const totals = emptyTotals();
        await deliverInOrder(shards, world, totals);
        expect(world.faults.struck, "the fault struck").toBe(1);
        expect(totals.failed).toBeGreaterThan(0);
        const lostLedgerAnswer = (point === "receive" || point === "settle") && timing === "after";
        const snapshot = await expectSettledRun(world, shards, totals, { metricsMayLag: lostLedgerAnswer });
        expect(snapshot.decisions).toEqual(reference.decisions);
        expect(snapshot.state).toEqual(reference.state);
        expect(snapshot.quarantine).toEqual(reference.quarantine);
        expect(snapshot.duplicates).toEqual(reference.duplicates);
        // No SDK message text in the logs: names and codes only.
        for (const line of world.logLines) expect(line).not.toMatch(/#\d/);
      });
    }
  }

  it("a record given up after its retries (on-failure destination) makes the counting equation false", async () => {
    const world = await options.world(nowMs);
    const victim = /"eventId":"([^"]+)"/.exec(
      Buffer.from((shards[SHARD_A] ?? [])[2]?.kinesis.data ?? "", "base64").toString(),
    )?.[1];
    expect(victim).toBeDefined();
    world.decisions.alwaysFail.add(victim as string);
    const totals = emptyTotals();
    const givenUp = await deliverInOrder(shards, world, totals, { maxAttempts: 3 });
    expect(givenUp.length).toBeGreaterThan(0);
    expect(totals.received).toBe(records.length);
    expect(totals.received - (totals.decided + totals.quarantined + totals.duplicates)).toBe(givenUp.length);
  });
}

/** The suite inside a describe block named for the flavor. */
export function describeScorePath(flavor: string, options: ScorePathSuiteOptions): void {
  describe(`scoreRecords on ${flavor}`, () => scorePathSuite(options));
}
