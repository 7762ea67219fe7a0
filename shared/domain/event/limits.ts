import * as z from "zod";

/** Limits a record must stay within before any field is read; all are configurable per decoder. */
export interface DecodeLimits {
  /**
   * Largest accepted record in bytes. Kinesis allows 1 MiB, but a real event is under 2 KiB and
   * the attributes bounds keep even a maximal one under 64 KiB, so anything larger is refused
   * before the decoder spends time on it.
   */
  readonly maxRecordBytes: number;
  /**
   * Deepest accepted nesting of objects and arrays (the record itself is level 1). The contract
   * needs 2 (`geo`, `attributes`); the headroom gives small mistakes a precise SCHEMA_VIOLATION
   * while pathological nesting is cut off at once.
   */
  readonly maxDepth: number;
  /** How far `occurredAt` may lie after the arrival time (producer clocks run fast). */
  readonly maxFutureSkewMs: number;
  /**
   * How far `occurredAt` may lie before the arrival time. Covers producer buffering, stream
   * backlogs and a quarantine replay after a fix within a week.
   */
  readonly maxLatenessMs: number;
}

/** Defaults: 64 KiB, 8 levels, 5 minutes of future skew, 7 days of lateness. */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxRecordBytes: 64 * 1024,
  maxDepth: 8,
  maxFutureSkewMs: 5 * 60 * 1000,
  maxLatenessMs: 7 * 24 * 60 * 60 * 1000,
};

/**
 * Validates decode limits read from configuration (for example environment variables at cold
 * start); missing entries take the defaults.
 */
export const decodeLimitsSchema = z.strictObject({
  maxRecordBytes: z
    .int()
    .min(2)
    .max(1024 * 1024)
    .default(DEFAULT_DECODE_LIMITS.maxRecordBytes),
  maxDepth: z.int().min(2).max(64).default(DEFAULT_DECODE_LIMITS.maxDepth),
  maxFutureSkewMs: z
    .int()
    .min(0)
    .max(24 * 60 * 60 * 1000)
    .default(DEFAULT_DECODE_LIMITS.maxFutureSkewMs),
  maxLatenessMs: z
    .int()
    .min(0)
    .max(365 * 24 * 60 * 60 * 1000)
    .default(DEFAULT_DECODE_LIMITS.maxLatenessMs),
});
