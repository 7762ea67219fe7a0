import { type CleanEvent, decodeRecord } from "#shared/domain/event/index";
import type { QuarantineReason } from "#shared/domain/event/reasons";
import { buildHostileCorpus } from "../../fixtures/hostile-corpus.ts";
import { encodeEvent, formatWithOffset } from "../../fixtures/valid-events.ts";

/**
 * Production-shaped traffic for the crash and fault tests: users on both shards of the events
 * stream sharing devices, IPs, cards and phones (a household tablet, a carrier NAT, a family
 * card, farms and card testers among them), a tenth of the events re-sent with the same eventId
 * (right behind the original, a batch or two later, and minutes later), and hostile records from
 * the hostile corpus mixed in. Deterministic for a seed, except the event times, which are taken
 * when a chunk is put (a few seconds before it, some out of order) so that no event is late.
 */

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sizes of the entity pools; the defaults make every kind of entity shared across users and shards. */
export interface TrafficShape {
  readonly users: number;
  readonly devices: number;
  readonly ips: number;
  readonly cards: number;
  readonly phones: number;
  readonly campaigns: number;
  /** Fraction of events re-sent once more with the same eventId. */
  readonly resendRate: number;
  /** One hostile record per this many events. */
  readonly hostileEvery: number;
  /**
   * Keep every device, IP, card, phone and email domain on the shard of the users that use it (for runs whose
   * per-event values must not depend on timing: the fault-injection comparison). Default false.
   */
  readonly entitiesPerShard?: boolean;
}

/** The default shape: pools small enough that entities are shared, large enough to look real. */
export const PRODUCTION_SHAPE: TrafficShape = {
  users: 3000,
  devices: 1400,
  ips: 700,
  cards: 900,
  phones: 400,
  campaigns: 4,
  resendRate: 0.1,
  hostileEvery: 120,
};

/** One planned record. */
export type Slot =
  | { readonly kind: "event"; readonly index: number }
  | { readonly kind: "resend"; readonly of: number }
  | { readonly kind: "hostile"; readonly corpusIndex: number };

/** A record as it was put, with what the test expects of it. */
export type PutRecord = {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
} & (
  | { readonly kind: "event"; readonly index: number; readonly event: CleanEvent }
  | { readonly kind: "resend"; readonly of: number; readonly eventId: string }
  | { readonly kind: "hostile"; readonly kindName: string; readonly expectedReason: QuarantineReason }
);

const TYPES = ["login", "login", "login", "payment", "payment", "order", "register", "coupon_claim"] as const;
const COUNTRIES = ["DE", "FR", "US", "GB", "NL"] as const;
const CURRENCIES = ["EUR", "USD", "JPY"] as const;
const DOMAINS = ["example.com", "example.org", "mail.example.net"] as const;

/** Stable integer hash of a string (FNV-1a), for the per-user choices. */
function hash(text: string, salt: number): number {
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The plan of a run: which record goes where in the put order. Re-sends follow their original
 * by 1 record (same batch), 20 to 300 records (a batch or two later) or 2,000 to 6,000 records
 * (minutes later); hostile records are spread evenly, cycling through the corpus.
 */
export function planTraffic(events: number, shape: TrafficShape, seed: number): Slot[] {
  const rnd = seededRandom(seed);
  // Exactly round(events × resendRate) distinct events, chosen by a seeded shuffle.
  const order = Array.from({ length: events }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const resendsAt = new Map<number, number[]>();
  for (const i of order.slice(0, Math.round(events * shape.resendRate))) {
    const r = rnd();
    const delay = r < 0.3 ? 1 : r < 0.7 ? 20 + Math.floor(rnd() * 280) : 2000 + Math.floor(rnd() * 4000);
    const at = Math.min(events - 1, i + delay);
    const list = resendsAt.get(at) ?? [];
    list.push(i);
    resendsAt.set(at, list);
  }
  const slots: Slot[] = [];
  let corpusIndex = 0;
  for (let i = 0; i < events; i++) {
    slots.push({ kind: "event", index: i });
    for (const of of resendsAt.get(i) ?? []) slots.push({ kind: "resend", of });
    if (i % shape.hostileEvery === shape.hostileEvery - 1)
      slots.push({ kind: "hostile", corpusIndex: corpusIndex++ });
  }
  return slots;
}

/**
 * Builds the event of slot `index` at `now`: its user, and the device, IP, card and phone that
 * user would use, drawn from shared pools. With `shardOf`, `entitiesPerShard` keeps each pooled
 * entity on one shard (entity ids carry the shard) so that only same-shard users share it.
 */
export function makeEvent(
  index: number,
  now: number,
  shape: TrafficShape,
  seed: number,
  shardOf: (partitionKey: string) => number,
): Record<string, unknown> {
  const rnd = seededRandom(seed ^ Math.imul(index + 1, 0x9e3779b1));
  const pick = (n: number) => Math.floor(rnd() * n);
  const userNumber = pick(shape.users);
  const userId = `cu-${userNumber}`;
  // With entitiesPerShard, pooled entity ids carry the user's shard: only its users share them.
  const tag = shape.entitiesPerShard ? shardOf(userId) : 0;
  const prefix = shape.entitiesPerShard ? `s${tag}-` : "";
  const type = TYPES[pick(TYPES.length)] ?? "login";
  // Each user has a home device, IP, card and phone from the shared pools; now and then another one.
  const home = (salt: number, size: number) => hash(userId, salt) % size;
  const device = rnd() < 0.85 ? home(1, shape.devices) : pick(shape.devices);
  const ip = rnd() < 0.75 ? home(2, shape.ips) : pick(shape.ips);
  const card = rnd() < 0.85 ? home(3, shape.cards) : pick(shape.cards);
  const country =
    rnd() < 0.97
      ? (COUNTRIES[home(4, COUNTRIES.length)] ?? "DE")
      : (COUNTRIES[pick(COUNTRIES.length)] ?? "FR");
  // A few seconds in the past, some out of order; offsets other than UTC exercise the decoder.
  const occurredAt = new Date(now - 200 - pick(3000));
  const event: Record<string, unknown> = {
    schemaVersion: 1,
    eventId: `ev-${seed}-${index}`,
    type,
    occurredAt: formatWithOffset(occurredAt, index % 4 === 0 ? 60 : 0),
    userId,
    // A tenth IPv6 (written long, the decoder shortens it), the rest IPv4.
    ip:
      ip % 10 === 9
        ? `2001:0db8:0000:0000:0000:0000:${tag}:${ip.toString(16)}`
        : `10.${tag}.${ip >> 8}.${ip & 255}`,
    deviceId: `dev-${prefix}${device}`,
    geo: { country },
  };
  if (type === "register" || rnd() < 0.1) {
    const phone = type === "register" ? pick(shape.phones) : home(5, shape.phones);
    event.phone = `+49 30 ${tag}${String(100000 + phone)}`;
  }
  if (type === "register") {
    // Email domains are entities too (registrations per domain): per shard when asked.
    const domain = DOMAINS[pick(DOMAINS.length)] ?? "example.com";
    event.email = `${userId}@${shape.entitiesPerShard ? `s${tag}.` : ""}${domain}`;
  }
  if (type === "order" || type === "payment") {
    const currency = CURRENCIES[pick(CURRENCIES.length)] ?? "EUR";
    // Small payments now and then: card testing.
    const minor = rnd() < 0.1 ? 50 + pick(150) : 500 + pick(60_000);
    event.amount =
      currency === "JPY"
        ? String(minor)
        : `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, "0")}`;
    event.currency = currency;
  }
  if (type === "payment") event.cardFingerprint = `card-${prefix}${card}`;
  if (type === "coupon_claim") {
    event.campaignId = `campaign-${pick(shape.campaigns)}`;
    event.couponId = `coupon-${index}`;
  }
  return event;
}

/** An outgoing record of a slot, before it is put. */
export interface OutgoingSlot {
  readonly slot: Slot;
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly hostile?: { readonly kindName: string; readonly expectedReason: QuarantineReason };
}

/**
 * Materializes planned slots at put time `now`: events are built with times just before `now`;
 * re-sends repeat the original's exact bytes (kept in `sent`); hostile records come from a corpus
 * built for `now` (so that its time-dependent cases keep their reasons) under a chunk-unique run id.
 */
export function materialize(
  slots: readonly Slot[],
  now: number,
  chunk: number,
  shape: TrafficShape,
  seed: number,
  shardOf: (partitionKey: string) => number,
  sent: Map<number, { readonly data: Uint8Array; readonly partitionKey: string }>,
): OutgoingSlot[] {
  const corpus = slots.some((s) => s.kind === "hostile")
    ? buildHostileCorpus({ now: new Date(now), runId: `hostile-${seed}-${chunk}` })
    : [];
  return slots.map((slot): OutgoingSlot => {
    if (slot.kind === "event") {
      const event = makeEvent(slot.index, now, shape, seed, shardOf);
      const record = { data: encodeEvent(event), partitionKey: String(event.userId) };
      sent.set(slot.index, record);
      return { slot, ...record };
    }
    if (slot.kind === "resend") {
      const original = sent.get(slot.of);
      if (!original) throw new Error(`re-send of event ${slot.of} before the event itself`);
      return { slot, ...original };
    }
    const hostile = corpus[slot.corpusIndex % corpus.length];
    if (!hostile) throw new Error("the hostile corpus is empty");
    return {
      slot,
      data: hostile.bytes,
      partitionKey: hostile.partitionKey,
      hostile: { kindName: hostile.kind, expectedReason: hostile.expectedReason },
    };
  });
}

/** The clean event of an event record, as the score function decodes it on arrival. */
export function cleanEventOf(data: Uint8Array, arrivalTime: Date): CleanEvent {
  const decoded = decodeRecord(data, { arrivalTime });
  if (!decoded.ok) throw new Error(`a traffic event does not decode: ${decoded.reason} ${decoded.message}`);
  return decoded.event;
}
