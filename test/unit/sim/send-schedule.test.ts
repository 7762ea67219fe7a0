import { describe, expect, it } from "vitest";
import { checkEventTime, DEFAULT_DECODE_LIMITS } from "#shared/domain/event/index";
import {
  anchorBeforeNow,
  DEFAULT_SEED,
  DEFAULT_SIMULATION,
  planSending,
  simulate,
} from "#shared/domain/simulation/index";

const HOUR = 3_600_000;

describe("planSending", () => {
  const times = [-2 * HOUR, -HOUR, 0, HOUR, 24 * HOUR - 1];
  const phases = ["history", "history", "live", "live", "live"] as const;

  it("sends history first as a backfill, then live events at their event-time offset divided by the speedup", () => {
    expect(planSending(times, phases, 0, { kind: "speedup", factor: 1440 })).toEqual({
      backfill: [0, 1],
      live: [
        { index: 2, atMs: 0 },
        { index: 3, atMs: 2500 },
        { index: 4, atMs: (24 * HOUR - 1) / 1440 },
      ],
    });
  });

  it("paces a constant rate whatever the event times", () => {
    expect(planSending(times, phases, 0, { kind: "rate", perSecond: 4 }).live.map((l) => l.atMs)).toEqual([
      0, 250, 500,
    ]);
  });

  it("sends everything at once at max rate, and refuses a speedup or rate that is not positive", () => {
    expect(planSending(times, phases, 0, { kind: "max" }).live.map((l) => l.atMs)).toEqual([0, 0, 0]);
    expect(() => planSending(times, phases, 0, { kind: "speedup", factor: 0 })).toThrow(RangeError);
    expect(() => planSending(times, phases, 0, { kind: "rate", perSecond: -1 })).toThrow(RangeError);
  });

  it("keeps every event of an anchored simulation inside the pipeline's event-time bounds at any pace", () => {
    const now = Date.parse("2026-11-22T03:54:06.789Z");
    const timeline = { liveHours: 24, historyDays: 5 };
    const sim = simulate({
      ...DEFAULT_SIMULATION,
      ...timeline,
      users: 100,
      seed: DEFAULT_SEED,
      startMs: anchorBeforeNow(now, timeline),
    });
    const eventTimes = sim.events.map((e) => Date.parse(e.occurredAt));
    const bounds = {
      maxFutureSkewMs: DEFAULT_DECODE_LIMITS.maxFutureSkewMs,
      maxLatenessMs: DEFAULT_DECODE_LIMITS.maxLatenessMs,
    };
    for (const pacing of [
      { kind: "speedup", factor: 1 },
      { kind: "speedup", factor: 1440 },
      { kind: "speedup", factor: 1e9 },
      { kind: "max" },
    ] as const) {
      const plan = planSending(
        eventTimes,
        sim.truth.map((t) => t.phase),
        sim.timeline.liveStart,
        pacing,
      );
      // Arrival: the backfill at `now`, live events their offset after it. Sending later than planned
      // only moves events away from the future bound; the 12-hour run margin covers the lateness one.
      for (const i of plan.backfill) expect(checkEventTime(eventTimes[i] ?? 0, now, bounds).ok).toBe(true);
      for (const { index, atMs } of plan.live) {
        expect(checkEventTime(eventTimes[index] ?? 0, now + atMs, bounds).ok).toBe(true);
        expect(checkEventTime(eventTimes[index] ?? 0, now + atMs + 12 * HOUR, bounds).ok).toBe(true);
      }
    }
  });
});
