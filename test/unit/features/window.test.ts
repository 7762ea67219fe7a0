import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createMemoryStateStore } from "#shared/adapters/memory-state-table";
import { SCORE_PROCESSING_LAG_MS } from "#shared/adapters/state-store-engine";
import { DEFAULT_DECODE_LIMITS } from "#shared/domain/event/index";
import {
  bucketIndex,
  compareSequenceNumbers,
  compileFeatureSet,
  DEFAULT_LATENESS_ALLOWANCE,
  dataIrrelevantFromMs,
  defaultBucketMs,
  firstKeptBucket,
  formatDuration,
  isLate,
  isSequenceNumber,
  parseDuration,
  reachMs,
  windowRange,
} from "#shared/domain/features/index";

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe("durations", () => {
  it("parses and formats the units s, m, h, d", () => {
    expect(parseDuration("90s")).toBe(90 * S);
    expect(parseDuration("10m")).toBe(10 * M);
    expect(parseDuration("24h")).toBe(D);
    expect(parseDuration("30d")).toBe(30 * D);
    for (const bad of ["", "0m", "01m", "1.5h", "10 m", "10M", "1w", "-1m", "1"])
      expect(parseDuration(bad)).toBeUndefined();
    expect(formatDuration(D)).toBe("1d");
    expect(formatDuration(90 * M)).toBe("90m");
    expect(formatDuration(90 * S)).toBe("90s");
    expect(formatDuration(20 * M)).toBe("20m");
  });
});

describe("default bucket sizes", () => {
  it("cuts common windows into 60 to 90 round buckets", () => {
    const cases: [string, number, number][] = [
      ["1m", 1 * M, S],
      ["10m", 10 * M, 10 * S],
      ["1h", H, M],
      ["90m", 90 * M, M],
      ["24h", D, 20 * M],
      ["7d", 7 * D, 2 * H],
      ["30d", 30 * D, 12 * H],
      ["45m", 45 * M, 30 * S],
      ["3d", 3 * D, H],
    ];
    for (const [text, windowMs, bucketMs] of cases) {
      expect({ text, bucket: defaultBucketMs(windowMs) }).toEqual({ text, bucket: bucketMs });
      expect(windowMs / bucketMs).toBeGreaterThanOrEqual(60);
      expect(windowMs / bucketMs).toBeLessThanOrEqual(90);
    }
  });

  it("has no default when no round unit divides the window", () => {
    expect(defaultBucketMs(61 * S)).toBe(S);
    expect(defaultBucketMs(D + M)).toBe(M); // 1441 buckets: validation refuses it and asks for a bucket
    expect(defaultBucketMs(59 * S)).toBeUndefined();
  });
});

describe("window math", () => {
  const shape = { bucketMs: 10 * S, buckets: 6, latenessMs: 30 * S }; // a 1-minute window

  it("reads the N buckets ending with the event's own, both ends inclusive", () => {
    const t = 1_000_000 * S + 4_321; // in bucket 100000 (the 10 s from t = 1 000 000 s)
    expect(bucketIndex(t, shape.bucketMs)).toBe(100_000);
    expect(windowRange(t, shape)).toEqual({ first: 99_995, last: 100_000 });
    // The window covers between 50 s and 60 s before t: bucket 99995 starts 50 s + 4.321 s earlier.
    expect(t - 99_995 * shape.bucketMs).toBe(54_321);
  });

  it("puts bucket edges on the bucket's start", () => {
    expect(bucketIndex(10 * S - 1, 10 * S)).toBe(0);
    expect(bucketIndex(10 * S, 10 * S)).toBe(1);
  });

  // P = 20 s of processing lag and S = 5 s of future skew: R = 30 + 20 + 5 = 55 s.
  const allowance = { processingLagMs: 20 * S, maxFutureSkewMs: 5 * S };
  const reach = reachMs(shape, allowance);

  it("reaches the lateness plus the processing lag plus the future skew behind the horizon", () => {
    expect(reach).toBe(55 * S);
  });

  it("calls an event late only when its bucket is before the bucket of H − R", () => {
    const horizon = 500 * S; // H − R = 445 s, in bucket 44 (440..449.999 s)
    expect(isLate(440 * S, horizon, shape, reach)).toBe(false);
    expect(isLate(440 * S - 1, horizon, shape, reach)).toBe(true);
    expect(isLate(0, undefined, shape, reach)).toBe(false);
    // An event after the horizon is never late.
    expect(isLate(horizon + 1, horizon, shape, reach)).toBe(false);
  });

  it("keeps exactly the buckets the earliest event that is not late can read", () => {
    const horizon = 500 * S; // the earliest reader is in bucket 44 and reads 39..44
    expect(firstKeptBucket(horizon, shape, reach)).toBe(39);
    expect(windowRange(440 * S, shape).first).toBe(39);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 9 }),
        fc.integer({ min: -(10 ** 6), max: 10 ** 6 }),
        (h, d) => {
          const t = h + d;
          const kept = firstKeptBucket(h, shape, reach);
          // Not late exactly when the whole window lies in what is kept.
          expect(isLate(t, h, shape, reach)).toBe(windowRange(t, shape).first < kept);
        },
      ),
    );
  });

  it("never calls late a record that arrived within the lateness and was read within the processing lag", () => {
    // Every event counted before the read arrived before it and lies at most S after its arrival
    // (H ≤ now + S); the reader arrived at most P before the read and its event lies at most L
    // before its arrival.
    fc.assert(
      fc.property(
        fc.integer({ min: 10 ** 6, max: 10 ** 9 }),
        fc.integer({ min: 0, max: allowance.processingLagMs }),
        fc.integer({ min: -shape.latenessMs, max: allowance.maxFutureSkewMs }),
        fc.integer({ min: 0, max: 10 ** 7 }),
        (arrival, lag, offset, behind) => {
          const now = arrival + lag;
          const horizon = now + allowance.maxFutureSkewMs - behind;
          expect(isLate(arrival + offset, horizon, shape, reach)).toBe(false);
        },
      ),
    );
  });

  it("defaults the allowance to the score function's maximum record age plus timeout and the decoder's skew", () => {
    expect(DEFAULT_LATENESS_ALLOWANCE).toEqual({
      processingLagMs: SCORE_PROCESSING_LAG_MS,
      maxFutureSkewMs: DEFAULT_DECODE_LIMITS.maxFutureSkewMs,
    });
    expect(SCORE_PROCESSING_LAG_MS).toBe(3_660_000);
  });

  it("refuses a negative allowance, which would prune what a reader within reach needs", () => {
    const set = compileFeatureSet({
      features: [{ id: "n", entity: ["deviceId"], aggregation: { type: "count" }, window: "1h" }],
    });
    expect(() => createMemoryStateStore(set, { processingLagMs: -1 })).toThrow("processingLagMs");
    expect(() => createMemoryStateStore(set, { maxFutureSkewMs: 0.5 })).toThrow("maxFutureSkewMs");
    expect(createMemoryStateStore(set, { processingLagMs: 0, maxFutureSkewMs: 0 }).store.lateness).toEqual({
      processingLagMs: 0,
      maxFutureSkewMs: 0,
    });
  });

  it("says when the data falls out of every future window", () => {
    const horizon = 505 * S; // bucket 50; a reader in bucket 56 reads 51..56
    expect(dataIrrelevantFromMs(horizon, shape)).toBe(560 * S);
    expect(windowRange(560 * S, shape).first).toBe(51);
    expect(windowRange(560 * S - 1, shape).first).toBe(50);
  });
});

describe("sequence numbers", () => {
  it("orders canonical decimals numerically, whatever their length", () => {
    const decimal = fc.bigInt({ min: 0n, max: 10n ** 60n }).map(String);
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        const expected = BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
        expect(Math.sign(compareSequenceNumbers(a, b))).toBe(expected);
      }),
    );
    expect(compareSequenceNumbers("99999999999999999999", "100000000000000000000")).toBeLessThan(0);
  });

  it("accepts only canonical decimals", () => {
    expect(isSequenceNumber("49590338271490256608559692538361571095921575989136588898")).toBe(true);
    expect(isSequenceNumber("0")).toBe(true);
    for (const bad of ["", "01", "-1", "1e5", " 1", "1.0", "1".repeat(130)])
      expect(isSequenceNumber(bad)).toBe(false);
  });
});
