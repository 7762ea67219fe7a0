import * as z from "zod";
import { ATTACK_TYPES, ATTACK_VARIANTS } from "#shared/domain/simulation/ground-truth";

/** How many instances of one attack to stage. */
export const attackPlanSchema = z.strictObject({
  type: z.enum(ATTACK_TYPES),
  variant: z.enum(ATTACK_VARIANTS),
  /** Independent instances: farms, brushing shops, victims, testers, bot runs. */
  instances: z.number().int().min(0).max(1000),
});
export type AttackPlan = z.infer<typeof attackPlanSchema>;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Everything a simulation depends on. Same config, same events and same labels: there is no
 * clock and no global randomness below it.
 */
export const simulationConfigSchema = z
  .strictObject({
    seed: z.number().int().min(0).max(0xffff_ffff),
    /** Start of the live (measured) window, epoch ms. History lies before it. */
    startMs: z
      .number()
      .int()
      .min(Date.UTC(2000, 0, 1)),
    /** Length of the live window in hours. */
    liveHours: z.number().positive().max(72),
    /** Days of history before the live window (0: a cold start, every entity new). */
    historyDays: z.number().min(0).max(6),
    /** Established users (registered before the history window). */
    users: z.number().int().min(10).max(200_000),
    /** New legitimate accounts per established user per live day. */
    newUsersPerDay: z.number().min(0).max(1),
    attacks: z.array(attackPlanSchema).max(50).readonly(),
  })
  .refine((c) => c.liveHours * HOUR_MS + c.historyDays * DAY_MS <= 7 * DAY_MS, {
    message: "history plus live window must fit in the pipeline's 7-day lateness bound",
  });
export type SimulationConfig = z.infer<typeof simulationConfigSchema>;

/** The attack mix of the default simulation: both variants of every attack. */
export const DEFAULT_ATTACKS: readonly AttackPlan[] = [
  { type: "coupon_farming", variant: "burst", instances: 2 },
  { type: "coupon_farming", variant: "slow", instances: 2 },
  { type: "order_brushing", variant: "burst", instances: 1 },
  { type: "order_brushing", variant: "slow", instances: 1 },
  { type: "account_takeover", variant: "burst", instances: 6 },
  { type: "account_takeover", variant: "slow", instances: 8 },
  { type: "card_testing", variant: "burst", instances: 1 },
  { type: "card_testing", variant: "slow", instances: 1 },
  { type: "registration_burst", variant: "burst", instances: 2 },
  { type: "registration_burst", variant: "slow", instances: 1 },
  { type: "sim_swap_takeover", variant: "burst", instances: 3 },
  { type: "sim_swap_takeover", variant: "slow", instances: 3 },
  { type: "sms_farm", variant: "burst", instances: 1 },
  { type: "sms_farm", variant: "slow", instances: 1 },
  { type: "credential_stuffing", variant: "burst", instances: 1 },
  { type: "credential_stuffing", variant: "slow", instances: 1 },
  { type: "paid_brushing", variant: "burst", instances: 1 },
  { type: "paid_brushing", variant: "slow", instances: 1 },
  { type: "referral_abuse", variant: "burst", instances: 1 },
  { type: "referral_abuse", variant: "slow", instances: 1 },
  { type: "scalping", variant: "burst", instances: 1 },
  { type: "scalping", variant: "slow", instances: 1 },
  { type: "card_cashout", variant: "burst", instances: 1 },
  { type: "card_cashout", variant: "slow", instances: 2 },
];

/** Defaults of everything but the seed and the start. */
export const DEFAULT_SIMULATION = {
  liveHours: 24,
  historyDays: 5,
  users: 800,
  newUsersPerDay: 0.04,
  attacks: DEFAULT_ATTACKS,
} as const satisfies Omit<SimulationConfig, "seed" | "startMs">;

/** The seed `npm start` and the README's quality table use. */
export const DEFAULT_SEED = 20_260_301;

/** `DEFAULT_ATTACKS` with every instance count multiplied by `scale` (rounded, at least 1 when scale > 0). */
export function scaledAttacks(scale: number, base: readonly AttackPlan[] = DEFAULT_ATTACKS): AttackPlan[] {
  return base.map((plan) => ({
    ...plan,
    instances: scale <= 0 ? 0 : Math.max(1, Math.round(plan.instances * scale)),
  }));
}

/** Safety margin kept below the lateness bound for the run itself to finish. */
export const RUN_MARGIN_MS = 12 * HOUR_MS;
/** Distance the live window ends before "now", so that no event is ever ahead of its arrival. */
export const END_MARGIN_MS = 60_000;

/**
 * Where to put a simulation's timeline so that every event stays inside the pipeline's event-time
 * bounds when it is put on the stream from `nowMs` on: the live window ends a minute before now
 * (no event can be ahead of its arrival, whatever the acceleration), and the oldest history event
 * is younger than 7 days minus a 12-hour margin for the run itself. Returns the live window's
 * start, rounded down to the second.
 */
export function anchorBeforeNow(
  nowMs: number,
  timeline: { readonly liveHours: number; readonly historyDays: number },
): number {
  const span = timeline.liveHours * HOUR_MS + timeline.historyDays * DAY_MS;
  if (span + END_MARGIN_MS + RUN_MARGIN_MS > 7 * DAY_MS) {
    throw new RangeError(
      `history (${timeline.historyDays} d) plus live window (${timeline.liveHours} h) must stay under 6.5 days to be put on the stream`,
    );
  }
  const end = nowMs - END_MARGIN_MS;
  return Math.floor((end - timeline.liveHours * HOUR_MS) / 1000) * 1000;
}
