import type { EventAttributes } from "#shared/domain/event/index";
import {
  type Body,
  botEmail,
  type DraftSink,
  type IdFactory,
  type Origin,
  personalEmail,
} from "#shared/domain/simulation/drafts";
import {
  type AddressBook,
  type Country,
  country,
  DATACENTER_OCTETS,
  HOME_MARKETS,
  localAmount,
} from "#shared/domain/simulation/geography";
import type { AttackType, AttackVariant } from "#shared/domain/simulation/ground-truth";
import { type Timeline, WELCOME_CAMPAIGN } from "#shared/domain/simulation/legit-traffic";
import type { Population, SimUser } from "#shared/domain/simulation/population";
import type { Rng } from "#shared/domain/simulation/random";

/**
 * The staged attacks. Each has a `burst` variant (the textbook pattern the default rules were
 * written for) and a `slow` variant that spreads the same abuse over the day, over fresh devices
 * and residential proxy addresses, to stay under naive thresholds. Every event an attack makes
 * is labelled with it, including the set-up (the accounts a farm registers, the sock puppets
 * a brushing shop created days before).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Throwaway mail domains bots use; mailinator.com is on the default block list. */
const THROWAWAY = ["quickmail.xyz", "inboxkit.top", "mailbox-now.net"] as const;

/** What the attack generators share. */
export interface AttackContext {
  readonly rng: Rng;
  readonly population: Population;
  readonly timeline: Timeline;
  readonly ids: IdFactory;
  readonly addresses: AddressBook;
  readonly sink: DraftSink;
  /** Customers already taken over by an earlier instance (one takeover per victim). */
  readonly victims: Set<string>;
}

/** Emits one attack's events. */
type Emit = (t: number, origin: Origin, body: Body, attributes?: EventAttributes) => void;

function emitter(c: AttackContext, attack: AttackType, variant: AttackVariant, actor: string): Emit {
  return (t, origin, body, attributes) => {
    const at = Math.floor(t);
    c.sink.add({
      t: at,
      phase: at < c.timeline.liveStart ? "history" : "live",
      origin,
      body,
      ...(attributes ? { attributes } : {}),
      truth: { label: "attack", attack, variant, actor },
    });
  };
}

/** A hosting-provider address and the country it geolocates to. */
function datacenter(c: AttackContext, countries: readonly string[] = ["US", "NL", "DE"]) {
  const place = country(c.rng.pick(countries));
  return { ip: c.addresses.next(DATACENTER_OCTETS), place, city: c.rng.pick(place.cities) };
}

/** A residential proxy address in `place`: to the pipeline, an ordinary home connection. */
function residential(c: AttackContext, place: Country) {
  return { ip: c.addresses.next(place.residentialOctets), place, city: c.rng.pick(place.cities) };
}

/** Start of a burst: anywhere in the live window that leaves `room` for it to finish. */
function burstStart(c: AttackContext, room: number): number {
  const { liveStart, liveEnd } = c.timeline;
  return c.rng.between(liveStart, Math.max(liveStart + 1, liveEnd - room));
}

/** When set-up work happened: days before in the history window if there is one, else just before. */
function setupTime(c: AttackContext, before: number): number {
  const { historyStart, liveStart } = c.timeline;
  if (liveStart - historyStart >= 2 * DAY) return c.rng.between(historyStart, liveStart - DAY);
  return Math.max(historyStart, before - c.rng.between(30 * MINUTE, 2 * HOUR));
}

/** Sorted uniform times in [from, to). */
function spread(c: AttackContext, n: number, from: number, to: number): number[] {
  return Array.from({ length: n }, () => c.rng.between(from, to)).sort((a, b) => a - b);
}

const smsPool = (c: AttackContext, place: Country) => Array.from({ length: 3 }, () => place.phone(c.rng));

/**
 * Coupon farming: fresh accounts claim the welcome bonus. Burst: a dozen accounts registered
 * minutes apart on two phones behind one home connection. Slow: one account every hour or two,
 * each on a freshly reset device and its own proxy address; the only trace is the handful of
 * SMS-receiving numbers the farm verifies accounts with.
 */
function couponFarming(c: AttackContext, variant: AttackVariant, emit: Emit): void {
  const { rng, ids } = c;
  const home = country(rng.weighted(HOME_MARKETS));
  const phones = smsPool(c, home);
  if (variant === "burst") {
    const net = residential(c, home);
    const devices = [ids.device(), ids.device()];
    const accounts = rng.int(10, 14);
    let t = burstStart(c, 2 * HOUR);
    for (let k = 0; k < accounts; k++) {
      const origin: Origin = {
        userId: ids.user(),
        deviceId: devices[k % 2] as string,
        ip: net.ip,
        country: home.code,
        city: net.city,
      };
      emit(
        t,
        origin,
        {
          type: "register",
          email: personalEmail(rng),
          ...(rng.chance(0.6) ? { phone: rng.pick(phones) } : {}),
        },
        { channel: "app" },
      );
      emit(
        t + rng.int(30_000, 120_000),
        origin,
        { type: "coupon_claim", campaignId: WELCOME_CAMPAIGN, couponId: ids.coupon() },
        { channel: "app" },
      );
      t += rng.int(2 * MINUTE, 5 * MINUTE);
    }
    return;
  }
  const accounts = rng.int(8, 12);
  for (const t of spread(c, accounts, c.timeline.liveStart, c.timeline.liveEnd - 30 * MINUTE)) {
    const net = residential(c, home);
    const origin: Origin = {
      userId: ids.user(),
      deviceId: ids.device(),
      ip: net.ip,
      country: home.code,
      city: net.city,
    };
    emit(
      t,
      origin,
      { type: "register", email: personalEmail(rng), phone: rng.pick(phones) },
      { channel: "app" },
    );
    emit(
      t + rng.int(2 * MINUTE, 10 * MINUTE),
      origin,
      { type: "coupon_claim", campaignId: WELCOME_CAMPAIGN, couponId: ids.coupon() },
      { channel: "app" },
    );
  }
}

/**
 * Order brushing: a seller's sock-puppet accounts (registered days earlier) place small orders
 * to lift its ratings, paid with the seller's own cards. Burst: eight puppets on two phones in
 * one shop, thirty orders in an hour or so. Slow: a dozen puppets, each with its own device,
 * a fresh proxy address per order, a few orders a day at ordinary amounts.
 */
function orderBrushing(c: AttackContext, variant: AttackVariant, emit: Emit): void {
  const { rng, ids } = c;
  const shop = country(rng.pick(["US", "GB", "DE", "FR"]));
  const merchantId = ids.merchant();
  const burst = variant === "burst";
  const shopNet = residential(c, shop);
  const devices = burst ? [ids.device(), ids.device()] : [];
  const cards = Array.from({ length: burst ? 2 : 3 }, () => ids.card());
  const t0 = burstStart(c, 2 * HOUR);
  const puppets = Array.from({ length: burst ? 8 : 12 }, (_, k) => {
    const net = burst ? shopNet : residential(c, shop);
    const origin: Origin = {
      userId: ids.user(),
      deviceId: burst ? (devices[k % 2] as string) : ids.device(),
      ip: net.ip,
      country: shop.code,
      city: net.city,
    };
    emit(
      setupTime(c, burst ? t0 : c.timeline.liveStart),
      origin,
      { type: "register", email: personalEmail(rng) },
      {
        channel: "app",
      },
    );
    return origin;
  });
  const orders = burst ? rng.int(24, 32) : rng.int(16, 20);
  const times = burst
    ? spread(c, orders, t0, t0 + rng.int(60, 90) * MINUTE)
    : spread(c, orders, c.timeline.liveStart, c.timeline.liveEnd - 5 * MINUTE);
  times.forEach((t, k) => {
    const puppet = rng.pick(puppets);
    const origin = burst ? puppet : { ...puppet, ...ipOf(residential(c, shop)) };
    const money = localAmount(shop, burst ? rng.between(1, 9.9) : rng.between(4, 25));
    emit(t, origin, { type: "order", ...money }, { channel: "app", merchantId, items: 1 });
    emit(
      t + rng.int(20_000, 60_000),
      origin,
      { type: "payment", ...money, cardFingerprint: cards[k % cards.length] as string },
      { method: "card", threeDSecure: false },
    );
  });
}

const ipOf = (net: { ip: string; place: Country; city: string }) => ({
  ip: net.ip,
  country: net.place.code,
  city: net.city,
});

/** A customer not yet taken over, with a sign-in history. */
function victim(c: AttackContext): SimUser {
  for (;;) {
    const user = c.rng.pick(c.population.users);
    if (!c.victims.has(user.userId)) {
      c.victims.add(user.userId);
      return user;
    }
  }
}

/**
 * Account takeover of an established customer. Burst: credential stuffing from hosting
 * addresses abroad, a dozen attempts in minutes on a new device, then a large order paid with
 * the stored card. Slow: one clean sign-in through a residential proxy in the customer's own
 * country on a new device, the order an hour later.
 */
function accountTakeover(c: AttackContext, variant: AttackVariant, emit: Emit): void {
  const { rng, ids } = c;
  const user = victim(c);
  const deviceId = ids.device();
  const card = user.cards.length > 0 && rng.chance(0.7) ? rng.pick(user.cards) : ids.card();
  const pay = (t: number, origin: Origin, usd: number) => {
    const money = localAmount(user.country, usd);
    emit(
      t,
      origin,
      { type: "order", ...money },
      { channel: "web", merchantId: ids.merchant(), items: rng.int(1, 3) },
    );
    emit(
      t + rng.int(20_000, 60_000),
      origin,
      { type: "payment", ...money, cardFingerprint: card },
      {
        method: "card",
        threeDSecure: false,
      },
    );
  };
  if (variant === "burst") {
    const abroad = ["NL", "US", "BR", "IN", "DE"].filter((code) => code !== user.country.code);
    const nets = Array.from({ length: rng.int(3, 5) }, () => datacenter(c, abroad));
    let t = burstStart(c, 2 * HOUR);
    const attempts = rng.int(6, 12);
    let origin: Origin | undefined;
    for (let k = 0; k < attempts; k++) {
      origin = { userId: user.userId, deviceId, ...ipOf(rng.pick(nets)) };
      emit(t, origin, { type: "login" }, { channel: "web", method: "password", success: k === attempts - 1 });
      t += rng.int(5_000, 25_000);
    }
    if (origin) pay(t + rng.int(MINUTE, 4 * MINUTE), origin, rng.between(200, 900));
    return;
  }
  const others = user.country.cities.filter((city) => city !== user.household.city);
  const net = residential(c, user.country);
  const origin: Origin = {
    userId: user.userId,
    deviceId,
    ip: net.ip,
    country: user.country.code,
    city: others.length > 0 ? rng.pick(others) : net.city,
  };
  let t = burstStart(c, 3 * HOUR);
  if (rng.chance(0.3)) {
    emit(t, origin, { type: "login" }, { channel: "app", method: "password", success: false });
    t += rng.int(20_000, 90_000);
  }
  emit(t, origin, { type: "login" }, { channel: "app", method: "password", success: true });
  pay(t + rng.int(20 * MINUTE, 90 * MINUTE), origin, rng.between(80, 300));
}

/**
 * Card testing: stolen card numbers checked with tiny payments. Burst: two throwaway accounts on
 * one machine behind two hosting addresses run twenty-odd cards in ten minutes, a few attempts
 * each. Slow: one payment per card over the day, from half a dozen accounts and devices (at most
 * three cards each), through residential proxies.
 */
function cardTesting(c: AttackContext, variant: AttackVariant, emit: Emit): void {
  const { rng, ids } = c;
  const us = country("US");
  if (variant === "burst") {
    const deviceId = ids.device();
    const nets = [datacenter(c), datacenter(c)];
    const t0 = burstStart(c, HOUR);
    const accounts = [0, 1].map((k) => {
      const origin: Origin = { userId: ids.user(), deviceId, ...ipOf(nets[k] ?? nets[0] ?? datacenter(c)) };
      emit(
        t0 - rng.int(10 * MINUTE, 30 * MINUTE),
        origin,
        { type: "register", email: botEmail(rng, THROWAWAY) },
        {
          channel: "web",
        },
      );
      return origin;
    });
    const cards = Array.from({ length: rng.int(20, 30) }, () => ids.card());
    const tries = cards.flatMap((card) => Array.from({ length: rng.int(1, 3) }, () => card)).slice(0, 50);
    const times = spread(c, tries.length, t0, t0 + rng.int(8, 12) * MINUTE);
    tries.forEach((card, k) => {
      const origin = accounts[k % 2] as Origin;
      emit(
        times[k] as number,
        { ...origin, ...ipOf(rng.pick(nets)) },
        { type: "payment", ...localAmount(us, rng.between(0.5, 2)), cardFingerprint: card },
        { method: "card", threeDSecure: false },
      );
    });
    return;
  }
  const accounts = Array.from({ length: rng.int(6, 8) }, () => {
    const net = residential(c, us);
    const origin: Origin = { userId: ids.user(), deviceId: ids.device(), ...ipOf(net) };
    emit(
      setupTime(c, c.timeline.liveStart),
      origin,
      { type: "register", email: botEmail(rng, THROWAWAY) },
      {
        channel: "web",
      },
    );
    return { origin, cards: 0 };
  });
  const cards = rng.int(15, 25);
  for (const t of spread(c, cards, c.timeline.liveStart, c.timeline.liveEnd)) {
    const free = accounts.filter((a) => a.cards < 3);
    const account = rng.pick(free.length > 0 ? free : accounts);
    account.cards++;
    emit(
      t,
      { ...account.origin, ...ipOf(residential(c, us)) },
      { type: "payment", ...localAmount(us, rng.between(1, 4.99)), cardFingerprint: ids.card() },
      { method: "card", threeDSecure: false },
    );
  }
}

/**
 * Registration bursts: bots creating accounts for later abuse. Burst: thirty sign-ups in minutes
 * from two hosting addresses, every one with a new (spoofed) device id and a throwaway address,
 * some at a block-listed domain. Slow: a sign-up an hour through residential proxies, with
 * throwaway domains that no list holds.
 */
function registrationBurst(c: AttackContext, variant: AttackVariant, emit: Emit): void {
  const { rng, ids } = c;
  if (variant === "burst") {
    const nets = [datacenter(c), datacenter(c)];
    const n = rng.int(25, 35);
    const t0 = burstStart(c, HOUR);
    for (const t of spread(c, n, t0, t0 + rng.int(6, 10) * MINUTE)) {
      const domains = rng.chance(0.3) ? ["mailinator.com"] : THROWAWAY;
      emit(
        t,
        { userId: ids.user(), deviceId: ids.device(), ...ipOf(rng.pick(nets)) },
        {
          type: "register",
          email: botEmail(rng, domains),
        },
        { channel: "web" },
      );
    }
    return;
  }
  const n = rng.int(20, 28);
  for (const t of spread(c, n, c.timeline.liveStart, c.timeline.liveEnd)) {
    const place = country(rng.weighted(HOME_MARKETS));
    emit(
      t,
      { userId: ids.user(), deviceId: ids.device(), ...ipOf(residential(c, place)) },
      {
        type: "register",
        email: botEmail(rng, THROWAWAY),
      },
      { channel: "app" },
    );
  }
}

const GENERATORS: Readonly<
  Record<AttackType, (c: AttackContext, variant: AttackVariant, emit: Emit) => void>
> = {
  coupon_farming: couponFarming,
  order_brushing: orderBrushing,
  account_takeover: accountTakeover,
  card_testing: cardTesting,
  registration_burst: registrationBurst,
};

/** Stages instance `index` (0-based) of an attack; its events carry actor `<type>-<variant>-<n>`. */
export function stageAttack(c: AttackContext, type: AttackType, variant: AttackVariant, index: number): void {
  const actor = `${type}-${variant}-${index + 1}`;
  GENERATORS[type](c, variant, emitter(c, type, variant, actor));
}
