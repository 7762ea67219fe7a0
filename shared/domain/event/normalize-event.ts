import { normalizeCountry } from "#shared/domain/event/country";
import { normalizeEmail } from "#shared/domain/event/email";
import { normalizeIp } from "#shared/domain/event/ip-address";
import { normalizeMoney } from "#shared/domain/event/money";
import { formatPath } from "#shared/domain/event/path";
import { normalizePhone } from "#shared/domain/event/phone";
import { type QuarantineReason, reject } from "#shared/domain/event/reasons";
import {
  type CleanEvent,
  type EventAttributes,
  type EventGeo,
  type RiskEvent,
  SCHEMA_VERSION,
} from "#shared/domain/event/schema";
import { stringProblem } from "#shared/domain/event/strings";
import { normalizeTimestamp } from "#shared/domain/event/timestamp";

/** A clean event, or the first field that could not be cleaned. */
export type NormalizeResult =
  | { readonly ok: true; readonly event: CleanEvent }
  | { readonly ok: false; readonly reason: QuarantineReason; readonly message: string };

/**
 * Cleans a structurally valid event field by field, in a fixed order (occurredAt, ip, email,
 * phone, geo, attributes, then amount and currency); the first failure is the result. Pure and
 * idempotent: a CleanEvent normalizes to itself. Untrusted bytes go through `decodeRecord`,
 * which validates the structure first.
 */
export function normalizeEvent(event: RiskEvent): NormalizeResult {
  const occurredAt = normalizeTimestamp(event.occurredAt);
  if (!occurredAt.ok) return occurredAt;
  const ip = normalizeIp(event.ip);
  if (!ip.ok) return ip;
  const email = event.email === undefined ? undefined : normalizeEmail(event.email);
  if (email !== undefined && !email.ok) return email;
  const phone = event.phone === undefined ? undefined : normalizePhone(event.phone);
  if (phone !== undefined && !phone.ok) return phone;
  const geo = event.geo === undefined ? undefined : normalizeGeo(event.geo);
  if (geo !== undefined && !geo.ok) return geo;
  const attributes = event.attributes === undefined ? undefined : normalizeAttributes(event.attributes);
  if (attributes !== undefined && !attributes.ok) return attributes;

  // Optional fields stay absent rather than becoming `undefined`, so a clean event serializes
  // and compares exactly; key order is fixed for the same reason.
  const head = { schemaVersion: SCHEMA_VERSION, eventId: event.eventId } as const;
  const actor = {
    occurredAt: occurredAt.value,
    userId: event.userId,
    ip: ip.value,
    deviceId: event.deviceId,
    ...(phone === undefined ? {} : { phone: phone.value }),
    ...(email === undefined ? {} : { email: email.value }),
  };
  const context = {
    ...(geo === undefined ? {} : { geo: geo.value }),
    ...(attributes === undefined ? {} : { attributes: attributes.value }),
  };
  switch (event.type) {
    case "register":
    case "login":
      return { ok: true, event: { ...head, type: event.type, ...actor, ...context } };
    case "order": {
      const money = normalizeMoney(event.amount, event.currency);
      if (!money.ok) return money;
      return { ok: true, event: { ...head, type: event.type, ...actor, ...money.value, ...context } };
    }
    case "payment": {
      const money = normalizeMoney(event.amount, event.currency);
      if (!money.ok) return money;
      const card = {
        ...(event.cardFingerprint === undefined ? {} : { cardFingerprint: event.cardFingerprint }),
        ...(event.cardBin === undefined ? {} : { cardBin: event.cardBin }),
      };
      return {
        ok: true,
        event: { ...head, type: event.type, ...actor, ...money.value, ...card, ...context },
      };
    }
    case "coupon_claim": {
      const coupon = { campaignId: event.campaignId, couponId: event.couponId };
      return { ok: true, event: { ...head, type: event.type, ...actor, ...coupon, ...context } };
    }
    case "challenge_outcome": {
      const challenge = {
        challengedEventId: event.challengedEventId,
        challengeKind: event.challengeKind,
        challengeOutcome: event.challengeOutcome,
      };
      return { ok: true, event: { ...head, type: event.type, ...actor, ...challenge, ...context } };
    }
  }
}

type Cleaned<T> = { ok: true; value: T } | { ok: false; reason: QuarantineReason; message: string };

function normalizeGeo(geo: EventGeo): Cleaned<EventGeo> {
  const country = normalizeCountry(geo.country);
  if (!country.ok) return country;
  if (geo.city === undefined) return { ok: true, value: { country: country.value } };
  const city = geo.city.trim();
  if (city === "") return reject("SCHEMA_VIOLATION", "geo.city: empty after trimming");
  const problem = stringProblem(city);
  if (problem !== undefined) return reject("INVALID_STRING", `geo.city: ${problem}`);
  return { ok: true, value: { country: country.value, city } };
}

function normalizeAttributes(attributes: EventAttributes): Cleaned<EventAttributes> {
  const entries: [string, string | number | boolean][] = [];
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === "string") {
      const problem = stringProblem(value);
      if (problem !== undefined)
        return reject("INVALID_STRING", `${formatPath(["attributes", key])}: ${problem}`);
      entries.push([key, value]);
    } else if (typeof value === "number") {
      if (!Number.isFinite(value))
        return reject("UNSAFE_NUMBER", `${formatPath(["attributes", key])}: not a finite number`);
      // -0 does not survive JSON; keep the value every reader will see.
      entries.push([key, value === 0 ? 0 : value]);
    } else {
      entries.push([key, value]);
    }
  }
  // fromEntries defines own properties, so even a hostile key could not reach a prototype.
  return { ok: true, value: Object.fromEntries(entries) };
}
