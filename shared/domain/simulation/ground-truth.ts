import * as z from "zod";
import { EVENT_TYPES } from "#shared/domain/event/index";
import { CATEGORY_PATTERN } from "#shared/domain/labels/index";

/**
 * Ground truth of simulated traffic: what generated each event. It travels in a side file keyed
 * by eventId and never inside the events, so the pipeline cannot see it and an evaluation
 * cannot be fooled by it.
 */

/**
 * The attacks the simulator stages (docs/simulator.md describes each and the trace it leaves):
 * the first five since the simulator began, the rest from the risk-control literature: SIM-swap
 * takeover (盗号 through a ported number), SMS-activation farms (接码), credential stuffing (撞库),
 * order brushing by real paid accounts (刷单), referral abuse, scalping, stolen-card cash-out.
 */
export const ATTACK_TYPES = [
  "coupon_farming",
  "order_brushing",
  "account_takeover",
  "card_testing",
  "registration_burst",
  "sim_swap_takeover",
  "sms_farm",
  "credential_stuffing",
  "paid_brushing",
  "referral_abuse",
  "scalping",
  "card_cashout",
] as const;
export type AttackType = (typeof ATTACK_TYPES)[number];

/** `burst`: the textbook pattern; `slow`: spread out to stay under naive thresholds. */
export const ATTACK_VARIANTS = ["burst", "slow"] as const;
export type AttackVariant = (typeof ATTACK_VARIANTS)[number];

/**
 * Legitimate behaviours, including the look-alikes that make fraud detection hard. An event gets
 * the first that applies, in this order.
 */
export const LEGIT_KINDS = [
  "new_user",
  "campus",
  "new_device",
  "vpn",
  "travel",
  "flash_sale",
  "shared_card",
  "family_device",
  "office",
  "carrier_nat",
  "regular",
] as const;
export type LegitKind = (typeof LEGIT_KINDS)[number];

/**
 * `history`: the days before the measured window, which give the population its devices, IPs
 * and last-seen times (feature state a running system would have); `live`: the measured window.
 */
export const PHASES = ["history", "live"] as const;
export type Phase = (typeof PHASES)[number];

const common = {
  eventId: z.string().min(1),
  type: z.enum(EVENT_TYPES),
  occurredAt: z.string().min(1),
  phase: z.enum(PHASES),
};

/**
 * A category name in a ground-truth file: the simulator writes the names above, but the names are
 * open (any name the label contract accepts), so truth files of other generators evaluate too.
 */
const category = z.string().regex(CATEGORY_PATTERN, "a category: letters, digits and _ . / - (at most 64)");

/** One line of a ground-truth file. */
export const groundTruthSchema = z.discriminatedUnion("label", [
  z.strictObject({
    ...common,
    label: z.literal("legit"),
    kind: category,
    /** The customer (account) the event is of, so friction can be counted per customer. */
    customer: z.string().min(1).optional(),
  }),
  z.strictObject({
    ...common,
    label: z.literal("attack"),
    attack: category,
    /** The variant (the simulator's burst or slow); optional for other generators. */
    variant: category.optional(),
    /** The attack instance (one farm, one victim, one tester) the event belongs to. */
    actor: z.string().min(1).optional(),
  }),
]);
export type GroundTruth = z.infer<typeof groundTruthSchema>;
export type LegitTruth = Extract<GroundTruth, { label: "legit" }>;
export type AttackTruth = Extract<GroundTruth, { label: "attack" }>;

/** Parses a ground-truth NDJSON text; throws naming the first bad line. */
export function parseGroundTruth(text: string): GroundTruth[] {
  const out: GroundTruth[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`ground truth line ${i + 1}: not JSON`);
    }
    const parsed = groundTruthSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`ground truth line ${i + 1}: ${issue?.path.join(".") || "line"}: ${issue?.message}`);
    }
    out.push(parsed.data);
  });
  return out;
}

/**
 * The challenges each simulated attack can pass, and why: a challenge it passes is friction for
 * the attacker, not a catch. An SMS code goes to whoever holds the number: the SIM swapper, the
 * farm renting numbers, the real paid buyer, the account's own creator. A face check is passed by
 * a real person acting on their own account (paid brushing; the cash-out ring's and scalpers'
 * accounts were made by them, with their faces). Attacks not listed pass neither.
 */
export const PASSABLE_CHALLENGES: Readonly<Record<string, readonly ("challenge_sms" | "challenge_face")[]>> =
  {
    coupon_farming: ["challenge_sms"],
    order_brushing: ["challenge_sms"],
    registration_burst: ["challenge_sms"],
    sim_swap_takeover: ["challenge_sms"],
    sms_farm: ["challenge_sms"],
    paid_brushing: ["challenge_sms", "challenge_face"],
    referral_abuse: ["challenge_sms"],
    scalping: ["challenge_sms", "challenge_face"],
    card_cashout: ["challenge_sms", "challenge_face"],
    card_testing: ["challenge_sms"],
  };
