import { describe, expect, it } from "vitest";
import { shippedIpEnrichment } from "#shared/domain/enrichment/shipped-ip-dataset";
import type { CleanEvent } from "#shared/domain/event/index";
import { COUNTRIES, HOSTING_PREFIXES } from "#shared/domain/simulation/geography";
import {
  type AttackTruth,
  DEFAULT_SEED,
  DEFAULT_SIMULATION,
  type GroundTruth,
  PASSABLE_CHALLENGES,
  simulate,
} from "#shared/domain/simulation/index";

/**
 * The staged attacks have the shapes docs/simulator.md describes: the burst variants carry the
 * textbook signals, the slow variants spread the same abuse so no device, IP or card shows it.
 */

const START = Date.parse("2026-03-10T00:00:00.000Z");
const sim = simulate({ ...DEFAULT_SIMULATION, seed: DEFAULT_SEED, startMs: START, users: 300 });
const pairs = sim.events.map((event, i) => ({ event, truth: sim.truth[i] as GroundTruth }));
const MINUTE = 60_000;

function actors(attack: AttackTruth["attack"], variant: AttackTruth["variant"]): CleanEvent[][] {
  const by = new Map<string, CleanEvent[]>();
  for (const { event, truth } of pairs) {
    if (truth.label !== "attack" || truth.attack !== attack || truth.variant !== variant) continue;
    const actor = truth.actor ?? "";
    by.set(actor, [...(by.get(actor) ?? []), event]);
  }
  return [...by.values()];
}
const distinct = <T>(xs: readonly T[]) => new Set(xs).size;
const ofType = <T extends CleanEvent["type"]>(events: readonly CleanEvent[], type: T) =>
  events.filter((e): e is Extract<CleanEvent, { type: T }> => e.type === type);
const minor = (amount: string) => Number(amount.replace(".", ""));
const span = (events: readonly CleanEvent[]) => {
  const times = events.map((e) => Date.parse(e.occurredAt));
  return Math.max(...times) - Math.min(...times);
};
const legitHistory = pairs
  .filter((p) => p.truth.label === "legit" && p.truth.phase === "history")
  .map((p) => p.event);

describe("coupon farming", () => {
  it("burst: a dozen fresh accounts on two devices behind one IP, each claiming the welcome bonus within two minutes", () => {
    const farms = actors("coupon_farming", "burst");
    expect(farms).toHaveLength(2);
    for (const farm of farms) {
      const registers = ofType(farm, "register");
      const claims = ofType(farm, "coupon_claim");
      expect(registers.length).toBeGreaterThanOrEqual(10);
      expect(registers.length).toBeLessThanOrEqual(14);
      expect(claims.map((c) => c.userId).sort()).toEqual(registers.map((r) => r.userId).sort());
      expect(distinct(farm.map((e) => e.deviceId))).toBe(2);
      expect(distinct(farm.map((e) => e.ip))).toBe(1);
      expect(distinct(claims.map((c) => c.campaignId))).toBe(1);
      for (const claim of claims) {
        const register = registers.find((r) => r.userId === claim.userId);
        const gap = Date.parse(claim.occurredAt) - Date.parse(register?.occurredAt ?? "");
        expect(gap).toBeGreaterThanOrEqual(30_000);
        expect(gap).toBeLessThanOrEqual(120_000);
      }
    }
  });

  it("slow: every account on its own device and IP, over the day; only the SMS numbers repeat", () => {
    for (const farm of actors("coupon_farming", "slow")) {
      const registers = ofType(farm, "register");
      expect(distinct(registers.map((r) => r.deviceId))).toBe(registers.length);
      expect(distinct(registers.map((r) => r.ip))).toBe(registers.length);
      expect(distinct(registers.map((r) => r.phone))).toBeLessThanOrEqual(3);
      expect(span(farm)).toBeGreaterThan(6 * 60 * MINUTE);
    }
  });
});

describe("order brushing", () => {
  it("burst: small orders from puppets registered days before, on two devices and one IP, paid with two cards", () => {
    const [shop] = actors("order_brushing", "burst");
    const orders = ofType(shop ?? [], "order");
    expect(orders.length).toBeGreaterThanOrEqual(24);
    for (const o of orders) expect(minor(o.amount)).toBeLessThanOrEqual(1000);
    expect(distinct(orders.map((o) => o.deviceId))).toBe(2);
    expect(distinct(orders.map((o) => o.ip))).toBe(1);
    expect(distinct(ofType(shop ?? [], "payment").map((p) => p.cardFingerprint))).toBe(2);
    const registered = ofType(shop ?? [], "register");
    expect(registered).toHaveLength(8);
    for (const r of registered) expect(Date.parse(r.occurredAt)).toBeLessThan(START);
    expect(span(orders)).toBeLessThanOrEqual(90 * MINUTE);
  });

  it("slow: each puppet on its own device, a new IP for every order", () => {
    const [shop] = actors("order_brushing", "slow");
    const orders = ofType(shop ?? [], "order");
    expect(distinct(ofType(shop ?? [], "register").map((r) => r.deviceId))).toBe(12);
    expect(distinct(orders.map((o) => o.ip))).toBe(orders.length);
  });
});

describe("account takeover", () => {
  const homeOf = (userId: string) => legitHistory.find((e) => e.userId === userId)?.geo?.country;
  const devicesOf = (userId: string) =>
    new Set(legitHistory.filter((e) => e.userId === userId).map((e) => e.deviceId));

  it("burst: a known customer, a new device abroad, many sign-in attempts in minutes, then a large order", () => {
    const takeovers = actors("account_takeover", "burst");
    expect(takeovers).toHaveLength(6);
    for (const t of takeovers) {
      const userId = t[0]?.userId ?? "";
      expect(homeOf(userId)).toBeDefined();
      expect(distinct(t.map((e) => e.userId))).toBe(1);
      expect(devicesOf(userId).has(t[0]?.deviceId ?? "")).toBe(false);
      const logins = ofType(t, "login");
      expect(logins.length).toBeGreaterThanOrEqual(6);
      expect(logins.map((l) => l.attributes?.success)).toEqual([...logins.slice(1).map(() => false), true]);
      expect(span(logins)).toBeLessThanOrEqual(5 * MINUTE);
      for (const e of t) expect(e.geo?.country).not.toBe(homeOf(userId));
      expect(ofType(t, "order")).toHaveLength(1);
      expect(ofType(t, "payment")).toHaveLength(1);
    }
  });

  it("slow: one clean sign-in from the customer's own country on a new device, the order later", () => {
    for (const t of actors("account_takeover", "slow")) {
      const userId = t[0]?.userId ?? "";
      for (const e of t) expect(e.geo?.country).toBe(homeOf(userId));
      expect(devicesOf(userId).has(t[0]?.deviceId ?? "")).toBe(false);
      const logins = ofType(t, "login");
      expect(logins.filter((l) => l.attributes?.success === true)).toHaveLength(1);
      const order = ofType(t, "order")[0];
      const last = logins[logins.length - 1];
      expect(Date.parse(order?.occurredAt ?? "") - Date.parse(last?.occurredAt ?? "")).toBeGreaterThanOrEqual(
        20 * MINUTE,
      );
    }
  });

  it("takes over each customer once", () => {
    const victims = [...actors("account_takeover", "burst"), ...actors("account_takeover", "slow")].map(
      (t) => t[0]?.userId,
    );
    expect(distinct(victims)).toBe(victims.length);
  });
});

describe("card testing", () => {
  it("burst: twenty-odd cards, tiny payments, one device, ten minutes", () => {
    const [tester] = actors("card_testing", "burst");
    const payments = ofType(tester ?? [], "payment");
    expect(distinct(payments.map((p) => p.cardFingerprint))).toBeGreaterThanOrEqual(20);
    // Each card in its country's currency, at most about two dollars' worth; one breached issuer.
    expect(distinct(payments.map((p) => p.currency))).toBeGreaterThanOrEqual(3);
    for (const p of payments) {
      const place = Object.values(COUNTRIES).find((c) => c.currency === p.currency);
      expect(place).toBeDefined();
      expect(minor(p.amount) / (place?.perUsd ?? 1)).toBeLessThanOrEqual(2.01);
    }
    expect(distinct(payments.map((p) => p.cardBin))).toBe(1);
    expect(distinct(payments.map((p) => p.deviceId))).toBe(1);
    expect(span(payments)).toBeLessThanOrEqual(12 * MINUTE);
  });

  it("slow: each card once, at most three cards per device, over the day", () => {
    const [tester] = actors("card_testing", "slow");
    const payments = ofType(tester ?? [], "payment");
    expect(distinct(payments.map((p) => p.cardFingerprint))).toBe(payments.length);
    const perDevice = new Map<string, number>();
    for (const p of payments) perDevice.set(p.deviceId, (perDevice.get(p.deviceId) ?? 0) + 1);
    expect(Math.max(...perDevice.values())).toBeLessThanOrEqual(3);
    expect(span(payments)).toBeGreaterThan(6 * 60 * MINUTE);
  });
});

describe("registration bursts", () => {
  it("burst: dozens of sign-ups in minutes from two IPs, a new device id each, some at a block-listed domain", () => {
    for (const run of actors("registration_burst", "burst")) {
      expect(run.length).toBeGreaterThanOrEqual(25);
      expect(distinct(run.map((e) => e.ip))).toBeLessThanOrEqual(2);
      expect(distinct(run.map((e) => e.deviceId))).toBe(run.length);
      expect(span(run)).toBeLessThanOrEqual(10 * MINUTE);
    }
    const all = actors("registration_burst", "burst").flat();
    expect(ofType(all, "register").some((r) => r.email?.endsWith("@mailinator.com"))).toBe(true);
  });

  it("slow: a new IP and device for every sign-up, spread over the day", () => {
    const [run] = actors("registration_burst", "slow");
    expect(distinct((run ?? []).map((e) => e.ip))).toBe(run?.length);
    expect(span(run ?? [])).toBeGreaterThan(12 * 60 * MINUTE);
  });
});

describe("legitimate look-alikes and rhythm", () => {
  const live = pairs.filter((p) => p.truth.phase === "live" && p.truth.label === "legit");
  const usersPer = (key: (e: CleanEvent) => string, kind: string) => {
    const m = new Map<string, Set<string>>();
    for (const { event } of live.filter((p) => p.truth.label === "legit" && p.truth.kind === kind)) {
      m.set(key(event), (m.get(key(event)) ?? new Set()).add(event.userId));
    }
    return Math.max(...[...m.values()].map((s) => s.size));
  };

  it("shares family tablets, office IPs and carrier NAT addresses between customers", () => {
    expect(usersPer((e) => e.deviceId, "family_device")).toBeGreaterThanOrEqual(2);
    expect(usersPer((e) => e.ip, "office")).toBeGreaterThanOrEqual(3);
    expect(usersPer((e) => e.ip, "carrier_nat")).toBeGreaterThanOrEqual(10);
  });

  it("follows the daily rhythm: evenings are several times busier than small hours", () => {
    const byHour = new Array<number>(24).fill(0);
    for (const { event, truth } of live) {
      // Travellers and VPN users are not where their clock is; a campus day and a flash sale happen
      // at their moment, not by the rhythm.
      if (truth.label !== "legit" || ["travel", "vpn", "campus", "flash_sale"].includes(truth.kind)) continue;
      const offset = COUNTRIES[event.geo?.country ?? ""]?.utcOffsetHours ?? 0;
      const hour = Math.floor((((Date.parse(event.occurredAt) / 3_600_000 + offset) % 24) + 24) % 24);
      byHour[hour] = (byHour[hour] ?? 0) + 1;
    }
    const evening = [18, 19, 20, 21].reduce((s, h) => s + (byHour[h] ?? 0), 0);
    const night = [2, 3, 4, 5].reduce((s, h) => s + (byHour[h] ?? 0), 0);
    expect(evening).toBeGreaterThan(5 * night);
  });
});

describe("the families from the risk literature", () => {
  const live = pairs.filter((p) => p.truth.phase === "live");
  const hostingPrefix = (ip: string) => HOSTING_PREFIXES.some((p) => ip.startsWith(`${p}.`));

  it("SIM-swap takeover: a one-time-code sign-in on a new device over the victim's carrier, then gift cards", () => {
    for (const variant of ["burst", "slow"] as const) {
      for (const events of actors("sim_swap_takeover", variant)) {
        const [login] = ofType(events, "login");
        expect(login?.attributes).toMatchObject({ method: "otp", success: true });
        const victim = events[0]?.userId;
        // The victim's own account, on a device it never used before.
        const earlier = pairs.filter((p) => p.event.userId === victim && p.truth.label === "legit");
        expect(earlier.length).toBeGreaterThan(0);
        expect(earlier.map((p) => p.event.deviceId)).not.toContain(login?.deviceId);
        const orders = ofType(events, "order");
        expect(orders.length).toBe(variant === "burst" ? orders.length : 1);
        for (const o of orders) expect(o.attributes?.category).toBe("gift_card");
        expect(ofType(events, "payment").length).toBe(orders.length);
      }
    }
    expect(PASSABLE_CHALLENGES.sim_swap_takeover).toContain("challenge_sms");
  });

  it("SMS-activation farm: registrations only, fresh devices, numbers from one or two blocks", () => {
    for (const variant of ["burst", "slow"] as const) {
      for (const events of actors("sms_farm", variant)) {
        expect(events.every((e) => e.type === "register")).toBe(true);
        expect(distinct(events.map((e) => e.deviceId))).toBe(events.length);
        const blocks = events.map((e) => (e.type === "register" ? (e.phone ?? "").slice(0, -4) : ""));
        expect(distinct(blocks)).toBe(variant === "burst" ? 1 : 2);
      }
    }
  });

  it("credential stuffing: many customers' accounts, mostly failures, from two or three bot devices", () => {
    for (const variant of ["burst", "slow"] as const) {
      const [events = []] = actors("credential_stuffing", variant);
      expect(events.every((e) => e.type === "login")).toBe(true);
      expect(distinct(events.map((e) => e.userId))).toBeGreaterThan(events.length / 2);
      expect(distinct(events.map((e) => e.deviceId))).toBeLessThanOrEqual(3);
      const failed = events.filter((e) => e.attributes?.success === false).length;
      expect(failed / events.length).toBeGreaterThan(0.7);
      if (variant === "burst") expect(events.every((e) => hostingPrefix(e.ip))).toBe(true);
      else expect(events.some((e) => hostingPrefix(e.ip))).toBe(false);
    }
  });

  it("paid brushing: real customers on their own phones order one price at one new shop", () => {
    for (const variant of ["burst", "slow"] as const) {
      const [events = []] = actors("paid_brushing", variant);
      const orders = ofType(events, "order");
      expect(distinct(orders.map((o) => o.attributes?.merchantId))).toBe(1);
      expect(distinct(orders.map((o) => o.amount))).toBe(1);
      const shop = orders[0]?.attributes?.merchantId;
      expect(
        live.filter((p) => p.truth.label === "legit" && p.event.attributes?.merchantId === shop),
      ).toEqual([]);
      for (const o of orders) {
        const own = pairs.filter((p) => p.truth.label === "legit" && p.event.userId === o.userId);
        expect(own.map((p) => p.event.deviceId)).toContain(o.deviceId);
      }
    }
  });

  it("referral abuse: a fan of referees (burst) or a two-level tree (slow), each claiming the reward", () => {
    const referrers = (events: readonly CleanEvent[]) =>
      countBy(
        ofType(events, "register").flatMap((e) =>
          e.attributes?.referrerId ? [String(e.attributes.referrerId)] : [],
        ),
      );
    const [burst = []] = actors("referral_abuse", "burst");
    expect(Math.max(...Object.values(referrers(burst)))).toBeGreaterThanOrEqual(10);
    const [slow = []] = actors("referral_abuse", "slow");
    const tree = referrers(slow);
    const children = new Set(ofType(slow, "register").map((e) => e.userId));
    // Every referrer is itself an account the attack registered; one (the root) names no referrer.
    expect(Object.keys(tree).filter((r) => !children.has(r))).toEqual([]);
    expect(ofType(slow, "register").filter((e) => e.attributes?.referrerId === undefined)).toHaveLength(1);
    expect(Object.keys(tree).length).toBeGreaterThanOrEqual(4);
    for (const e of ofType(slow, "coupon_claim")) expect(e.attributes?.referrerId).toBeDefined();
  });

  it("scalping and card cash-out: accounts made days before, few cards (scalping) or a stolen BIN batch (cash-out)", () => {
    for (const variant of ["burst", "slow"] as const) {
      const [scalper = []] = actors("scalping", variant);
      const payments = ofType(scalper, "payment");
      expect(distinct(payments.map((p) => p.cardFingerprint))).toBeLessThanOrEqual(4);
      expect(distinct(payments.map((p) => p.userId))).toBeGreaterThanOrEqual(10);
      const registered = pairs.filter(
        (p) => p.truth.label === "attack" && p.truth.attack === "scalping" && p.event.type === "register",
      );
      expect(registered.every((p) => p.truth.phase === "history")).toBe(true);
    }
    const cashOut = [...actors("card_cashout", "burst"), ...actors("card_cashout", "slow")].flat();
    const payments = ofType(cashOut, "payment");
    expect(payments.length).toBeGreaterThanOrEqual(4);
    expect(payments.every((p) => p.attributes?.threeDSecure === false)).toBe(true);
    const bins = new Set(
      pairs
        .filter((p) => p.truth.label === "legit")
        .map((p) => (p.event.type === "payment" ? p.event.cardBin : undefined)),
    );
    for (const p of payments) expect(bins.has(p.cardBin)).toBe(false);
  });

  it("hosting addresses are in real hosting networks; the look-alikes are there", () => {
    const kinds = new Set(live.flatMap((p) => (p.truth.label === "legit" ? [p.truth.kind] : [])));
    for (const kind of ["campus", "flash_sale", "shared_card", "new_device", "travel", "vpn"])
      expect(kinds).toContain(kind);
    const enrichment = shippedIpEnrichment();
    for (const prefix of HOSTING_PREFIXES) expect(enrichment.lookup(`${prefix}.1.1`).type).toBe("hosting");
    // A campus day: many sign-ups behind two addresses, each on its own phone.
    const campus = live.filter(
      (p) => p.truth.label === "legit" && p.truth.kind === "campus" && p.event.type === "register",
    );
    expect(distinct(campus.map((p) => p.event.ip))).toBe(2);
    expect(distinct(campus.map((p) => p.event.deviceId))).toBe(campus.length);
  });
});

const countBy = (xs: readonly string[]) => {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
};
