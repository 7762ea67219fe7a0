import { describe, expect, it } from "vitest";
import { decodeRecord } from "#shared/domain/event/index";
import {
  ATTACK_TYPES,
  anchorBeforeNow,
  DEFAULT_SEED,
  DEFAULT_SIMULATION,
  END_MARGIN_MS,
  type GroundTruth,
  groundTruthSchema,
  parseGroundTruth,
  RUN_MARGIN_MS,
  type SimulationConfig,
  simulate,
} from "#shared/domain/simulation/index";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.parse("2026-03-10T00:00:00.000Z");

const config = (overrides: Partial<SimulationConfig> = {}): SimulationConfig => ({
  ...DEFAULT_SIMULATION,
  seed: DEFAULT_SEED,
  startMs: START,
  users: 300,
  ...overrides,
});

const ndjson = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n");
const countBy = <T>(items: readonly T[], key: (t: T) => string) => {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
};
const sliceOf = (t: GroundTruth) => (t.label === "legit" ? `legit/${t.kind}` : `${t.attack}/${t.variant}`);

describe("simulate", () => {
  const sim = simulate(config());

  it("gives the same events and the same labels for the same seed", () => {
    const again = simulate(config());
    expect(ndjson(again.events)).toBe(ndjson(sim.events));
    expect(ndjson(again.truth)).toBe(ndjson(sim.truth));
  });

  it("gives other events for another seed", () => {
    const other = simulate(config({ seed: DEFAULT_SEED + 1 }));
    const ids = new Set(sim.events.map((e) => e.eventId));
    expect(other.events.filter((e) => ids.has(e.eventId))).toEqual([]);
  });

  it("pins the default mix: events per phase and per slice for seed 20260301 with 300 users", () => {
    expect(sim.events.length).toBe(sim.truth.length);
    expect(countBy(sim.truth, (t) => t.phase)).toEqual({ history: PINNED.history, live: PINNED.live });
    expect(
      countBy(
        sim.truth.filter((t) => t.phase === "live"),
        sliceOf,
      ),
    ).toEqual(PINNED.liveSlices);
  });

  it("moves every event by the same amount when only the start changes", () => {
    const later = simulate(config({ startMs: START + 3 * DAY + 12_345 }));
    expect(later.events.map((e) => e.eventId)).toEqual(sim.events.map((e) => e.eventId));
    expect(later.truth.map(sliceOf)).toEqual(sim.truth.map(sliceOf));
    later.events.forEach((e, i) => {
      expect(Date.parse(e.occurredAt) - Date.parse(sim.events[i]?.occurredAt ?? "")).toBe(3 * DAY + 12_345);
      expect({ ...e, occurredAt: "" }).toEqual({ ...sim.events[i], occurredAt: "" });
    });
  });

  it("writes valid events that clean to themselves, in event-time order, inside the timeline", () => {
    const arrivalTime = new Date(sim.timeline.liveEnd + END_MARGIN_MS);
    let previous = Number.NEGATIVE_INFINITY;
    for (const event of sim.events) {
      const decoded = decodeRecord(new TextEncoder().encode(JSON.stringify(event)), { arrivalTime });
      expect(decoded).toEqual({ ok: true, event });
      const t = Date.parse(event.occurredAt);
      expect(t).toBeGreaterThanOrEqual(previous);
      expect(t).toBeGreaterThanOrEqual(sim.timeline.historyStart);
      expect(t).toBeLessThan(sim.timeline.liveEnd);
      previous = t;
    }
    expect(sim.timeline).toEqual({ historyStart: START - 5 * DAY, liveStart: START, liveEnd: START + DAY });
  });

  it("keys the truth by eventId, index for index, with unique ids and the phase the time says", () => {
    expect(new Set(sim.events.map((e) => e.eventId)).size).toBe(sim.events.length);
    sim.truth.forEach((t, i) => {
      const event = sim.events[i];
      expect(groundTruthSchema.parse(t)).toEqual(t);
      expect(t.eventId).toBe(event?.eventId);
      expect(t.type).toBe(event?.type);
      expect(t.occurredAt).toBe(event?.occurredAt);
      expect(t.phase).toBe(Date.parse(t.occurredAt) < START ? "history" : "live");
    });
    expect(parseGroundTruth(`${ndjson(sim.truth)}\n`)).toEqual(sim.truth);
  });

  it("never lets the truth into the events: no label field, no attack name, identifiers alike", () => {
    const text = ndjson(sim.events);
    for (const word of [...ATTACK_TYPES, "attack", "label", "legit", "burst", "slow"]) {
      expect(text).not.toContain(word);
    }
    const attackers = sim.events.filter((_, i) => sim.truth[i]?.label === "attack");
    const customers = sim.events.filter((_, i) => sim.truth[i]?.label === "legit");
    for (const group of [attackers, customers]) {
      for (const e of group) {
        expect(e.eventId).toMatch(/^evt_[0-9a-f]{20}$/);
        expect(e.userId).toMatch(/^u_[0-9a-f]{12}$/);
        expect(e.deviceId).toMatch(/^d_[0-9a-f]{14}$/);
      }
    }
  });

  it("stages no attack when none is asked for, and leaves the legitimate traffic as it was", () => {
    const quiet = simulate(config({ attacks: [] }));
    expect(quiet.truth.filter((t) => t.label === "attack")).toEqual([]);
    const legit = (s: typeof sim) =>
      ndjson(s.events.filter((_, i) => s.truth[i]?.label === "legit").map((e) => ({ ...e, eventId: "" })));
    expect(legit(quiet)).toBe(legit(sim));
  });

  it("refuses a timeline longer than the pipeline's 7-day lateness bound", () => {
    expect(() => simulate(config({ historyDays: 6, liveHours: 48 }))).toThrow(/7-day lateness bound/);
  });
});

describe("anchorBeforeNow", () => {
  const now = Date.parse("2026-11-22T03:54:06.789Z");

  it("ends the live window a minute before now, on a whole second", () => {
    const start = anchorBeforeNow(now, { liveHours: 24, historyDays: 5 });
    expect(start).toBe(Date.parse("2026-11-21T03:53:06.000Z"));
    expect(start + DAY).toBeLessThanOrEqual(now - END_MARGIN_MS);
  });

  it("keeps the oldest event 12 hours inside the 7-day bound, or refuses", () => {
    const start = anchorBeforeNow(now, { liveHours: 24, historyDays: 5.45 });
    expect(now - (start - 5.45 * DAY)).toBeLessThanOrEqual(7 * DAY - RUN_MARGIN_MS);
    expect(() => anchorBeforeNow(now, { liveHours: 24, historyDays: 5.5 })).toThrow(/6.5 days/);
  });
});

/** Counts for seed 20260301, 300 users, the default attacks; change only with the generator. */
const PINNED = {
  history: 1895,
  live: 1686,
  liveSlices: {
    "account_takeover/burst": 67,
    "account_takeover/slow": 28,
    "card_cashout/burst": 9,
    "card_cashout/slow": 30,
    "card_testing/burst": 52,
    "card_testing/slow": 15,
    "coupon_farming/burst": 54,
    "coupon_farming/slow": 48,
    "credential_stuffing/burst": 55,
    "credential_stuffing/slow": 36,
    "legit/campus": 20,
    "legit/carrier_nat": 241,
    "legit/family_device": 30,
    "legit/flash_sale": 45,
    "legit/new_device": 8,
    "legit/new_user": 26,
    "legit/office": 37,
    "legit/regular": 437,
    "legit/shared_card": 6,
    "legit/travel": 25,
    "legit/vpn": 22,
    "order_brushing/burst": 56,
    "order_brushing/slow": 32,
    "paid_brushing/burst": 30,
    "paid_brushing/slow": 20,
    "referral_abuse/burst": 26,
    "referral_abuse/slow": 30,
    "registration_burst/burst": 58,
    "registration_burst/slow": 25,
    "scalping/burst": 42,
    "scalping/slow": 20,
    "sim_swap_takeover/burst": 17,
    "sim_swap_takeover/slow": 9,
    "sms_farm/burst": 18,
    "sms_farm/slow": 12,
  },
};
