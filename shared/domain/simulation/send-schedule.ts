/**
 * When a simulation's events are put on the stream, relative to the start of sending. Pure; the
 * driver (`local/traffic-driver.ts`) follows it with a real clock.
 *
 * Event time and sending time are separate on purpose: event time is fixed by the simulation
 * (so a run is reproducible and lies inside the pipeline's event-time bounds, see
 * `anchorBeforeNow`), while pacing only decides how fast those events arrive.
 */

/** How fast to send the live window. */
export type Pacing =
  /** Event time runs `factor` times faster than the wall clock (1440: a simulated day a minute). */
  | { readonly kind: "speedup"; readonly factor: number }
  /** A constant number of events per second, whatever their event times. */
  | { readonly kind: "rate"; readonly perSecond: number }
  /** As fast as the stream takes them. */
  | { readonly kind: "max" };

/** Send offsets in ms for each event, index for index. */
export interface SendSchedule {
  /** Indices of the history events: sent first, as fast as possible (a backfill). */
  readonly backfill: readonly number[];
  /** Indices of the live events with their offsets from the start of the live phase, ascending. */
  readonly live: ReadonlyArray<{ readonly index: number; readonly atMs: number }>;
}

/**
 * Plans sending: history first as a backfill, then the live window paced. Events must be sorted
 * by event time (as `simulate` returns them); `times[i]` is event i's time in epoch ms.
 */
export function planSending(
  times: readonly number[],
  phases: ReadonlyArray<"history" | "live">,
  liveStart: number,
  pacing: Pacing,
): SendSchedule {
  if (pacing.kind === "speedup" && !(pacing.factor > 0)) throw new RangeError("speedup must be positive");
  if (pacing.kind === "rate" && !(pacing.perSecond > 0)) throw new RangeError("rate must be positive");
  const backfill: number[] = [];
  const live: Array<{ index: number; atMs: number }> = [];
  times.forEach((t, index) => {
    if (phases[index] === "history") {
      backfill.push(index);
      return;
    }
    let atMs = 0;
    if (pacing.kind === "speedup") atMs = Math.max(0, (t - liveStart) / pacing.factor);
    else if (pacing.kind === "rate") atMs = (live.length * 1000) / pacing.perSecond;
    live.push({ index, atMs });
  });
  return { backfill, live };
}
