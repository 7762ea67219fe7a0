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
  HOME_MARKETS,
  HOSTING_PREFIXES,
  localAmount,
} from "#shared/domain/simulation/geography";
import type { AttackType, AttackVariant } from "#shared/domain/simulation/ground-truth";
import { REFERRAL_CAMPAIGN, type Timeline, WELCOME_CAMPAIGN } from "#shared/domain/simulation/legit-traffic";
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
  /** The legitimate merchants (the first is the flash sale's, the second the scalpers' drop). */
  readonly merchants: readonly string[];
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
  return { ip: c.addresses.nextIn(HOSTING_PREFIXES), place, city: c.rng.pick(place.cities) };
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
      {
        type: "payment",
        ...money,
        cardFingerprint: cards[k % cards.length] as string,
        cardBin: ids.binOf(cards[k % cards.length] as string),
      },
      { method: "card", threeDSecure: false, merchantId },
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
    const merchantId = rng.pick(c.merchants.slice(0, 40));
    emit(
      t,
      origin,
      { type: "order", ...money },
      { channel: "web", merchantId, category: rng.chance(0.5) ? "gift_card" : "goods", items: rng.int(1, 3) },
    );
    emit(
      t + rng.int(20_000, 60_000),
      origin,
      { type: "payment", ...money, cardFingerprint: card, cardBin: ids.binOf(card) },
      { method: "card", threeDSecure: false, merchantId },
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

/** Where stolen card batches come from: the card's country decides the currency it is tested in. */
const CARD_MARKETS = ["US", "GB", "DE", "FR", "JP", "BR", "IN"] as const;

/**
 * Card testing: stolen card numbers checked with tiny payments, in the currency of each card's
 * country (a batch bought from one breach shares its issuer's BIN). Burst: two throwaway accounts
 * on one machine behind two hosting addresses run twenty-odd cards in ten minutes, a few attempts
 * each. Slow: one payment per card over the day, from half a dozen accounts and devices (at most
 * three cards each), through residential proxies.
 */
function cardTesting(c: AttackContext, variant: AttackVariant, emit: Emit): void {
  const { rng, ids } = c;
  const bin = ids.rareBin();
  const market = () => country(rng.pick(CARD_MARKETS));
  const testMerchant = ids.merchant();
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
    const cards = Array.from({ length: rng.int(20, 30) }, () => ({ card: ids.card(bin), place: market() }));
    const tries = cards.flatMap((card) => Array.from({ length: rng.int(1, 3) }, () => card)).slice(0, 50);
    const times = spread(c, tries.length, t0, t0 + rng.int(8, 12) * MINUTE);
    tries.forEach(({ card, place }, k) => {
      const origin = accounts[k % 2] as Origin;
      emit(
        times[k] as number,
        { ...origin, ...ipOf(rng.pick(nets)) },
        { type: "payment", ...localAmount(place, rng.between(0.5, 2)), cardFingerprint: card, cardBin: bin },
        { method: "card", threeDSecure: false, merchantId: testMerchant },
      );
    });
    return;
  }
  const us = country("US");
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
      {
        type: "payment",
        ...localAmount(market(), rng.between(1, 4.99)),
        cardFingerprint: ids.card(bin),
        cardBin: bin,
      },
      { method: "card", threeDSecure: false, merchantId: testMerchant },
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

/** A customer with a phone number, not yet taken over: what a SIM swapper needs. */
function victimWithPhone(c: AttackContext): SimUser {
  for (;;) {
    const user = c.rng.pick(c.population.users);
    if (user.phone !== undefined && user.cards.length > 0 && !c.victims.has(user.userId)) {
      c.victims.add(user.userId);
      return user;
    }
  }
}

/**
 * SIM-swap takeover (盗号 through a ported number): the attacker has the victim's number moved to
 * their own SIM, signs in with a one-time code sent to it on their own phone, over the mobile
 * network of the victim's carrier, and spends with the stored card on gift cards and electronics.
 * An SMS challenge is no defence: the code goes to the attacker. Burst: two or three orders within
 * minutes of the sign-in. Slow: one sign-in, one order hours later, at an ordinary-looking amount.
 */
function simSwapTakeover(c: AttackContext, variant: AttackVariant, emit: Emit): void {
  const { rng, ids } = c;
  const user = victimWithPhone(c);
  const origin: Origin = {
    userId: user.userId,
    deviceId: ids.device(),
    ip: rng.pick(user.carrierIps),
    country: user.country.code,
    city: user.household.city,
  };
  const card = rng.pick(user.cards);
  let t = burstStart(c, 4 * HOUR);
  emit(t, origin, { type: "login" }, { channel: "app", method: "otp", success: true });
  const orders = variant === "burst" ? rng.int(2, 3) : 1;
  t += variant === "burst" ? rng.int(2 * MINUTE, 8 * MINUTE) : rng.int(HOUR, 3 * HOUR);
  for (let k = 0; k < orders; k++) {
    const money = localAmount(
      user.country,
      variant === "burst" ? rng.between(300, 900) : rng.between(60, 200),
    );
    const merchantId = rng.pick(c.merchants.slice(0, 40));
    emit(
      t,
      origin,
      { type: "order", ...money },
      { channel: "app", merchantId, category: "gift_card", items: 1 },
    );
    emit(
      t + rng.int(10_000, 40_000),
      origin,
      { type: "payment", ...money, cardFingerprint: card, cardBin: ids.binOf(card) },
      { method: "card", threeDSecure: false, merchantId },
    );
    t += rng.int(3 * MINUTE, 10 * MINUTE);
  }
}

/** Numbers of one block of 10,000 (all digits but the last four shared): what SIM banks hold. */
function numberBlock(c: AttackContext, place: Country): () => string {
  const template = place.phone(c.rng);
  const head = template.slice(0, -4);
  return () => `${head}${String(c.rng.int(0, 9999)).padStart(4, "0")}`;
}

/**
 * SMS-activation farm (接码平台): accounts registered in bulk for resale, each verified with a
 * number rented from a SIM bank, on a freshly reset device behind its own residential proxy. The
 * trace is the numbers: a SIM bank's numbers come in blocks. Burst: fifteen to twenty sign-ups
 * in two hours from one block. Slow: a dozen over the day from two blocks.
 */
function smsFarm(c: AttackContext, variant: AttackVariant, emit: Emit): void {
  const { rng, ids } = c;
  const home = country(rng.weighted(HOME_MARKETS));
  const blocks = variant === "burst" ? [numberBlock(c, home)] : [numberBlock(c, home), numberBlock(c, home)];
  const n = variant === "burst" ? rng.int(15, 20) : rng.int(10, 14);
  const t0 = burstStart(c, 2 * HOUR);
  const times =
    variant === "burst"
      ? spread(c, n, t0, t0 + 2 * HOUR)
      : spread(c, n, c.timeline.liveStart, c.timeline.liveEnd);
  times.forEach((t, k) => {
    const origin: Origin = { userId: ids.user(), deviceId: ids.device(), ...ipOf(residential(c, home)) };
    const phone = (blocks[k % blocks.length] as () => string)();
    emit(t, origin, { type: "register", email: personalEmail(rng), phone }, { channel: "app" });
  });
}

/**
 * Credential stuffing (撞库): leaked passwords tried against many customers' accounts, most
 * failing. Burst: forty to sixty attempts in a quarter of an hour from three hosting addresses and
 * two bot devices. Slow: thirty-odd attempts over the day, each through a new residential proxy,
 * from a headless browser whose fingerprint (the device id) stays one of three.
 */
function credentialStuffing(c: AttackContext, variant: AttackVariant, emit: Emit): void {
  const { rng, ids } = c;
  const burst = variant === "burst";
  const devices = Array.from({ length: burst ? 2 : 3 }, () => ids.device());
  const nets = burst ? Array.from({ length: 3 }, () => datacenter(c)) : [];
  const n = burst ? rng.int(40, 60) : rng.int(28, 36);
  const t0 = burstStart(c, HOUR);
  const times = burst
    ? spread(c, n, t0, t0 + 15 * MINUTE)
    : spread(c, n, c.timeline.liveStart, c.timeline.liveEnd);
  for (const t of times) {
    const target = rng.pick(c.population.users);
    const net = burst ? rng.pick(nets) : residential(c, target.country);
    emit(
      t,
      { userId: target.userId, deviceId: rng.pick(devices), ...ipOf(net) },
      { type: "login" },
      { channel: "web", method: "password", success: rng.chance(0.08) },
    );
  }
}

/**
 * Order brushing by real paid accounts (真人刷单): a new shop pays genuine customers to buy its
 * item so its sales and ratings climb; they order from their own phones at home with their own
 * cards and are refunded outside the platform. Nothing about the buyer is wrong; the shop is:
 * a merchant nobody bought from before, suddenly ordered from by many accounts at one price.
 * Burst: fifteen to twenty buyers in two hours. Slow: a dozen over the day.
 */
function paidBrushing(c: AttackContext, variant: AttackVariant, emit: Emit): void {
  const { rng, ids } = c;
  const merchantId = ids.merchant();
  const shop = country(rng.pick(["US", "GB", "DE", "FR"]));
  const recruits = rng
    .shuffle(
      c.population.users.filter((u) => u.country === shop && u.cards.length > 0 && !c.victims.has(u.userId)),
    )
    .slice(0, variant === "burst" ? rng.int(15, 20) : rng.int(10, 14));
  const usd = rng.between(8, 30);
  const t0 = burstStart(c, 2 * HOUR);
  const times =
    variant === "burst"
      ? spread(c, recruits.length, t0, t0 + 2 * HOUR)
      : spread(c, recruits.length, c.timeline.liveStart, c.timeline.liveEnd - 5 * MINUTE);
  recruits.forEach((user, k) => {
    const t = times[k] as number;
    const origin: Origin = {
      userId: user.userId,
      deviceId: user.phoneDevice.deviceId,
      ip: rng.chance(0.5) ? user.household.homeIp : rng.pick(user.carrierIps),
      country: user.country.code,
      city: user.household.city,
    };
    const money = localAmount(shop, usd);
    const card = rng.pick(user.cards);
    emit(t, origin, { type: "order", ...money }, { channel: "app", merchantId, category: "goods", items: 1 });
    emit(
      t + rng.int(10_000, 60_000),
      origin,
      { type: "payment", ...money, cardFingerprint: card, cardBin: ids.binOf(card) },
      { method: "card", threeDSecure: rng.chance(0.7), merchantId },
    );
  });
}

/**
 * Referral abuse: one person refers themselves again and again for the referral reward. Burst: a
 * dozen referees of one referrer within an hour on three phones behind one home connection, each
 * claiming the reward. Slow: a tree grown over the day, a root account referring three or four
 * accounts that each refer four or five, every account on a fresh device behind its own
 * residential proxy.
 */
function referralAbuse(c: AttackContext, variant: AttackVariant, emit: Emit): void {
  const { rng, ids } = c;
  const home = country(rng.weighted(HOME_MARKETS));
  const rootNet = residential(c, home);
  const root: Origin = { userId: ids.user(), deviceId: ids.device(), ...ipOf(rootNet) };
  emit(
    setupTime(c, c.timeline.liveStart),
    root,
    { type: "register", email: personalEmail(rng) },
    { channel: "app" },
  );
  const refer = (t: number, referrer: string, origin: Origin) => {
    emit(
      t,
      origin,
      { type: "register", email: personalEmail(rng), phone: home.phone(rng) },
      { channel: "app", referrerId: referrer },
    );
    emit(
      t + rng.int(MINUTE, 8 * MINUTE),
      origin,
      { type: "coupon_claim", campaignId: REFERRAL_CAMPAIGN, couponId: ids.coupon() },
      { channel: "app", referrerId: referrer },
    );
  };
  if (variant === "burst") {
    const devices = [ids.device(), ids.device(), ids.device()];
    const n = rng.int(10, 14);
    let t = burstStart(c, 2 * HOUR);
    for (let k = 0; k < n; k++) {
      refer(t, root.userId, { userId: ids.user(), deviceId: devices[k % 3] as string, ...ipOf(rootNet) });
      t += rng.int(2 * MINUTE, 6 * MINUTE);
    }
    return;
  }
  const fresh = (): Origin => ({ userId: ids.user(), deviceId: ids.device(), ...ipOf(residential(c, home)) });
  const { liveStart, liveEnd } = c.timeline;
  const children = spread(c, rng.int(3, 4), liveStart, liveStart + 8 * HOUR).map((t) => {
    const child = fresh();
    refer(t, root.userId, child);
    return { t, child };
  });
  for (const { t, child } of children)
    for (const at of spread(c, rng.int(4, 5), t + HOUR, Math.min(liveEnd - 10 * MINUTE, t + 14 * HOUR)))
      refer(at, child.userId, fresh());
}

/**
 * Scalping: bots buy up a limited drop to resell it, with accounts registered days before and the
 * scalper's own few cards. Burst: twenty-odd accounts order within two minutes of the drop from
 * hosting addresses. Slow: a dozen accounts, each on its own device behind a residential proxy,
 * order over the hour after the drop; the cards still give them away.
 */
function scalping(c: AttackContext, variant: AttackVariant, emit: Emit): void {
  const { rng, ids } = c;
  const us = country("US");
  const merchantId = c.merchants[1] as string;
  const burst = variant === "burst";
  const cards = Array.from({ length: burst ? 3 : 4 }, () => ids.card());
  const nets = burst ? [datacenter(c, ["US"]), datacenter(c, ["US"])] : [];
  const accounts = Array.from({ length: burst ? rng.int(18, 24) : rng.int(10, 14) }, () => {
    const origin: Origin = { userId: ids.user(), deviceId: ids.device(), ...ipOf(residential(c, us)) };
    emit(
      setupTime(c, c.timeline.liveStart),
      origin,
      { type: "register", email: personalEmail(rng) },
      { channel: "web" },
    );
    return origin;
  });
  const drop = burstStart(c, 2 * HOUR);
  const money = localAmount(us, 249);
  accounts.forEach((account, k) => {
    const t = drop + (burst ? rng.int(5_000, 2 * MINUTE) : rng.int(MINUTE, HOUR));
    const origin = burst
      ? { ...account, ...ipOf(rng.pick(nets)) }
      : { ...account, ...ipOf(residential(c, us)) };
    const card = cards[k % cards.length] as string;
    emit(
      t,
      origin,
      { type: "order", ...money },
      { channel: "web", merchantId, category: "goods", sku: "drop-2", items: 2 },
    );
    emit(
      t + rng.int(5_000, 30_000),
      origin,
      { type: "payment", ...money, cardFingerprint: card, cardBin: ids.binOf(card) },
      { method: "card", threeDSecure: false, merchantId },
    );
  });
}

/**
 * Stolen-card cash-out: stolen cards (one breached issuer's BIN) spent on gift cards and
 * electronics, in the card's currency. Burst: one account registered minutes before tries five
 * cards in half an hour through a hosting address. Slow: aged accounts (养号), registered days
 * before and signed in since, each spending one card once, through a residential proxy in the
 * card's country.
 */
function cardCashout(c: AttackContext, variant: AttackVariant, emit: Emit): void {
  const { rng, ids } = c;
  const bin = ids.rareBin();
  const place = country(rng.pick(CARD_MARKETS));
  const spend = (t: number, origin: Origin) => {
    const money = localAmount(place, rng.between(250, 1200));
    const merchantId = rng.pick(c.merchants.slice(0, 40));
    const card = ids.card(bin);
    emit(
      t,
      origin,
      { type: "order", ...money },
      { channel: "web", merchantId, category: rng.chance(0.6) ? "gift_card" : "goods", items: 1 },
    );
    emit(
      t + rng.int(10_000, 60_000),
      origin,
      { type: "payment", ...money, cardFingerprint: card, cardBin: bin },
      { method: "card", threeDSecure: false, merchantId },
    );
  };
  if (variant === "burst") {
    const net = datacenter(c, [
      place.code === "JP" || place.code === "IN" || place.code === "BR" ? "US" : place.code,
    ]);
    const origin: Origin = { userId: ids.user(), deviceId: ids.device(), ...ipOf(net) };
    let t = burstStart(c, 2 * HOUR);
    emit(
      t - rng.int(5 * MINUTE, 30 * MINUTE),
      origin,
      { type: "register", email: personalEmail(rng) },
      { channel: "web" },
    );
    for (let k = rng.int(4, 6); k > 0; k--) {
      spend(t, origin);
      t += rng.int(3 * MINUTE, 8 * MINUTE);
    }
    return;
  }
  const accounts = Array.from({ length: rng.int(4, 6) }, () => {
    const origin: Origin = { userId: ids.user(), deviceId: ids.device(), ...ipOf(residential(c, place)) };
    emit(
      setupTime(c, c.timeline.liveStart),
      origin,
      { type: "register", email: personalEmail(rng) },
      { channel: "web" },
    );
    emit(
      setupTime(c, c.timeline.liveStart),
      origin,
      { type: "login" },
      { channel: "web", method: "password", success: true },
    );
    return origin;
  });
  for (const account of accounts) {
    const t = burstStart(c, HOUR);
    const origin = { ...account, ...ipOf(residential(c, place)) };
    emit(t, origin, { type: "login" }, { channel: "web", method: "password", success: true });
    spend(t + rng.int(2 * MINUTE, 20 * MINUTE), origin);
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
  sim_swap_takeover: simSwapTakeover,
  sms_farm: smsFarm,
  credential_stuffing: credentialStuffing,
  paid_brushing: paidBrushing,
  referral_abuse: referralAbuse,
  scalping,
  card_cashout: cardCashout,
};

/** Stages instance `index` (0-based) of an attack; its events carry actor `<type>-<variant>-<n>`. */
export function stageAttack(c: AttackContext, type: AttackType, variant: AttackVariant, index: number): void {
  const actor = `${type}-${variant}-${index + 1}`;
  GENERATORS[type](c, variant, emitter(c, type, variant, actor));
}
