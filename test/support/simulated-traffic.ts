import type { CleanEvent, EventType } from "#shared/domain/event/index";

/**
 * Simulated scored traffic: clean events with the feature values the default feature set would
 * give them, labelled benign or fraudulent by the pattern that generated them. Used to fit the
 * default model (test/support/default-model.ts) and as the benchmark's mix. Deterministic for a
 * seed.
 *
 * This is simulation, not data: the patterns encode the textbook signals (device farms, coupon
 * farming, card testing, account takeover, order brushing) plus benign look-alikes (families
 * sharing a device, offices behind one IP, travellers on a new device), so a model fit on it
 * learns plausible signs and magnitudes, not the distribution of any real business.
 */

/** One simulated event. */
export interface SimulatedEvent {
  readonly event: CleanEvent;
  readonly features: Readonly<Record<string, number | null>>;
  readonly label: 0 | 1;
  readonly pattern: string;
}

/** Share of each pattern in a stream (weights, normalized by the generator). */
export type PatternMix = Readonly<Record<PatternName, number>>;

/** The patterns. */
export type PatternName =
  | "register"
  | "register_family"
  | "register_office"
  | "login"
  | "login_new_device"
  | "order"
  | "payment"
  | "payment_no_card"
  | "coupon"
  | "coupon_office"
  | "device_farm"
  | "coupon_farm"
  | "card_testing"
  | "account_takeover"
  | "order_brushing";

/** Roughly what a production stream looks like: about 2% fraud. */
export const PRODUCTION_MIX: PatternMix = {
  register: 6,
  register_family: 0.6,
  register_office: 0.4,
  login: 38,
  login_new_device: 3,
  order: 20,
  payment: 17,
  payment_no_card: 2,
  coupon: 9,
  coupon_office: 1,
  device_farm: 0.5,
  coupon_farm: 0.6,
  card_testing: 0.4,
  account_takeover: 0.3,
  order_brushing: 0.2,
};

/** A mix with enough fraud to fit a model on (about 25%). */
export const TRAINING_MIX: PatternMix = {
  ...PRODUCTION_MIX,
  register_family: 2,
  register_office: 2,
  login_new_device: 6,
  coupon_office: 3,
  device_farm: 6,
  coupon_farm: 7,
  card_testing: 7,
  account_takeover: 6,
  order_brushing: 5,
};

/** Share of fraud labels a mix gives: fraud patterns' share, with label noise flipping some either way. */
export function expectedFraudRate(mix: PatternMix, labelNoise = 0.01): number {
  const names = Object.keys(mix) as PatternName[];
  const total = names.reduce((s, n) => s + mix[n], 0);
  const fraud = names.filter((n) => FRAUD.has(n)).reduce((s, n) => s + mix[n], 0) / total;
  return fraud * (1 - labelNoise) + (1 - fraud) * labelNoise;
}

const FRAUD: ReadonlySet<PatternName> = new Set([
  "device_farm",
  "coupon_farm",
  "card_testing",
  "account_takeover",
  "order_brushing",
]);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// date-safe: event time of simulated traffic for model training in unit tests, never stored.
const START = Date.parse("2026-03-01T00:00:00.000Z");
const COUNTRIES = ["US", "GB", "DE", "FR", "JP", "CN", "BR", "IN"] as const;
const DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "example.com", "proton.me"] as const;

/** mulberry32: a small, fast, well-mixed 32-bit generator. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `count` simulated events drawn from `mix`, deterministic for `seed`. */
export function simulateTraffic(
  count: number,
  options: { seed: number; mix?: PatternMix; labelNoise?: number },
): SimulatedEvent[] {
  const rand = prng(options.seed);
  const mix = options.mix ?? PRODUCTION_MIX;
  const noise = options.labelNoise ?? 0.01;
  const names = Object.keys(mix) as PatternName[];
  const total = names.reduce((s, n) => s + mix[n], 0);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const out: SimulatedEvent[] = [];
  for (let i = 0; i < count; i++) {
    let r = rand() * total;
    let pattern = names[names.length - 1] as PatternName;
    for (const n of names) {
      r -= mix[n];
      if (r < 0) {
        pattern = n;
        break;
      }
    }
    const now = START + i * 997;
    const ctx: Ctx = { rand, int, pick, now, i };
    const { type, features, event } = PATTERNS[pattern](ctx);
    const fraud = FRAUD.has(pattern);
    const label: 0 | 1 = rand() < noise ? (fraud ? 0 : 1) : fraud ? 1 : 0;
    out.push({
      event: makeEvent(ctx, type, event),
      features: { ...baseline(ctx, type), ...features },
      label,
      pattern,
    });
  }
  return out;
}

interface Ctx {
  readonly rand: () => number;
  readonly int: (lo: number, hi: number) => number;
  readonly pick: <T>(xs: readonly T[]) => T;
  readonly now: number;
  readonly i: number;
}

interface Shape {
  readonly type: EventType;
  readonly features: Record<string, number | null>;
  readonly event?: {
    readonly amount?: string;
    readonly currency?: string;
    readonly noCard?: boolean;
    readonly country?: string;
  };
}

/** An established account on its usual device: what every pattern starts from. */
function baseline(c: Ctx, type: EventType): Record<string, number | null> {
  const deviceSince = c.now - c.int(2, 29) * DAY;
  return {
    devices_per_user_1h: 1,
    devices_per_user_24h: c.int(1, 2),
    ips_per_user_1h: 1,
    ips_per_user_24h: c.int(1, 3),
    logins_per_user_10m: type === "login" ? 1 : 0,
    order_amount_per_user_24h: type === "order" ? c.int(500, 20_000) : 0,
    user_last_seen_30d: c.now - c.int(10, 3 * 24 * 60) * 60_000,
    accounts_per_device_1h: 1,
    accounts_per_device_24h: 1,
    registrations_per_device_24h: 0,
    cards_per_device_24h: type === "payment" ? 1 : 0,
    device_first_seen_30d: deviceSince,
    accounts_per_ip_1h: c.int(1, 2),
    accounts_per_ip_24h: c.int(1, 4),
    registrations_per_ip_1h: 0,
    card_spend_24h: type === "payment" ? c.int(500, 20_000) : null,
    payments_per_card_10m: type === "payment" ? 1 : null,
    accounts_per_card_24h: type === "payment" ? 1 : null,
    accounts_per_phone_24h: 1,
    user_device_first_seen_30d: deviceSince,
    coupon_claims_per_device_campaign_24h: type === "coupon_claim" ? 1 : null,
    coupon_claims_per_ip_campaign_24h: type === "coupon_claim" ? 1 : null,
    countries_per_user_1h: 1,
  };
}

/** A brand-new account on a device first seen now. */
function fresh(c: Ctx): Record<string, number | null> {
  return {
    user_last_seen_30d: null,
    user_device_first_seen_30d: c.now,
    devices_per_user_1h: 1,
    devices_per_user_24h: 1,
    ips_per_user_1h: 1,
    ips_per_user_24h: 1,
    registrations_per_device_24h: 1,
    registrations_per_ip_1h: 1,
  };
}

const PATTERNS: Readonly<Record<PatternName, (c: Ctx) => Shape>> = {
  register: (c) => ({ type: "register", features: { ...fresh(c), device_first_seen_30d: c.now } }),
  register_family: (c) => ({
    type: "register",
    features: {
      ...fresh(c),
      accounts_per_device_1h: c.int(1, 2),
      accounts_per_device_24h: c.int(2, 3),
      registrations_per_device_24h: 2,
    },
  }),
  register_office: (c) => ({
    type: "register",
    features: {
      ...fresh(c),
      accounts_per_ip_1h: c.int(5, 40),
      accounts_per_ip_24h: c.int(20, 200),
      registrations_per_ip_1h: c.int(2, 8),
    },
  }),
  login: (c) => ({ type: "login", features: { logins_per_user_10m: c.int(1, 2) } }),
  login_new_device: (c) => ({
    type: "login",
    features: {
      user_device_first_seen_30d: c.now,
      devices_per_user_1h: c.int(1, 2),
      devices_per_user_24h: c.int(2, 3),
      ips_per_user_1h: c.int(1, 2),
    },
  }),
  order: (c) => ({ type: "order", event: { amount: amount(c, 1_000, 30_000) }, features: {} }),
  payment: (c) => {
    const a = amount(c, 1_000, 30_000);
    return {
      type: "payment",
      event: { amount: a },
      features: { card_spend_24h: minor(a) + c.int(0, 10_000), payments_per_card_10m: c.int(1, 2) },
    };
  },
  payment_no_card: (c) => ({
    type: "payment",
    event: { amount: amount(c, 1_000, 30_000), noCard: true },
    features: {
      cards_per_device_24h: 0,
      card_spend_24h: null,
      payments_per_card_10m: null,
      accounts_per_card_24h: null,
    },
  }),
  coupon: (c) => ({ type: "coupon_claim", features: { coupon_claims_per_ip_campaign_24h: c.int(1, 3) } }),
  coupon_office: (c) => ({
    type: "coupon_claim",
    features: {
      coupon_claims_per_ip_campaign_24h: c.int(5, 30),
      accounts_per_ip_1h: c.int(5, 40),
      accounts_per_ip_24h: c.int(20, 200),
    },
  }),
  device_farm: (c) => ({
    type: "register",
    features: {
      ...fresh(c),
      accounts_per_device_1h: c.int(2, 15),
      accounts_per_device_24h: c.int(3, 40),
      registrations_per_device_24h: c.int(3, 25),
      accounts_per_ip_1h: c.int(2, 30),
      registrations_per_ip_1h: c.int(2, 30),
      accounts_per_phone_24h: c.int(1, 5),
      device_first_seen_30d: c.now - c.int(1, 48) * HOUR,
    },
  }),
  coupon_farm: (c) => ({
    type: "coupon_claim",
    features: {
      user_last_seen_30d: c.now - c.int(1, 120) * 60_000,
      user_device_first_seen_30d: c.now - c.int(1, 180) * 60_000,
      accounts_per_device_1h: c.int(2, 10),
      accounts_per_device_24h: c.int(2, 20),
      coupon_claims_per_device_campaign_24h: c.int(2, 12),
      coupon_claims_per_ip_campaign_24h: c.int(3, 50),
      accounts_per_ip_1h: c.int(2, 20),
      accounts_per_ip_24h: c.int(3, 60),
    },
  }),
  card_testing: (c) => {
    const a = amount(c, 50, 200);
    return {
      type: "payment",
      event: { amount: a },
      features: {
        payments_per_card_10m: c.int(3, 30),
        cards_per_device_24h: c.int(2, 25),
        accounts_per_card_24h: c.int(1, 3),
        card_spend_24h: minor(a) * c.int(3, 30),
        user_device_first_seen_30d: c.now - c.int(1, 600) * 60_000,
      },
    };
  },
  account_takeover: (c) => ({
    type: "login",
    event: { country: c.pick(COUNTRIES) },
    features: {
      user_device_first_seen_30d: c.now,
      devices_per_user_1h: c.int(2, 5),
      devices_per_user_24h: c.int(2, 6),
      ips_per_user_1h: c.int(2, 8),
      ips_per_user_24h: c.int(3, 12),
      logins_per_user_10m: c.int(3, 20),
      countries_per_user_1h: c.int(1, 3),
    },
  }),
  order_brushing: (c) => ({
    type: "order",
    event: { amount: amount(c, 100, 1_000) },
    features: {
      accounts_per_device_1h: c.int(2, 8),
      accounts_per_device_24h: c.int(3, 15),
      accounts_per_ip_1h: c.int(4, 30),
      accounts_per_ip_24h: c.int(5, 60),
      user_device_first_seen_30d: c.now - c.int(1, 48) * HOUR,
    },
  }),
};

/** A USD amount between lo and hi minor units, as canonical decimal text. */
function amount(c: Ctx, lo: number, hi: number): string {
  const cents = c.int(lo, hi);
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
}

function minor(amountText: string): number {
  return Number(amountText.replace(".", ""));
}

function makeEvent(c: Ctx, type: EventType, shape: Shape["event"]): CleanEvent {
  const user = c.int(1, 50_000);
  const actor = {
    eventId: `sim-${c.i}`,
    occurredAt: new Date(c.now).toISOString(),
    userId: `user-${user}`,
    ip: `${c.int(1, 223)}.${c.int(0, 255)}.${c.int(0, 255)}.${c.int(1, 254)}`,
    deviceId: `device-${c.int(1, 80_000)}`,
    email: `user${user}@${c.pick(DOMAINS)}`,
    ...(c.rand() < 0.6 ? { phone: `+1201555${String(c.int(0, 9_999)).padStart(4, "0")}` } : {}),
    geo: { country: shape?.country ?? c.pick(COUNTRIES), city: "Somewhere" },
  };
  switch (type) {
    case "register":
    case "login":
      return { schemaVersion: 1, type, ...actor };
    case "order":
      return { schemaVersion: 1, type, ...actor, amount: shape?.amount ?? "10.00", currency: "USD" };
    case "payment":
      return {
        schemaVersion: 1,
        type,
        ...actor,
        amount: shape?.amount ?? "10.00",
        currency: "USD",
        ...(shape?.noCard ? {} : { cardFingerprint: `card-${c.int(1, 60_000)}` }),
      };
    case "coupon_claim":
      return {
        schemaVersion: 1,
        type,
        ...actor,
        campaignId: `campaign-${c.int(1, 20)}`,
        couponId: `coupon-${c.i}`,
      };
    case "challenge_outcome":
      throw new Error("the model-fitting traffic has no challenge outcomes");
  }
}
