import {
  canonicalEmail,
  DEFAULT_DERIVED_KEY_RULES,
  type DerivedKeyRules,
  emailDomain,
  ipPrefix,
  phoneBlock,
} from "#shared/domain/enrichment/derived-keys";
import type { IpEnrichment } from "#shared/domain/enrichment/ip-enrichment";
import { type CleanEvent, type EventType, minorUnits } from "#shared/domain/event/index";

/**
 * Event fields a feature can be keyed on, count distinct values of, sum, or match in a filter.
 * Feature definitions name fields by these paths; `attributes.<name>` reaches the event's
 * `attributes` map; dotted derived fields (`email.canonical`, `ip.asn`) are computed from one
 * event field (docs/features.md, "Derived keys" and "IP enrichment").
 */

/**
 * The event's own identifiers: the actor, its means and the campaign. Labels name entities by
 * these (shared/domain/labels).
 */
export const KEY_FIELDS = [
  "userId",
  "deviceId",
  "ip",
  "cardFingerprint",
  "phone",
  "email",
  "campaignId",
  "couponId",
] as const;

/** One of KEY_FIELDS. */
export type IdentityField = (typeof KEY_FIELDS)[number];

/**
 * Keys derived from one field: the canonical email (provider dot and tag rules), the email's
 * domain, the phone number's block, the IP address's network prefix and its autonomous system.
 */
export const DERIVED_KEY_FIELDS = [
  "email.canonical",
  "email.domain",
  "phone.block",
  "ip.prefix",
  "ip.asn",
] as const;

/** One of DERIVED_KEY_FIELDS. */
export type DerivedKeyField = (typeof DERIVED_KEY_FIELDS)[number];

/**
 * Every field an entity key can be made of, in canonical order (entity type names list fields in
 * this order, then `attributes.<name>` fields by name): identifiers, the card's BIN, derived keys.
 */
export const ENTITY_FIELDS = [...KEY_FIELDS, "cardBin", ...DERIVED_KEY_FIELDS] as const;

/** A field an entity key can be made of: one of ENTITY_FIELDS or an attribute (`attributes.referrerId`). */
export type KeyField = (typeof ENTITY_FIELDS)[number] | `attributes.${string}`;

/** Fields whose distinct values can be counted: key fields, geography, type, IP type, and attributes. */
export const DISTINCT_FIELDS = [...ENTITY_FIELDS, "geo.country", "geo.city", "type", "ip.type"] as const;

/** A field whose distinct values can be counted (and that a filter can match). */
export type DistinctField = (typeof DISTINCT_FIELDS)[number] | `attributes.${string}`;

/** A field that can be summed: the amount (per currency, in minor units) or an integer attribute. */
export type SumField = "amount" | `attributes.${string}`;

/** Prefix of attribute paths. */
export const ATTRIBUTE_PREFIX = "attributes.";

/**
 * Event types on which a field can be present. Fields not listed may be present on every type
 * (some are optional, like phone). Validation uses this to refuse features that can never apply.
 */
export const FIELD_EVENT_TYPES: Readonly<Partial<Record<string, readonly EventType[]>>> = {
  amount: ["order", "payment"],
  cardFingerprint: ["payment"],
  cardBin: ["payment"],
  campaignId: ["coupon_claim"],
  couponId: ["coupon_claim"],
};

/** Fields that need the IP dataset. */
export const IP_DATASET_FIELDS: readonly string[] = ["ip.asn", "ip.type"];

/**
 * What derived fields are computed with: the derived-key rules of the feature set and the IP
 * enrichment (a provider, so the dataset is decoded only when a feature needs it).
 */
export interface FieldContext {
  readonly rules: DerivedKeyRules;
  readonly ipEnrichment?: () => IpEnrichment;
}

/** The context of a feature set without `derivedKeys` and without IP enrichment. */
export const DEFAULT_FIELD_CONTEXT: FieldContext = { rules: DEFAULT_DERIVED_KEY_RULES };

/**
 * Canonical order of entity fields: ENTITY_FIELDS order, then attribute fields by name. Entity
 * type names are the fields joined with `+` in this order.
 */
export function canonicalFieldOrder(fields: readonly string[]): KeyField[] {
  const known = ENTITY_FIELDS.filter((field) => fields.includes(field));
  const attributes = [...new Set(fields.filter((field) => field.startsWith(ATTRIBUTE_PREFIX)))].sort();
  return [...known, ...(attributes as `attributes.${string}`[])];
}

/** Reads a text field of an event, or undefined when the event does not carry it. */
export type TextAccessor = (event: CleanEvent) => string | undefined;

/**
 * Reads the text of a key, distinct or matched field; attribute numbers and booleans are read as
 * text. Derived fields are computed with `context` (the IP fields need its enrichment).
 */
export function textAccessor(
  field: DistinctField,
  context: FieldContext = DEFAULT_FIELD_CONTEXT,
): TextAccessor {
  switch (field) {
    case "userId":
      return (e) => e.userId;
    case "deviceId":
      return (e) => e.deviceId;
    case "ip":
      return (e) => e.ip;
    case "phone":
      return (e) => e.phone;
    case "email":
      return (e) => e.email;
    case "cardFingerprint":
      return (e) => (e.type === "payment" ? e.cardFingerprint : undefined);
    case "cardBin":
      return (e) => (e.type === "payment" ? e.cardBin : undefined);
    case "campaignId":
      return (e) => (e.type === "coupon_claim" ? e.campaignId : undefined);
    case "couponId":
      return (e) => (e.type === "coupon_claim" ? e.couponId : undefined);
    case "geo.country":
      return (e) => e.geo?.country;
    case "geo.city":
      return (e) => e.geo?.city;
    case "type":
      return (e) => e.type;
    case "email.canonical": {
      const rules = context.rules.email;
      return (e) => (e.email === undefined ? undefined : canonicalEmail(e.email, rules));
    }
    case "email.domain":
      return (e) => (e.email === undefined ? undefined : emailDomain(e.email));
    case "phone.block": {
      const digits = context.rules.phoneBlockDigits;
      return (e) => (e.phone === undefined ? undefined : phoneBlock(e.phone, digits));
    }
    case "ip.prefix": {
      const rules = context.rules;
      return (e) => ipPrefix(e.ip, rules);
    }
    case "ip.asn": {
      const enrichment = requireEnrichment(context);
      return (e) => {
        const asn = enrichment().lookup(e.ip).asn;
        return asn === undefined ? undefined : `AS${asn}`;
      };
    }
    case "ip.type": {
      const enrichment = requireEnrichment(context);
      return (e) => enrichment().lookup(e.ip).type;
    }
    default: {
      const name = field.slice(ATTRIBUTE_PREFIX.length);
      return (e) => {
        const value = e.attributes?.[name];
        return value === undefined ? undefined : String(value);
      };
    }
  }
}

function requireEnrichment(context: FieldContext): () => IpEnrichment {
  const provider = context.ipEnrichment;
  if (!provider) throw new RangeError("the IP fields need an IP dataset, and none is configured");
  let enrichment: IpEnrichment | undefined;
  return () => {
    enrichment ??= provider();
    return enrichment;
  };
}

/** An amount to add to a sum, in a series (the currency for amounts, "" for attributes). */
export interface Addend {
  readonly series: string;
  readonly value: number;
}

/** Reads what an event adds to a sum, or undefined when it adds nothing. */
export type AddendAccessor = (event: CleanEvent) => Addend | undefined;

/** Reads which series of a sum an event reads (its currency for amounts), or undefined for none. */
export type SeriesAccessor = (event: CleanEvent) => string | undefined;

/**
 * The addend of a sum field. Amounts are exact minor units (cents for USD) kept per currency,
 * because adding euros to yen means nothing; attributes count only when they are safe integers,
 * because a sum of doubles would not be exact.
 */
export function addendAccessor(field: SumField): AddendAccessor {
  if (field === "amount") {
    return (e) =>
      e.type === "order" || e.type === "payment"
        ? { series: e.currency, value: minorUnits({ amount: e.amount, currency: e.currency }) }
        : undefined;
  }
  const name = field.slice(ATTRIBUTE_PREFIX.length);
  return (e) => {
    const value = e.attributes?.[name];
    return typeof value === "number" && Number.isSafeInteger(value) ? { series: "", value } : undefined;
  };
}

/** The series of a sum field an event reads. */
export function seriesAccessor(field: SumField): SeriesAccessor {
  if (field === "amount") return (e) => (e.type === "order" || e.type === "payment" ? e.currency : undefined);
  return () => "";
}
