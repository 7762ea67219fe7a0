import type { EventAttributes } from "#shared/domain/event/index";
import {
  type Body,
  type DraftSink,
  type IdFactory,
  type Origin,
  personalEmail,
} from "#shared/domain/simulation/drafts";
import {
  type AddressBook,
  COUNTRIES,
  type Country,
  country,
  HOME_MARKETS,
  HOSTING_PREFIXES,
  localAmount,
  localHour,
  rhythmTime,
} from "#shared/domain/simulation/geography";
import type { LegitKind } from "#shared/domain/simulation/ground-truth";
import type { Population, SimDevice, SimUser } from "#shared/domain/simulation/population";
import type { Rng } from "#shared/domain/simulation/random";

/** The simulation's timeline, epoch ms: history in [historyStart, liveStart), live in [liveStart, liveEnd). */
export interface Timeline {
  readonly historyStart: number;
  readonly liveStart: number;
  readonly liveEnd: number;
}

/** Coupon campaign every existing customer may claim once during the live window. */
export const SALE_CAMPAIGN = "spring-sale";
/** Coupon campaign for new accounts: what coupon farms go after. */
export const WELCOME_CAMPAIGN = "welcome-bonus";
/** Reward a referred account claims; the claim names its referrer (`attributes.referrerId`). */
export const REFERRAL_CAMPAIGN = "referral-bonus";
/** Coupon of the live day's flash sale (a limited drop at one merchant). */
export const FLASH_CAMPAIGN = "flash-drop";

/** Order categories; gift cards are what cash-out fraud buys, so ordinary customers buy a few too. */
const GIFT_CARD_SHARE = 0.03;

/**
 * The merchant of an ordinary order: popularity is long-tailed (Zipf-like), so the popular shops
 * have orders every day and the tail sees one now and then.
 */
export function pickMerchant(rng: Rng, merchants: readonly string[]): string {
  const index = Math.min(merchants.length - 1, Math.floor(merchants.length * rng.next() ** 2.5));
  return merchants[index] as string;
}

/** The sign-in method of an ordinary sign-in: most use a password, some a one-time code. */
function signInMethod(rng: Rng, newPhone: boolean): "password" | "otp" {
  return rng.chance(newPhone ? 0.4 : 0.1) ? "otp" : "password";
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Sessions per customer per day, on average (before each customer's own activity level). */
const SESSIONS_PER_DAY = 1.2;
/** Shares of customers with a special day: abroad, on a new phone. Share of sessions through a VPN. */
const TRAVELLER_SHARE = 0.02;
const NEW_PHONE_SHARE = 0.02;
const VPN_SESSION_SHARE = 0.02;

/** Networks shared by strangers that the live traffic creates on demand. */
class SharedNetworks {
  private readonly hotels = new Map<string, string[]>();
  private vpnExits: Array<{ ip: string; country: Country }> | undefined;

  constructor(
    private readonly rng: Rng,
    private readonly addresses: AddressBook,
  ) {}

  /** One of two hotel / roaming addresses per destination, shared by every traveller there. */
  hotelIp(place: Country): string {
    let ips = this.hotels.get(place.code);
    if (!ips) {
      ips = [this.addresses.next(place.residentialOctets), this.addresses.next(place.residentialOctets)];
      this.hotels.set(place.code, ips);
    }
    return this.rng.pick(ips);
  }

  /** One of six commercial VPN exits in three countries. */
  vpnExit(): { ip: string; country: Country } {
    this.vpnExits ??= ["NL", "US", "DE", "NL", "US", "DE"].map((code) => ({
      ip: this.addresses.nextIn(HOSTING_PREFIXES),
      country: country(code),
    }));
    return this.rng.pick(this.vpnExits);
  }
}

/** Context shared by the legitimate generators. */
export interface LegitContext {
  readonly rng: Rng;
  readonly population: Population;
  readonly timeline: Timeline;
  readonly ids: IdFactory;
  readonly addresses: AddressBook;
  readonly sink: DraftSink;
  /** Merchants legitimate orders go to. */
  readonly merchants: readonly string[];
  /** The live window, when sign-ups of the history days may come back in it. */
  readonly returnWindow?: { readonly from: number; readonly to: number };
}

/** Where one session happens and which look-alike it is. */
interface Place {
  readonly origin: Origin;
  readonly kind: LegitKind;
  readonly currencyOf: Country;
}

function isWeekday(t: number, offset: number): boolean {
  const day = new Date(t + offset * HOUR).getUTCDay();
  return day !== 0 && day !== 6;
}

/** Device and network of an at-home (not travelling) session at time t. */
function homePlace(rng: Rng, user: SimUser, t: number, phone: SimDevice, newPhone: boolean): Place {
  const home = user.household;
  const tablet = home.tablet;
  const device = rng.weighted<SimDevice>([
    [phone, 0.6],
    ...(user.laptop ? ([[user.laptop, 0.3]] as const) : []),
    ...(tablet ? ([[tablet, 0.15]] as const) : []),
  ]);
  const hour = localHour(t, user.country.utcOffsetHours);
  const working =
    user.office !== undefined && isWeekday(t, user.country.utcOffsetHours) && hour >= 9 && hour < 18;
  let ip = home.homeIp;
  let city = home.city;
  let kind: LegitKind = "regular";
  if (device.kind === "tablet") kind = "family_device";
  else if (working && user.office && rng.chance(device.kind === "laptop" ? 0.85 : 0.3)) {
    ip = user.office.ip;
    city = user.office.city;
    kind = "office";
  } else if (device.kind === "phone" && rng.chance(0.45)) {
    ip = rng.pick(user.carrierIps);
    kind = "carrier_nat";
  }
  if (newPhone && device === phone) kind = "new_device";
  return {
    origin: { userId: user.userId, deviceId: device.deviceId, ip, country: user.country.code, city },
    kind,
    currencyOf: user.country,
  };
}

/** Kinds a payment with the household's shared card takes precedence over (LEGIT_KINDS order). */
const SHARED_CARD_PRECEDES: ReadonlySet<LegitKind> = new Set([
  "family_device",
  "office",
  "carrier_nat",
  "regular",
]);

const channelOf = (deviceId: string, user: SimUser) => (user.laptop?.deviceId === deviceId ? "web" : "app");

/**
 * One visit: usually a sign-in, then an order with its payment, a coupon claim, or just
 * browsing. Events of a session are seconds to minutes apart.
 */
function session(
  c: LegitContext,
  user: SimUser,
  start: number,
  place: Place,
  claimed: Set<string>,
  phase: "history" | "live",
): void {
  const { rng, sink } = c;
  const truth = { label: "legit", kind: place.kind } as const;
  const channel = channelOf(place.origin.deviceId, user);
  const add = (t: number, body: Body, attributes: EventAttributes, kind: LegitKind = place.kind) =>
    sink.add({
      t: Math.floor(t),
      phase,
      origin: place.origin,
      body,
      attributes,
      truth: kind === place.kind ? truth : { label: "legit", kind },
    });
  let t = start;
  const signIn = rng.chance(0.75);
  if (signIn) {
    const method = signInMethod(rng, place.kind === "new_device");
    // A mistyped password now and then: two attempts seconds apart.
    if (method === "password" && rng.chance(0.03)) {
      add(t, { type: "login" }, { channel, method: "password", success: false });
      t += rng.int(5_000, 30_000);
    }
    add(t, { type: "login" }, { channel, method, success: true });
  }
  const r = rng.next();
  if (r < 0.38) {
    t += 10_000 + rng.exponential(120_000);
    const usd = Math.max(2, rng.logNormal(35, 0.9));
    const money = localAmount(place.currencyOf, usd);
    const merchantId = pickMerchant(rng, c.merchants);
    const category = rng.chance(GIFT_CARD_SHARE) ? "gift_card" : "goods";
    add(t, { type: "order", ...money }, { channel, merchantId, category, items: rng.int(1, 5) });
    if (rng.chance(0.93)) {
      t += 5_000 + rng.exponential(30_000);
      const card = user.cards.length > 0 ? rng.pick(user.cards) : undefined;
      // A card a relative also pays with: the household's shared card.
      const shared = card !== undefined && user.household.sharedCard === card;
      const kind = shared && SHARED_CARD_PRECEDES.has(place.kind) ? "shared_card" : place.kind;
      add(
        t,
        {
          type: "payment",
          ...money,
          ...(card ? { cardFingerprint: card, cardBin: c.ids.binOf(card) } : {}),
        },
        { method: card ? "card" : "wallet", threeDSecure: rng.chance(0.7), merchantId },
        kind,
      );
    }
  } else if (r < 0.52 && phase === "live" && !claimed.has(user.userId)) {
    claimed.add(user.userId);
    t += 5_000 + rng.exponential(60_000);
    add(t, { type: "coupon_claim", campaignId: SALE_CAMPAIGN, couponId: c.ids.coupon() }, { channel });
  } else if (!signIn) {
    add(t, { type: "login" }, { channel, method: "token", success: true });
  }
}

/**
 * The days before the live window: every customer signs in on each of their devices (the family
 * tablet included) and some shop, so the live window starts with the feature state of a running
 * system: known devices, last-seen times, account age on device.
 */
export function historyTraffic(c: LegitContext): void {
  const { rng, timeline } = c;
  const to = timeline.liveStart - HOUR;
  if (to <= timeline.historyStart) return;
  const claimed = new Set<string>();
  for (const user of c.population.users) {
    const devices = [user.phoneDevice, user.laptop, user.household.tablet].filter(
      (d): d is SimDevice => d !== undefined,
    );
    for (const device of devices) {
      const t = rhythmTime(rng, timeline.historyStart, to, user.country.utcOffsetHours);
      const ip =
        device.kind === "laptop" && user.office
          ? user.office.ip
          : device.kind === "phone" && rng.chance(0.45)
            ? rng.pick(user.carrierIps)
            : user.household.homeIp;
      const origin: Origin = {
        userId: user.userId,
        deviceId: device.deviceId,
        ip,
        country: user.country.code,
        city: user.household.city,
      };
      c.sink.add({
        t,
        phase: "history",
        origin,
        body: { type: "login" },
        attributes: { channel: channelOf(device.deviceId, user), method: "password", success: true },
        truth: { label: "legit", kind: "regular" },
      });
    }
    // The days before had their visits too (a third of the live rate): shops and cards have a past.
    for (let k = rng.poisson(0.4 * SESSIONS_PER_DAY * ((to - timeline.historyStart) / DAY)); k > 0; k--) {
      const t = rhythmTime(rng, timeline.historyStart, to, user.country.utcOffsetHours);
      session(c, user, t, homePlace(rng, user, t, user.phoneDevice, false), claimed, "history");
    }
  }
  // Accounts a few days old exist on any day: sign-ups of the history days, at the live day's rate.
  const days = (to - timeline.historyStart) / DAY;
  newUsers(
    { ...c, rng: rng.child("history-sign-ups") },
    Math.round(c.population.users.length * 0.04 * days),
    {
      from: timeline.historyStart,
      to,
      phase: "history",
    },
  );
}

/** The live window's legitimate traffic: established customers and new sign-ups. */
export function liveTraffic(c: LegitContext, newUsersPerDay: number): void {
  const { rng, timeline } = c;
  const days = (timeline.liveEnd - timeline.liveStart) / DAY;
  const nets = new SharedNetworks(rng.child("shared-networks"), c.addresses);
  const claimed = new Set<string>();
  for (const user of c.population.users) {
    const activity = rng.logNormal(1, 0.6);
    const sessions = rng.poisson(SESSIONS_PER_DAY * days * activity);
    if (sessions === 0) continue;
    const travelling = rng.chance(TRAVELLER_SHARE);
    const newPhone = rng.chance(NEW_PHONE_SHARE);
    const phone: SimDevice = newPhone ? { deviceId: c.ids.device(), kind: "phone" } : user.phoneDevice;
    const destination = travelling
      ? country(rng.pick(Object.keys(COUNTRIES).filter((code) => code !== user.country.code)))
      : user.country;
    for (let s = 0; s < sessions; s++) {
      const t = rhythmTime(rng, timeline.liveStart, timeline.liveEnd, destination.utcOffsetHours);
      let place: Place;
      if (travelling) {
        const device = user.laptop && rng.chance(0.2) ? user.laptop : phone;
        place = {
          origin: {
            userId: user.userId,
            deviceId: device.deviceId,
            ip: nets.hotelIp(destination),
            country: destination.code,
            city: rng.pick(destination.cities),
          },
          kind: newPhone && device === phone ? "new_device" : "travel",
          currencyOf: user.country,
        };
      } else if (rng.chance(VPN_SESSION_SHARE)) {
        const exit = nets.vpnExit();
        const device = user.laptop ?? phone;
        place = {
          origin: {
            userId: user.userId,
            deviceId: device.deviceId,
            ip: exit.ip,
            country: exit.country.code,
            city: rng.pick(exit.country.cities),
          },
          kind: newPhone && device === phone ? "new_device" : "vpn",
          currencyOf: user.country,
        };
      } else {
        place = homePlace(rng, user, t, phone, newPhone);
      }
      session(c, user, t, place, claimed, "live");
    }
  }
  newUsers(c, Math.round(c.population.users.length * newUsersPerDay * days), {
    from: timeline.liveStart,
    to: timeline.liveEnd,
    phase: "live",
  });
  if (days >= 0.75) {
    const crowd = { ...c, rng: rng.child("look-alikes") };
    campusDay(crowd, Math.max(8, Math.round(c.population.users.length * 0.03)));
    const buyers = crowd.rng
      .shuffle(c.population.users)
      .slice(0, Math.max(5, Math.round(c.population.users.length * 0.04)));
    flashSale(crowd, buyers);
  }
}

/**
 * Sign-ups in [from, to): on their own phone at home or on mobile data, some on a family tablet
 * that relatives already use; a fifth were referred by a customer (the referral reward claim names
 * the referrer). Many claim the welcome coupon within minutes and some shop the same day: the
 * look-alike of a coupon farm, one account at a time.
 */
function newUsers(
  c: LegitContext,
  count: number,
  window: { readonly from: number; readonly to: number; readonly phase: "history" | "live" },
): void {
  const { rng, population } = c;
  const claimed = new Set<string>();
  for (let i = 0; i < count; i++) {
    const joinFamily = rng.chance(0.2) ? rng.pick(population.households) : undefined;
    const home = joinFamily?.country ?? country(rng.weighted(HOME_MARKETS));
    const t = rhythmTime(rng, window.from, window.to, home.utcOffsetHours);
    const useTablet = joinFamily?.tablet !== undefined && rng.chance(0.5);
    const deviceId = useTablet && joinFamily?.tablet ? joinFamily.tablet.deviceId : c.ids.device();
    const nat = population.carrierIps.get(home.code) ?? [];
    const onMobile = !joinFamily && nat.length > 0 && rng.chance(0.35);
    const ip = joinFamily?.homeIp ?? (onMobile ? rng.pick(nat) : c.addresses.next(home.residentialOctets));
    const referrer = rng.chance(0.2) ? rng.pick(population.users).userId : undefined;
    const userId = c.ids.user();
    const origin: Origin = {
      userId,
      deviceId,
      ip,
      country: home.code,
      city: joinFamily?.city ?? rng.pick(home.cities),
    };
    signUp(c, origin, home, t, window.phase, "new_user", referrer, claimed);
  }
}

/** One new account's first hours: registration, perhaps the welcome or referral reward, a first order, a sign-in. */
function signUp(
  c: LegitContext,
  origin: Origin,
  home: Country,
  t: number,
  phase: "history" | "live",
  kind: LegitKind,
  referrer: string | undefined,
  claimed: Set<string>,
): void {
  const { rng } = c;
  const truth = { label: "legit", kind } as const;
  // A late sign-up of the history days may spill its first hours into the live window.
  const add = (at: number, body: Body, attributes: EventAttributes) =>
    c.sink.add({
      t: Math.floor(at),
      phase: phase === "history" && Math.floor(at) < c.timeline.liveStart ? "history" : "live",
      origin,
      body,
      attributes,
      truth,
    });
  add(
    t,
    { type: "register", email: personalEmail(rng), ...(rng.chance(0.8) ? { phone: home.phone(rng) } : {}) },
    { channel: "app", ...(referrer ? { referrerId: referrer } : {}) },
  );
  let at = t;
  if (rng.chance(0.55) && !claimed.has(origin.userId)) {
    claimed.add(origin.userId);
    at += rng.int(MINUTE, 20 * MINUTE);
    add(
      at,
      referrer
        ? { type: "coupon_claim", campaignId: REFERRAL_CAMPAIGN, couponId: c.ids.coupon() }
        : { type: "coupon_claim", campaignId: WELCOME_CAMPAIGN, couponId: c.ids.coupon() },
      { channel: "app", ...(referrer ? { referrerId: referrer } : {}) },
    );
  }
  if (rng.chance(0.25)) {
    at += rng.int(5 * MINUTE, 2 * HOUR);
    const money = localAmount(home, Math.max(2, rng.logNormal(30, 0.8)));
    const merchantId = pickMerchant(rng, c.merchants);
    add(
      at,
      { type: "order", ...money },
      { channel: "app", merchantId, category: "goods", items: rng.int(1, 3) },
    );
    at += rng.int(5_000, 60_000);
    const card = c.ids.card();
    add(
      at,
      { type: "payment", ...money, cardFingerprint: card, cardBin: c.ids.binOf(card) },
      { method: "card", threeDSecure: true, merchantId },
    );
  }
  if (rng.chance(0.5)) {
    at += rng.int(HOUR, 6 * HOUR);
    add(at, { type: "login" }, { channel: "app", method: signInMethod(rng, false), success: true });
  }
  // Accounts made in the days before come back in the live window: young accounts that shop are
  // ordinary, not only the aged accounts (养号) of a fraud ring.
  if (phase === "history" && c.returnWindow && rng.chance(0.4)) {
    const { from, to } = c.returnWindow;
    let back = rhythmTime(rng, from, to, home.utcOffsetHours);
    const returning = (t2: number, body: Body, attributes: EventAttributes) =>
      c.sink.add({ t: Math.floor(t2), phase: "live", origin, body, attributes, truth });
    returning(back, { type: "login" }, { channel: "app", method: signInMethod(rng, false), success: true });
    if (rng.chance(0.4)) {
      back += rng.int(MINUTE, 20 * MINUTE);
      const money = localAmount(home, Math.max(2, rng.logNormal(35, 0.9)));
      const merchantId = pickMerchant(rng, c.merchants);
      const category = rng.chance(GIFT_CARD_SHARE) ? "gift_card" : "goods";
      returning(
        back,
        { type: "order", ...money },
        { channel: "app", merchantId, category, items: rng.int(1, 3) },
      );
      const card = c.ids.card();
      returning(
        back + rng.int(5_000, 60_000),
        { type: "payment", ...money, cardFingerprint: card, cardBin: c.ids.binOf(card) },
        { method: "card", threeDSecure: rng.chance(0.7), merchantId },
      );
    }
  }
}

/**
 * Orientation day on a campus: students sign up within a few hours from the university's two NAT
 * addresses, each on their own phone, most claiming the welcome coupon. To IP velocity features it
 * is a registration burst and a coupon farm; it is neither.
 */
function campusDay(c: LegitContext, students: number): void {
  const { rng, timeline } = c;
  const home = country("US");
  const nat = [c.addresses.next(home.residentialOctets)];
  nat.push(c.addresses.nextNear(nat[0] as string));
  const city = rng.pick(home.cities);
  const start = rng.between(timeline.liveStart + 16 * HOUR, timeline.liveStart + 18 * HOUR);
  const claimed = new Set<string>();
  for (let i = 0; i < students; i++) {
    const origin: Origin = {
      userId: c.ids.user(),
      deviceId: c.ids.device(),
      ip: rng.pick(nat),
      country: home.code,
      city,
    };
    const t = Math.min(timeline.liveEnd - HOUR, start + rng.between(0, 3 * HOUR));
    signUp(c, origin, home, t, "live", "campus", undefined, claimed);
  }
}

/**
 * A flash sale: a limited item dropped at a popular merchant at one moment; customers who were
 * waiting claim the drop coupon and order it within the hour, one each, from their usual places.
 * The look-alike of scalping and of brushing: one item, one price, one merchant, a surge.
 */
function flashSale(c: LegitContext, buyers: readonly SimUser[]): void {
  const { rng, timeline } = c;
  const merchantId = c.merchants[0] as string;
  // Announced for the evening of the biggest market (US, UTC-5).
  const drop = rng.between(timeline.liveStart + 22 * HOUR, timeline.liveStart + 23 * HOUR);
  const usdPrice = 89;
  for (const user of buyers) {
    let t = drop + rng.exponential(12 * MINUTE);
    const place = homePlace(rng, user, t, user.phoneDevice, false);
    const origin = place.origin;
    const channel = channelOf(origin.deviceId, user);
    const truth = { label: "legit", kind: "flash_sale" } as const;
    const add = (at: number, body: Body, attributes: EventAttributes) =>
      c.sink.add({ t: Math.floor(at), phase: "live", origin, body, attributes, truth });
    add(t, { type: "login" }, { channel, method: signInMethod(rng, false), success: true });
    t += rng.int(5_000, 40_000);
    if (rng.chance(0.6)) {
      add(t, { type: "coupon_claim", campaignId: FLASH_CAMPAIGN, couponId: c.ids.coupon() }, { channel });
      t += rng.int(5_000, 30_000);
    }
    const money = localAmount(user.country, usdPrice);
    add(t, { type: "order", ...money }, { channel, merchantId, category: "goods", sku: "drop-1", items: 1 });
    const card = user.cards.length > 0 ? rng.pick(user.cards) : undefined;
    add(
      t + rng.int(5_000, 30_000),
      { type: "payment", ...money, ...(card ? { cardFingerprint: card, cardBin: c.ids.binOf(card) } : {}) },
      { method: card ? "card" : "wallet", threeDSecure: rng.chance(0.7), merchantId },
    );
  }
}
