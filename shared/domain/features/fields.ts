import { type CleanEvent, type EventType, minorUnits } from "#shared/domain/event/index";

/**
 * Event fields a feature can be keyed on, count distinct values of, or sum. Feature definitions
 * name fields by these paths; `attributes.<name>` reaches the event's `attributes` map.
 */

/** Fields an entity key can be made of: identifiers of the actor, its means and the campaign. */
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
export type KeyField = (typeof KEY_FIELDS)[number];

/** Fields whose distinct values can be counted: key fields, geography, type, and attributes. */
export const DISTINCT_FIELDS = [...KEY_FIELDS, "geo.country", "geo.city", "type"] as const;

/** A field whose distinct values can be counted. */
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
  campaignId: ["coupon_claim"],
  couponId: ["coupon_claim"],
};

/** Reads a text field of an event, or undefined when the event does not carry it. */
export type TextAccessor = (event: CleanEvent) => string | undefined;

/** Reads the text of a key or distinct field; attribute numbers and booleans are read as text. */
export function textAccessor(field: DistinctField): TextAccessor {
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
    default: {
      const name = field.slice(ATTRIBUTE_PREFIX.length);
      return (e) => {
        const value = e.attributes?.[name];
        return value === undefined ? undefined : String(value);
      };
    }
  }
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
