import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BatchResponseVerdict } from "#local/esm/batch-response";
import {
  expiredPrefixLength,
  type PendingBatch,
  planAfterInvocation,
  type RetryPolicy,
} from "#local/esm/retry-plan";

const policy = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({
  bisectBatchOnError: false,
  maxRetryAttempts: 2,
  maxRecordAgeSeconds: -1,
  ...overrides,
});
const fresh = (records: number[]): PendingBatch<number> => ({ records, retries: 0, invocations: 1 });
const failure: BatchResponseVerdict = { kind: "failure", reason: "Error: boom" };

describe("planAfterInvocation", () => {
  it("has nothing left after a success", () => {
    expect(planAfterInvocation(fresh([1, 2, 3]), { kind: "success" }, policy())).toEqual({ next: [] });
  });

  it("retries a partial failure from the first failed record and counts the retry", () => {
    const plan = planAfterInvocation(fresh([1, 2, 3, 4]), { kind: "partial", firstFailedIndex: 2 }, policy());
    expect(plan).toEqual({ next: [{ records: [3, 4], retries: 1, invocations: 1 }] });
  });

  it("splits a partial failure at the returned record with bisect on, without retrying earlier records", () => {
    const plan = planAfterInvocation(
      fresh([1, 2, 3, 4]),
      { kind: "partial", firstFailedIndex: 1 },
      policy({ bisectBatchOnError: true }),
    );
    expect(plan.next.map((b) => b.records)).toEqual([[2, 3, 4]]);
  });

  it("bisects a failed batch into ordered halves without consuming the retry quota", () => {
    const plan = planAfterInvocation(
      { records: [1, 2, 3, 4, 5], retries: 1, invocations: 3 },
      failure,
      policy({ bisectBatchOnError: true }),
    );
    expect(plan).toEqual({
      next: [
        { records: [1, 2, 3], retries: 1, invocations: 3 },
        { records: [4, 5], retries: 1, invocations: 3 },
      ],
    });
  });

  it("retries a failed single record (nothing left to bisect) and counts it", () => {
    const plan = planAfterInvocation(fresh([7]), failure, policy({ bisectBatchOnError: true }));
    expect(plan).toEqual({ next: [{ records: [7], retries: 1, invocations: 1 }] });
  });

  it("discards the whole batch once the retries are exhausted", () => {
    const plan = planAfterInvocation({ records: [1, 2], retries: 2, invocations: 3 }, failure, policy());
    expect(plan).toEqual({ next: [], discard: { records: [1, 2], condition: "RetryAttemptsExhausted" } });
  });

  it("discards only the failed suffix of an exhausted partial failure", () => {
    const plan = planAfterInvocation(
      { records: [1, 2, 3], retries: 2, invocations: 3 },
      { kind: "partial", firstFailedIndex: 1 },
      policy(),
    );
    expect(plan).toEqual({ next: [], discard: { records: [2, 3], condition: "RetryAttemptsExhausted" } });
  });

  it("never discards with maxRetryAttempts -1 (infinite)", () => {
    const plan = planAfterInvocation(
      { records: [1], retries: 10_000, invocations: 10_001 },
      failure,
      policy({ maxRetryAttempts: -1 }),
    );
    expect(plan.discard).toBeUndefined();
    expect(plan.next[0]?.retries).toBe(10_001);
  });

  it("discards at once with maxRetryAttempts 0", () => {
    expect(
      planAfterInvocation(fresh([1]), failure, policy({ maxRetryAttempts: 0 })).discard?.records,
    ).toEqual([1]);
  });
});

/**
 * Drives a batch through the planner as the shard poller does, with a function that fails every
 * invocation containing a poison record. Returns the sizes of the invocations, the records that
 * succeeded (in completion order) and the records discarded.
 */
function simulate(records: number[], poison: ReadonlySet<number>, retryPolicy: RetryPolicy) {
  let queue: PendingBatch<number>[] = [{ records, retries: 0, invocations: 0 }];
  const sizes: number[] = [];
  const succeeded: number[] = [];
  const discarded: number[] = [];
  while (queue.length > 0 && sizes.length < 10_000) {
    const [batch, ...rest] = queue;
    if (!batch) break;
    sizes.push(batch.records.length);
    const verdict: BatchResponseVerdict = batch.records.some((r) => poison.has(r))
      ? failure
      : { kind: "success" };
    const plan = planAfterInvocation({ ...batch, invocations: batch.invocations + 1 }, verdict, retryPolicy);
    const remaining = plan.next.reduce((n, b) => n + b.records.length, 0);
    const done = batch.records.slice(0, batch.records.length - remaining);
    const dropped = new Set(plan.discard?.records ?? []);
    succeeded.push(...done.filter((r) => !dropped.has(r)));
    discarded.push(...dropped);
    queue = [...plan.next, ...rest];
  }
  return { sizes, succeeded, discarded };
}

describe("bisect on error, end to end through the planner", () => {
  it("isolates one poison record of eight: 8, 4, 4, 2, 1, 1, then the singleton's retry, then 2", () => {
    const result = simulate(
      [0, 1, 2, 3, 4, 5, 6, 7],
      new Set([5]),
      policy({ bisectBatchOnError: true, maxRetryAttempts: 1 }),
    );
    expect(result.sizes).toEqual([8, 4, 4, 2, 1, 1, 1, 2]);
    expect(result.discarded).toEqual([5]);
    expect(result.succeeded).toEqual([0, 1, 2, 3, 4, 6, 7]);
  });

  it("without bisect, retries the whole batch maxRetryAttempts times, then discards all of it", () => {
    const result = simulate([0, 1, 2], new Set([1]), policy({ maxRetryAttempts: 2 }));
    expect(result.sizes).toEqual([3, 3, 3]);
    expect(result.discarded).toEqual([0, 1, 2]);
    expect(result.succeeded).toEqual([]);
  });

  it("for any batch and poison set: every good record succeeds, every poison record is discarded, in order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.nat(63), { maxLength: 8 }),
        fc.integer({ min: 0, max: 3 }),
        (size, poisonIndexes, maxRetryAttempts) => {
          const records = Array.from({ length: size }, (_, i) => i);
          const poison = new Set(poisonIndexes.filter((i) => i < size));
          const result = simulate(records, poison, policy({ bisectBatchOnError: true, maxRetryAttempts }));
          expect(result.discarded).toEqual(records.filter((r) => poison.has(r)));
          expect(result.succeeded).toEqual(records.filter((r) => !poison.has(r)));
          // Every record is settled exactly once and in stream order, so the checkpoint only moves forward.
          expect([...result.succeeded, ...result.discarded].sort((a, b) => a - b)).toEqual(records);
          // A poison record is invoked alone 1 + maxRetryAttempts times: splitting costs no retries.
          const singles = result.sizes.filter((s) => s === 1).length;
          expect(singles).toBeGreaterThanOrEqual(poison.size * (1 + maxRetryAttempts));
        },
      ),
    );
  });
});

describe("expiredPrefixLength", () => {
  const arrival = (r: number) => r;
  it("counts the leading records older than the maximum age", () => {
    expect(expiredPrefixLength([1000, 2000, 9000], arrival, 10_000, 5)).toBe(2);
  });
  it("stops at the first fresh record even if a later one looks older", () => {
    expect(expiredPrefixLength([1000, 9000, 2000], arrival, 10_000, 5)).toBe(1);
  });
  it("never expires with -1", () => {
    expect(expiredPrefixLength([0], arrival, 1e12, -1)).toBe(0);
  });
});
