import type { ModelEventField } from "#shared/domain/decision/model/model-schema";
import { type CleanEvent, minorUnits } from "#shared/domain/event/index";

/**
 * The event fields a model can read (MODEL_EVENT_FIELDS) that identify no one, as a decision
 * stores them so that a training set can be built from decisions alone: the country, the
 * currency and the amount in minor units (`type` is stored on every decision anyway). The email
 * domain is left out: a company's own domain names its employer, and the decisions stream
 * pseudonymizes it for the same reason; a model trained from exported decisions cannot read it.
 */
export type StoredEventFields = Partial<
  Record<Exclude<ModelEventField, "type" | "emailDomain">, string | number>
>;

/** Model event fields that decisions store (see {@link StoredEventFields}). */
export const STORED_EVENT_FIELDS = ["geo.country", "currency", "amountMinor"] as const;

/** The stored event fields of an event; fields the event lacks are absent. */
export function storedEventFields(event: CleanEvent): StoredEventFields {
  const out: { -readonly [K in keyof StoredEventFields]: StoredEventFields[K] } = {};
  if (event.geo !== undefined) out["geo.country"] = event.geo.country;
  if (event.type === "order" || event.type === "payment") {
    out.currency = event.currency;
    out.amountMinor = minorUnits({ amount: event.amount, currency: event.currency });
  }
  return out;
}
