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
  /** How far behind the feature's horizon an event may be and still count (L). */
  readonly latenessMs: number;
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
 * Whether an event at time t is too late for a feature whose horizon (latest counted event
 * time) is `horizon`: t < horizon − L. A too-late event neither counts nor reads the feature.
 */
export function isTooLate(timeMs: number, horizon: number | undefined, latenessMs: number): boolean {
  return horizon !== undefined && timeMs < horizon - latenessMs;
}

/**
 * The oldest bucket any event that is not too late can still read: bucket(H − L) − N + 1.
 * Older buckets can be dropped without changing any value.
 */
export function firstLiveBucket(horizon: number, shape: WindowShape): number {
  return bucketIndex(horizon - shape.latenessMs, shape.bucketMs) - shape.buckets + 1;
}

/**
 * The earliest event time whose window no longer reaches the horizon's bucket:
 * (bucket(H) + N) · g. From then on the feature's stored data cannot be read by any event.
 */
export function dataIrrelevantFromMs(horizon: number, shape: WindowShape): number {
  return (bucketIndex(horizon, shape.bucketMs) + shape.buckets) * shape.bucketMs;
}
