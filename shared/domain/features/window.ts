/**
 * Window math: the one place that says which buckets an event at time t reads and writes.
 * See docs/features.md, "Window semantics". All times are epoch milliseconds of event time.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Bucket sizes a window is cut into by default: "round" units, so that buckets align with
 * clock minutes, hours and UTC days and a bucket index is easy to read back as a time.
 */
export const BUCKET_UNITS_MS: readonly number[] = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  20 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  4 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
];

/** A window is cut into at least this many buckets by default: its edge moves in steps of at most 1/60. */
export const TARGET_BUCKETS = 60;

/** At most this many buckets per window, so that an entity item stays small. */
export const MAX_BUCKETS = 240;

/** Shortest and longest windows a feature may have. */
export const MIN_WINDOW_MS = MINUTE;
export const MAX_WINDOW_MS = 30 * DAY;

/**
 * The default bucket size of a window: the largest unit of BUCKET_UNITS_MS that is at most
 * window/60 and divides the window, or undefined when no unit does (the window then needs an
 * explicit bucket size).
 */
export function defaultBucketMs(windowMs: number): number | undefined {
  let best: number | undefined;
  for (const unit of BUCKET_UNITS_MS) {
    if (unit * TARGET_BUCKETS <= windowMs && windowMs % unit === 0) best = unit;
  }
  return best;
}

/** The shape of one feature's window, as the state transition and the reads need it. */
export interface WindowShape {
  /** Bucket size g in milliseconds. */
  readonly bucketMs: number;
  /** Buckets per window, N = window / g. */
  readonly buckets: number;
  /**
   * The feature's lateness L: how long after its event time a record may arrive and still be
   * guaranteed to read its window (docs/features.md, section 3).
   */
  readonly latenessMs: number;
}

/**
 * What the store keeps behind a feature's horizon besides the feature's lateness, so that a
 * record that arrived within the lateness is never late however far other records ran ahead:
 * - `processingLagMs` (P): the longest a record can wait between its arrival on the stream and
 *   the read of its batch (the event source mapping's maximum record age plus the function's
 *   timeout);
 * - `maxFutureSkewMs` (S): how far an event time may lie after its record's arrival (the
 *   decoder's bound).
 */
export interface LatenessAllowance {
  readonly processingLagMs: number;
  readonly maxFutureSkewMs: number;
}

/**
 * The allowance of the score function with its shipped settings: P = 3,600 s maximum record age
 * + 60 s timeout of the score function's event source mapping (shared/resources.ts; a unit test
 * keeps the two equal), S = the decoder's 5 minutes.
 */
export const DEFAULT_LATENESS_ALLOWANCE: LatenessAllowance = {
  processingLagMs: 3_660_000,
  maxFutureSkewMs: 300_000,
};

/**
 * The reach R = L + P + S of a feature: how far behind its horizon an event may be and still
 * read its window.
 */
export function reachMs(shape: WindowShape, allowance: LatenessAllowance): number {
  return shape.latenessMs + allowance.processingLagMs + allowance.maxFutureSkewMs;
}

/** Index of the bucket holding time t: floor(t / g). Bucket k covers [k·g, (k+1)·g). */
export function bucketIndex(timeMs: number, bucketMs: number): number {
  return Math.floor(timeMs / bucketMs);
}

/**
 * The buckets an event at time t reads: the N buckets ending with its own,
 * [bucket(t) − N + 1, bucket(t)], both inclusive.
 */
export function windowRange(timeMs: number, shape: WindowShape): { first: number; last: number } {
  const last = bucketIndex(timeMs, shape.bucketMs);
  return { first: last - shape.buckets + 1, last };
}

/**
 * Whether an event at time t is late for a feature whose horizon (latest event time counted,
 * undefined when none) is `horizon`: its bucket lies before the bucket of H − R, so its window
 * may reach data the store no longer keeps. A late event reads null; it still counts.
 */
export function isLate(
  timeMs: number,
  horizon: number | undefined,
  shape: WindowShape,
  reach: number,
): boolean {
  return (
    horizon !== undefined &&
    bucketIndex(timeMs, shape.bucketMs) < bucketIndex(horizon - reach, shape.bucketMs)
  );
}

/**
 * The first bucket the store keeps: bucket(H − R) − N + 1, the first bucket of the window of the
 * earliest event that is not late. Older buckets can be dropped without changing any value an
 * event can read.
 */
export function firstKeptBucket(horizon: number, shape: WindowShape, reach: number): number {
  return bucketIndex(horizon - reach, shape.bucketMs) - shape.buckets + 1;
}

/**
 * The earliest event time whose window no longer reaches the horizon's bucket:
 * (bucket(H) + N) · g. From then on the feature's stored data cannot be read by any event.
 */
export function dataIrrelevantFromMs(horizon: number, shape: WindowShape): number {
  return (bucketIndex(horizon, shape.bucketMs) + shape.buckets) * shape.bucketMs;
}
