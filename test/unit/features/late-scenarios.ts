import type { StoredEntity } from "#shared/adapters/dynamodb-state-codec";
import type { CleanEvent } from "#shared/domain/event/index";
import type { FeatureRecord, FeatureVector } from "#shared/domain/features/index";
import type { FeatureStateStore } from "#shared/ports/state-store";
import { cleanEvent, SHARDS, STREAM, T0 } from "./feature-streams";

/**
 * Hand-worked scenarios of late events with the default feature set and the score function's
 * default allowance (P = 1 h 1 min, S = 5 min), shared by the unit tests (memory table) and the
 * integration tests (DynamoDB Local). docs/features.md, section 3, walks through the same values.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The scenarios' "now": two days after T0, on a 12-hour boundary, so that B − 26 h is still after
 * T0 and every bucket edge below is easy to see (20-minute buckets of 24 h windows, 12-hour
 * buckets of 30 d windows).
 */
export const B = T0 + 48 * HOUR;

/** One record of a scenario with its name. */
export interface NamedRecord {
  readonly name: string;
  readonly record: FeatureRecord;
}

/**
 * Two shards sharing one device, one IP and one card. Shard 0 (user `ls-u1`) pays twice now;
 * shard 1 (user `ls-u2`) pays 90 minutes ago (within the reach of every feature but the
 * 10-minute card count), registers 25 hours ago (within the reach of 24 h features, beyond that
 * of 1 h ones) and logs in 26 hours ago (beyond the reach of 24 h features too, within 30 d).
 */
export function twoShardRecords(
  prefix: string,
  ip = "203.0.113.9",
): { shard0: NamedRecord[]; shard1: NamedRecord[] } {
  const shared = { deviceId: `${prefix}-device`, ip, geo: { country: "DE" } };
  const pay = (name: string, userId: string, at: number, amount: string) =>
    cleanEvent({
      eventId: `${prefix}-${name}`,
      at,
      type: "payment",
      userId,
      ...shared,
      amount,
      currency: "USD",
      cardFingerprint: `${prefix}-card`,
    });
  const other = (name: string, userId: string, at: number, type: string) =>
    cleanEvent({ eventId: `${prefix}-${name}`, at, type, userId, ...shared });
  const u1 = `${prefix}-u1`;
  const u2 = `${prefix}-u2`;
  const named = (shard: number, events: [string, CleanEvent][]): NamedRecord[] =>
    events.map(([name, event], i) => ({
      name,
      record: {
        event,
        stream: STREAM,
        shardId: SHARDS[shard] as string,
        sequenceNumber: String(7_000 + i),
      },
    }));
  return {
    shard0: named(0, [
      ["a1", pay("a1", u1, B, "10.00")],
      ["a2", pay("a2", u1, B + MINUTE, "5.00")],
    ]),
    shard1: named(1, [
      ["b1", pay("b1", u2, B - 90 * MINUTE, "7.00")],
      ["b2", other("b2", u2, B - 25 * HOUR, "register")],
      ["b3", other("b3", u2, B - 26 * HOUR, "login")],
    ]),
  };
}

/** The commit orders of the two-shard scenario: each step is one batch (prepare, commit). */
export const COMMIT_ORDERS: Readonly<Record<string, readonly (readonly string[])[]>> = {
  "shard 0 first": [
    ["a1", "a2"],
    ["b1", "b2", "b3"],
  ],
  "shard 1 first": [
    ["b1", "b2", "b3"],
    ["a1", "a2"],
  ],
  interleaved: [["a1"], ["b1"], ["a2"], ["b2"], ["b3"]],
};

/** Feeds the batches of `order` to the store one after the other; returns each event's vector. */
export async function runOrder(
  store: FeatureStateStore,
  records: { shard0: NamedRecord[]; shard1: NamedRecord[] },
  order: readonly (readonly string[])[],
): Promise<Map<string, FeatureVector>> {
  const byName = new Map([...records.shard0, ...records.shard1].map((r) => [r.name, r.record]));
  const vectors = new Map<string, FeatureVector>();
  for (const names of order) {
    const batch = names.map((name) => byName.get(name) as FeatureRecord);
    const pass = await store.prepare(batch, new Map());
    const committed = await pass.commit();
    if (committed.failed.length > 0) throw new Error(`commit failed: ${JSON.stringify(committed.errors)}`);
    for (const name of names) {
      const vector = pass.vectors.get((byName.get(name) as FeatureRecord).event.eventId);
      if (vector) vectors.set(name, vector);
    }
  }
  return vectors;
}

/** b2's and b3's late list when nothing 25 h back is beyond a 24 h feature's reach. */
const LATE_1H = [
  "devices_per_user_1h",
  "ips_per_user_1h",
  "countries_per_user_1h",
  "accounts_per_device_1h",
  "accounts_per_ip_1h",
];
/** b3's late list once shard 0's payments (at B) were counted: the device's and IP's 24 h features too. */
const LATE_1H_AND_24H = [
  "devices_per_user_1h",
  "ips_per_user_1h",
  "countries_per_user_1h",
  "accounts_per_device_1h",
  "accounts_per_device_24h",
  "cards_per_device_24h",
  "accounts_per_ip_1h",
  "accounts_per_ip_24h",
];

/** What one event of the two-shard scenario reads: its `late` list and some values. */
export interface DocumentedReading {
  readonly late: readonly string[];
  readonly values: Readonly<Record<string, number | null>>;
}

/**
 * What each event of the two-shard scenario reads, per commit order: its whole `late` list (in
 * feature set order) and the values of the shared entities' features, worked out by hand.
 * Reaches (L + P + S): 10 min features 1 h 16 min, 1 h features 2 h 6 min, 24 h features
 * 25 h 6 min; a feature's horizon only moves with the events it counts (registrations only
 * with registrations, cards only with payments).
 *
 * - b1 (90 min back) is late only for the 10-minute card count, and only once shard 0's
 *   payments at B were counted before it.
 * - b2 (25 h back) is late for the 1 h features of user ls-u2 (b1 is 23.5 h ahead of it) and of
 *   the device and IP, in every order; it reads the 24 h features as of its own bucket. Its
 *   registration counts are not late: no registration was counted before it.
 * - b3 (26 h back) is late for the device's and IP's 24 h features only when shard 0's payments
 *   at B were counted before it (26 h > 25 h 6 min); after shard 1 alone (horizon B − 90 min,
 *   24.5 h ahead) it reads them. Its registration counts follow b2 (1 h ahead): not late, and b2
 *   is in a later bucket, so 0. Its user's last sighting is b2: same 12 h bucket, counted before.
 * - a1 and a2 are never late; they read whatever of shard 1 was counted before them and lies in
 *   their windows (b1 only: b2 and b3 are more than 24 h back).
 */
export const DOCUMENTED: Readonly<Record<string, Readonly<Record<string, DocumentedReading>>>> = {
  "shard 0 first": {
    a1: { late: [], values: shared(1, 1000, 1, B) },
    a2: { late: [], values: shared(1, 1500, 2, B) },
    b1: { late: ["payments_per_card_10m"], values: shared(1, 700, null, B - 90 * MINUTE) },
    b2: { late: LATE_1H, values: b2Values() },
    b3: { late: LATE_1H_AND_24H, values: b3Values(true) },
  },
  "shard 1 first": {
    b1: { late: [], values: shared(1, 700, 1, B - 90 * MINUTE) },
    b2: { late: LATE_1H, values: b2Values() },
    b3: { late: LATE_1H, values: b3Values(false) },
    a1: { late: [], values: shared(2, 1700, 1, B - 26 * HOUR) },
    a2: { late: [], values: shared(2, 2200, 2, B - 26 * HOUR) },
  },
  interleaved: {
    a1: { late: [], values: shared(1, 1000, 1, B) },
    b1: { late: ["payments_per_card_10m"], values: shared(1, 700, null, B - 90 * MINUTE) },
    a2: { late: [], values: shared(2, 2200, 2, B - 90 * MINUTE) },
    b2: { late: LATE_1H, values: b2Values() },
    b3: { late: LATE_1H_AND_24H, values: b3Values(true) },
  },
};

/**
 * Device, IP and card values of a payment: one account on the device and IP in the hour (its
 * own), `accounts24h` in 24 h, no registrations, one card.
 */
function shared(
  accounts24h: number,
  spend: number,
  payments10m: number | null,
  firstSeen: number,
): Record<string, number | null> {
  return {
    accounts_per_device_1h: 1,
    accounts_per_device_24h: accounts24h,
    registrations_per_device_24h: 0,
    cards_per_device_24h: 1,
    device_first_seen_30d: firstSeen,
    accounts_per_ip_1h: 1,
    accounts_per_ip_24h: accounts24h,
    registrations_per_ip_1h: 0,
    card_spend_24h: spend,
    payments_per_card_10m: payments10m,
    accounts_per_card_24h: accounts24h,
  };
}

/** b2, the registration 25 h back: 1 h features late, the rest read as of its own bucket. */
function b2Values(): Record<string, number | null> {
  return {
    accounts_per_device_1h: null,
    accounts_per_device_24h: 1,
    registrations_per_device_24h: 1,
    cards_per_device_24h: 0,
    device_first_seen_30d: B - 25 * HOUR,
    accounts_per_ip_1h: null,
    accounts_per_ip_24h: 1,
    registrations_per_ip_1h: 1,
    devices_per_user_24h: 1,
    user_last_seen_30d: null,
    card_spend_24h: null,
    payments_per_card_10m: null,
  };
}

/** b3, the login 26 h back; `afterNow`: shard 0's payments at B were counted before it. */
function b3Values(afterNow: boolean): Record<string, number | null> {
  return {
    accounts_per_device_1h: null,
    accounts_per_device_24h: afterNow ? null : 1,
    registrations_per_device_24h: 0,
    cards_per_device_24h: afterNow ? null : 0,
    device_first_seen_30d: B - 26 * HOUR,
    accounts_per_ip_1h: null,
    accounts_per_ip_24h: afterNow ? null : 1,
    registrations_per_ip_1h: 0,
    devices_per_user_24h: 1,
    logins_per_user_10m: 1,
    user_last_seen_30d: B - 25 * HOUR,
    user_device_first_seen_30d: B - 26 * HOUR,
  };
}

/**
 * An item in a form that does not depend on the order things were written in: the state's JSON
 * with object keys sorted (bucket lists and marks are sorted already), and the TTL. The revision
 * is left out: it counts writes, and conflicts make their number vary.
 */
export function canonicalItem(stored: StoredEntity): { state: unknown; expiresAt: number } {
  return { state: sortKeys(JSON.parse(stored.state)), expiresAt: stored.expiresAt };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}

/**
 * The reproduction of issue 13: one fresh registration on a device, then 8 registrations on the
 * same device and IP dated 25 hours back, then 5 fresh ones; each registration by a new account.
 */
export function reproductionBatches(prefix: string): FeatureRecord[][] {
  let sequence = 9_000;
  const registration = (name: string, at: number, user: string): FeatureRecord => ({
    event: cleanEvent({
      eventId: `${prefix}-${name}`,
      at,
      type: "register",
      userId: `${prefix}-${user}`,
      deviceId: `${prefix}-device`,
      ip: "198.51.100.77",
      geo: { country: "DE" },
    }),
    stream: STREAM,
    shardId: SHARDS[0],
    sequenceNumber: String(sequence++),
  });
  return [
    [registration("fresh-0", B, "f0")],
    Array.from({ length: 8 }, (_, k) =>
      registration(`old-${k + 1}`, B - 25 * HOUR + (k + 1) * 1000, `o${k + 1}`),
    ),
    Array.from({ length: 5 }, (_, j) =>
      registration(`fresh-${j + 1}`, B + MINUTE + (j + 1) * 1000, `f${j + 1}`),
    ),
  ];
}

/**
 * The documented vector of every registration of the reproduction, by name.
 * - fresh-0 reads only itself.
 * - old-k (k = 1..8, 25 h back): the device's and IP's 1 h features reach 2 h 6 min behind the
 *   device's horizon (B): late, null. The 24 h features reach 25 h 6 min: old-k reads them as of
 *   its own time: k accounts and k registrations (the old ones before it and itself; fresh-0 is in
 *   a later bucket). It counts into every feature, 1 h ones included.
 * - fresh-j (j = 1..5): windows ending at B + 1 min hold fresh-0, fresh-1..j; the old ones are
 *   25 h back, outside every 1 h and 24 h window; the device's first sighting in 30 days is old-1.
 */
export function reproductionVectors(): Map<string, FeatureVector> {
  const vectors = new Map<string, FeatureVector>();
  const vector = (
    t: number,
    device: { accounts1h: number | null; accounts24h: number; registrations24h: number; firstSeen: number },
    late: string[],
  ): FeatureVector => ({
    version: "",
    values: {
      devices_per_user_1h: 1,
      devices_per_user_24h: 1,
      ips_per_user_1h: 1,
      ips_per_user_24h: 1,
      countries_per_user_1h: 1,
      logins_per_user_10m: 0,
      order_amount_per_user_24h: null,
      user_last_seen_30d: null,
      accounts_per_device_1h: device.accounts1h,
      accounts_per_device_24h: device.accounts24h,
      registrations_per_device_24h: device.registrations24h,
      cards_per_device_24h: 0,
      device_first_seen_30d: device.firstSeen,
      accounts_per_ip_1h: device.accounts1h,
      accounts_per_ip_24h: device.accounts24h,
      registrations_per_ip_1h: device.accounts1h,
      card_spend_24h: null,
      payments_per_card_10m: null,
      accounts_per_card_24h: null,
      accounts_per_phone_24h: null,
      user_device_first_seen_30d: t,
      coupon_claims_per_device_campaign_24h: null,
      coupon_claims_per_ip_campaign_24h: null,
    },
    saturated: [],
    late,
  });
  vectors.set("fresh-0", vector(B, { accounts1h: 1, accounts24h: 1, registrations24h: 1, firstSeen: B }, []));
  const oldest = B - 25 * HOUR + 1000;
  for (let k = 1; k <= 8; k++) {
    const t = B - 25 * HOUR + k * 1000;
    vectors.set(
      `old-${k}`,
      vector(t, { accounts1h: null, accounts24h: k, registrations24h: k, firstSeen: oldest }, [
        "accounts_per_device_1h",
        "accounts_per_ip_1h",
        "registrations_per_ip_1h",
      ]),
    );
  }
  for (let j = 1; j <= 5; j++) {
    const t = B + MINUTE + j * 1000;
    vectors.set(
      `fresh-${j}`,
      vector(t, { accounts1h: 1 + j, accounts24h: 1 + j, registrations24h: 1 + j, firstSeen: oldest }, []),
    );
  }
  return vectors;
}
