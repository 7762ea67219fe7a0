import { describe, expect, it } from "vitest";
import { createMemoryStateStore } from "#shared/adapters/memory-state-table";
import { featureConditions } from "#shared/domain/decision/index";
import type { CleanEvent } from "#shared/domain/event/index";
import {
  type CompiledFeatureSet,
  compileFeatureSet,
  type FeatureDefinition,
  type FeatureVector,
  ReferenceFeatures,
  withCurrencyConverter,
} from "#shared/domain/features/index";
import { TEST_IP_ENRICHMENT, TEST_RATES } from "./extended-streams";
import { cleanEvent, SHARDS, STREAM, T0 } from "./feature-streams";

/**
 * The feature kinds of issue 16 with values worked out by hand, each on the attack it is for
 * (these are the examples of docs/features.md). Every scenario runs through the reference and
 * the engine (one event per batch) and both must give the values written here.
 */

const S = 1_000;
const MIN = 60 * S;

async function run(
  features: FeatureDefinition[],
  events: CleanEvent[],
  derivedKeys?: Record<string, unknown>,
): Promise<FeatureVector[]> {
  const set: CompiledFeatureSet = withCurrencyConverter(
    compileFeatureSet(
      { features, ...(derivedKeys ? { derivedKeys } : {}) },
      { conditions: featureConditions, ipEnrichment: () => TEST_IP_ENRICHMENT },
    ),
    TEST_RATES.converter,
  );
  const reference = new ReferenceFeatures(set);
  const expected = events.map((e) => reference.process(e));
  const { store } = createMemoryStateStore(set, { clock: () => T0 });
  const actual: FeatureVector[] = [];
  for (const [i, event] of events.entries()) {
    const pass = await store.prepare(
      [{ event, stream: STREAM, shardId: SHARDS[0], sequenceNumber: String(100 + i) }],
      new Map(),
    );
    await pass.commit();
    const vector = pass.vectors.get(event.eventId);
    if (!vector) throw new Error(`no vector for ${event.eventId}`);
    actual.push(vector);
  }
  expect(actual).toEqual(expected);
  return actual;
}

let n = 0;
const at = (ms: number, fields: Record<string, unknown> = {}) =>
  cleanEvent({ eventId: `x${n++}`, at: T0 + ms, ...fields });
const values = (vectors: FeatureVector[], id: string) => vectors.map((v) => v.values[id]);

describe("derived keys", () => {
  it("counts the accounts behind one Gmail address however its dots and +tags are written (一人多号)", async () => {
    const f: FeatureDefinition = {
      id: "accounts_per_email_24h",
      entity: ["email.canonical"],
      aggregation: { type: "distinct", field: "userId" },
      window: "24h",
    };
    const v = await run(
      [f],
      [
        at(0, { type: "register", userId: "a1", email: "jane.doe@gmail.com" }),
        at(MIN, { type: "register", userId: "a2", email: "janedoe+shop1@gmail.com" }),
        at(2 * MIN, { type: "register", userId: "a3", email: "j.a.n.e.d.o.e+x@googlemail.com" }),
        // Elsewhere dots are significant: another person; +tags still fold.
        at(3 * MIN, { type: "register", userId: "a4", email: "jane.doe+a@example.org" }),
        at(4 * MIN, { type: "register", userId: "a5", email: "janedoe@example.org" }),
      ],
    );
    expect(values(v, "accounts_per_email_24h")).toEqual([1, 2, 3, 1, 1]);
  });

  it("groups SMS-farm numbers by block and bursts by /24 network (接码平台)", async () => {
    const block: FeatureDefinition = {
      id: "accounts_per_phone_block_24h",
      entity: ["phone.block"],
      aggregation: { type: "distinct", field: "userId" },
      window: "24h",
    };
    const prefix: FeatureDefinition = {
      id: "registrations_per_prefix_1h",
      entity: ["ip.prefix"],
      aggregation: { type: "count" },
      window: "1h",
      filter: { eventTypes: ["register"] },
    };
    const v = await run(
      [block, prefix],
      [
        at(0, { type: "register", userId: "b1", phone: "+12015550101", ip: "203.0.113.7" }),
        at(MIN, { type: "register", userId: "b2", phone: "+12015550177", ip: "203.0.113.99" }),
        at(2 * MIN, { type: "register", userId: "b3", phone: "+12015550342", ip: "203.0.114.1" }),
        at(3 * MIN, { type: "register", userId: "b4", phone: "+12015559999", ip: "2001:db8:1:2::5" }),
        at(4 * MIN, { type: "register", userId: "b5", phone: "+12015550100", ip: "2001:db8:1:ff::6" }),
      ],
      { phoneBlockDigits: 3 },
    );
    // Without the last 3 digits: +12015550 for b1, b2, b3 and b5; +12015559 for b4.
    expect(values(v, "accounts_per_phone_block_24h")).toEqual([1, 2, 3, 1, 4]);
    // 203.0.113.0/24 twice, 203.0.114.0/24 once, 2001:db8:1::/48 twice.
    expect(values(v, "registrations_per_prefix_1h")).toEqual([1, 2, 1, 1, 2]);
  });

  it("keys card testing on the BIN and sums it in one currency (撞卡)", async () => {
    const f: FeatureDefinition = {
      id: "bin_spend_eur_1h",
      entity: ["cardBin"],
      aggregation: { type: "sum", field: "amount", currency: "EUR" },
      window: "1h",
      filter: { eventTypes: ["payment"] },
    };
    const pay = (ms: number, card: string, amount: string, currency: string) =>
      at(ms, { type: "payment", cardFingerprint: card, cardBin: "45717360", amount, currency });
    const v = await run(
      [f],
      [
        pay(0, "c1", "1.00", "USD"), // 0.9234 EUR → 92 cents (half to even)
        pay(MIN, "c2", "100", "JPY"), // 0.6123 EUR → 61
        pay(2 * MIN, "c3", "2.00", "EUR"), // 200
        pay(3 * MIN, "c4", "5.00", "GBP"), // no rate: left out, flagged
      ],
    );
    expect(values(v, "bin_spend_eur_1h")).toEqual([92, 153, 353, 353]);
    expect(v.map((x) => x.saturated)).toEqual([[], [], [], ["bin_spend_eur_1h"]]);
  });
});

describe("IP enrichment", () => {
  it("counts sign-ins from hosting and VPN networks, and the accounts of one AS", async () => {
    // The test enrichment: third octet 0 mod 4 hosting, 1 unknown, 2 vpn (no ASN).
    const hosting: FeatureDefinition = {
      id: "hosting_logins_per_user_1h",
      entity: ["userId"],
      aggregation: { type: "count" },
      window: "1h",
      filter: { eventTypes: ["login"], match: { "ip.type": ["hosting", "vpn"] } },
    };
    const asn: FeatureDefinition = {
      id: "accounts_per_asn_1h",
      entity: ["ip.asn"],
      aggregation: { type: "distinct", field: "userId" },
      window: "1h",
    };
    const v = await run(
      [hosting, asn],
      [
        at(0, { userId: "c1", ip: "198.51.100.4" }), // third octet 100: hosting
        at(MIN, { userId: "c1", ip: "198.51.101.4" }), // unknown
        at(2 * MIN, { userId: "c1", ip: "198.51.102.4" }), // vpn, no ASN
        at(3 * MIN, { userId: "c2", ip: "198.51.100.9" }), // same AS as the first
      ],
    );
    expect(values(v, "hosting_logins_per_user_1h")).toEqual([1, 1, 2, 1]);
    expect(values(v, "accounts_per_asn_1h")).toEqual([1, 1, null, 2]);
  });
});

describe("ratios", () => {
  it("compares an amount with the account's own mean and maximum, without itself (盗刷)", async () => {
    const mean: FeatureDefinition = {
      id: "amount_vs_mean_7d",
      entity: ["userId"],
      aggregation: { type: "valueRatio", field: "amount", baseline: "mean", currency: "EUR", minEvents: 2 },
      window: "7d",
      filter: { eventTypes: ["order"] },
    };
    const max: FeatureDefinition = {
      id: "amount_vs_max_7d",
      entity: ["userId"],
      aggregation: { type: "valueRatio", field: "amount", baseline: "max" },
      window: "7d",
      filter: { eventTypes: ["order"] },
    };
    const order = (ms: number, amount: string) =>
      at(ms, { type: "order", userId: "d1", amount, currency: "EUR" });
    const v = await run(
      [mean, max],
      [order(0, "20.00"), order(MIN, "40.00"), order(2 * MIN, "90.00"), order(3 * MIN, "0.00"), at(4 * MIN)],
    );
    // Baselines before each: none; 20 (1 event < minEvents 2 for the mean); 20, 40 (mean 30, max 40);
    // 20, 40, 90 (mean 50, max 90). A login carries no amount: null.
    expect(values(v, "amount_vs_mean_7d")).toEqual([null, null, 3, 0, null]);
    expect(values(v, "amount_vs_max_7d")).toEqual([null, 2, 2.25, 0, null]);
  });

  it("compares this minute's rate with the campaign's usual rate before it (薅羊毛 surge)", async () => {
    const f: FeatureDefinition = {
      id: "claims_rate_1m_vs_10m",
      entity: ["campaignId"],
      aggregation: { type: "rateRatio", baseline: "10m", minBaseline: 2 },
      window: "1m",
      filter: { eventTypes: ["coupon_claim"] },
    };
    const claim = (ms: number) =>
      at(ms, { type: "coupon_claim", campaignId: "k1", couponId: `q${ms}`, userId: `u${ms}` });
    // 5 s buckets (the finest dividing 1m and 10m in at most 240): Nw = 12, Nb = 120.
    const quiet = [0, 2, 4, 6].map((m) => claim(m * MIN));
    const burst = [9 * MIN, 9 * MIN + S, 9 * MIN + 2 * S, 9 * MIN + 3 * S].map(claim);
    const v = await run([f], [...quiet, ...burst]);
    // Before the burst the baseline (events of the 9 minutes before the recent minute) holds
    // 0, 1, 2, 3 claims; the recent minute 1 each: ratios need 2 in the baseline.
    // Burst: recent 1..4, baseline 4 (claims at 0, 2, 4, 6 min): r × (120 − 12) / (12 × 4).
    expect(values(v, "claims_rate_1m_vs_10m")).toEqual([
      null,
      null,
      (1 * 108) / (12 * 2),
      108 / 36,
      108 / 48,
      216 / 48,
      324 / 48,
      432 / 48,
    ]);
  });
});

describe("time since", () => {
  it("measures an order's distance from the account's last one-time-code sign-in and from its registration (SIM swap)", async () => {
    const otp: FeatureDefinition = {
      id: "since_otp_login_30d",
      entity: ["userId"],
      aggregation: { type: "timeSince" },
      window: "30d",
      filter: { eventTypes: ["login"], condition: { cel: 'event.attributes.method == "otp"' } },
    };
    const age: FeatureDefinition = {
      id: "account_age_30d",
      entity: ["userId"],
      aggregation: { type: "timeSince" },
      window: "30d",
      filter: { eventTypes: ["register"] },
    };
    const v = await run(
      [otp, age],
      [
        at(0, { type: "register", userId: "e1" }),
        at(3 * 86_400_000, { userId: "e1", attributes: { method: "password" } }),
        at(10 * 86_400_000, { userId: "e1", attributes: { method: "otp" } }),
        at(10 * 86_400_000 + 2 * MIN, { type: "order", userId: "e1", amount: "900.00", currency: "EUR" }),
      ],
    );
    expect(values(v, "since_otp_login_30d")).toEqual([null, null, null, 2 * MIN]);
    expect(values(v, "account_age_30d")).toEqual([
      null,
      3 * 86_400_000,
      10 * 86_400_000,
      10 * 86_400_000 + 2 * MIN,
    ]);
  });
});

describe("link counts", () => {
  it("counts the accounts two hops away through shared devices, then through cards used on them", async () => {
    const features: FeatureDefinition[] = [
      {
        id: "devices_per_user",
        entity: ["userId"],
        aggregation: { type: "distinct", field: "deviceId", maxDistinct: 10 },
        window: "24h",
      },
      {
        id: "accounts_per_device",
        entity: ["deviceId"],
        aggregation: { type: "distinct", field: "userId", maxDistinct: 10 },
        window: "24h",
      },
      {
        id: "cards_per_device",
        entity: ["deviceId"],
        aggregation: { type: "distinct", field: "cardFingerprint", maxDistinct: 5 },
        window: "24h",
        filter: { eventTypes: ["payment"] },
      },
      {
        id: "accounts_per_card",
        entity: ["cardFingerprint"],
        aggregation: { type: "distinct", field: "userId", maxDistinct: 3 },
        window: "24h",
        filter: { eventTypes: ["payment"] },
      },
      {
        id: "accounts_via_devices",
        entity: ["userId"],
        aggregation: { type: "linked", path: ["devices_per_user", "accounts_per_device"] },
      },
      {
        id: "accounts_via_device_cards",
        entity: ["userId"],
        aggregation: { type: "linked", path: ["devices_per_user", "cards_per_device", "accounts_per_card"] },
      },
    ];
    const pay = (ms: number, user: string, device: string, card: string) =>
      at(ms, {
        type: "payment",
        userId: user,
        deviceId: device,
        cardFingerprint: card,
        amount: "1.00",
        currency: "EUR",
      });
    const v = await run(features, [
      at(0, { userId: "f1", deviceId: "phone-1" }),
      at(MIN, { userId: "f2", deviceId: "phone-1" }), // f2 shares f1's phone
      pay(2 * MIN, "f3", "laptop-9", "card-x"), // f3 pays with card-x elsewhere
      pay(3 * MIN, "f2", "phone-1", "card-x"), // card-x is used on phone-1
      at(4 * MIN, { userId: "f1", deviceId: "tablet-2" }), // f1 on a new device
    ]);
    // f1 on tablet-2: its devices phone-1 and tablet-2; accounts on them other than f1: f2.
    expect(values(v, "accounts_via_devices")).toEqual([0, 1, 0, 1, 1]);
    // Cards used on f1's devices: card-x (on phone-1); accounts that paid with it: f3, f2.
    expect(values(v, "accounts_via_device_cards")).toEqual([0, 0, 0, 1, 2]);
  });

  it("reaches a referrer's grandchildren through the referrerId attribute (推荐返利)", async () => {
    const features: FeatureDefinition[] = [
      {
        id: "referees",
        entity: ["attributes.referrerId"],
        aggregation: { type: "distinct", field: "userId", maxDistinct: 10 },
        window: "7d",
        filter: { eventTypes: ["register"] },
      },
      {
        id: "referral_grandchildren",
        entity: ["attributes.referrerId"],
        aggregation: { type: "linked", path: ["referees", "referees"] },
      },
    ];
    const register = (ms: number, user: string, referrer: string) =>
      at(ms, { type: "register", userId: user, attributes: { referrerId: referrer } });
    const v = await run(features, [
      register(0, "g1", "root"),
      register(MIN, "g2", "root"),
      register(2 * MIN, "g11", "g1"),
      register(3 * MIN, "g12", "g1"),
      register(4 * MIN, "g21", "g2"),
      register(5 * MIN, "g3", "root"), // a third child of root: its grandchildren are g11, g12, g21
    ]);
    expect(values(v, "referees")).toEqual([1, 2, 1, 2, 1, 3]);
    expect(values(v, "referral_grandchildren")).toEqual([0, 0, 0, 0, 0, 3]);
  });
});
