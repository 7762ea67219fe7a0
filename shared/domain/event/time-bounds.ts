import { type Checked, reject } from "#shared/domain/event/reasons";

/** How far event time may stray from the record's arrival time. */
export interface TimeBounds {
  readonly maxFutureSkewMs: number;
  readonly maxLatenessMs: number;
}

/**
 * Bounds event time by arrival time. Windows are keyed on event time so that replays are
 * deterministic, which means a wrong clock (or a forged timestamp) would otherwise write into
 * windows far from now. Both bounds are inclusive.
 */
export function checkEventTime(occurredAtMs: number, arrivalMs: number, bounds: TimeBounds): Checked<number> {
  const ahead = occurredAtMs - arrivalMs;
  if (ahead > bounds.maxFutureSkewMs) {
    return reject(
      "EVENT_IN_FUTURE",
      `occurredAt: ${ahead} ms after arrival time; at most ${bounds.maxFutureSkewMs} ms allowed`,
    );
  }
  if (-ahead > bounds.maxLatenessMs) {
    return reject(
      "EVENT_TOO_OLD",
      `occurredAt: ${-ahead} ms before arrival time; at most ${bounds.maxLatenessMs} ms allowed`,
    );
  }
  return { ok: true, value: occurredAtMs };
}
