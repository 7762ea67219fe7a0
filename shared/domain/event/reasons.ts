/**
 * Why a record was quarantined instead of decided. A closed set: metrics use it as a dimension,
 * the quarantine table stores it, and `vigil quarantine replay --reason R` selects by it.
 * Order follows the order in which `decodeRecord` checks a record.
 */
export const QUARANTINE_REASONS = [
  "EMPTY_RECORD",
  "RECORD_TOO_LARGE",
  "NOT_UTF8",
  "NOT_JSON",
  "NESTING_TOO_DEEP",
  "FORBIDDEN_KEY",
  "DUPLICATE_KEY",
  "UNSAFE_NUMBER",
  "NOT_AN_OBJECT",
  "INVALID_STRING",
  "UNSUPPORTED_SCHEMA_VERSION",
  "UNKNOWN_TYPE",
  "SCHEMA_VIOLATION",
  "INVALID_TIMESTAMP",
  "INVALID_IP",
  "INVALID_EMAIL",
  "INVALID_PHONE",
  "INVALID_AMOUNT",
  "INVALID_CURRENCY",
  "INVALID_COUNTRY",
  "EVENT_IN_FUTURE",
  "EVENT_TOO_OLD",
  "DECODER_FAULT",
] as const;

/** A quarantine reason code. */
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

/** One line per reason, for `docs/events.md`, the CLI and alarms. */
export const REASON_DESCRIPTIONS: Readonly<Record<QuarantineReason, string>> = {
  EMPTY_RECORD: "The record has no bytes.",
  RECORD_TOO_LARGE: "The record is larger than the event size limit (64 KiB by default).",
  NOT_UTF8: "The record is not valid UTF-8 (including overlong forms and encoded surrogates).",
  NOT_JSON: "The record is not exactly one JSON value (syntax error, trailing data, byte order mark).",
  NESTING_TOO_DEEP: "Objects and arrays are nested deeper than the limit (8 levels by default).",
  FORBIDDEN_KEY: 'A key "__proto__", "constructor" or "prototype" appears anywhere in the record.',
  DUPLICATE_KEY: "An object has the same key twice, which parsers resolve differently.",
  UNSAFE_NUMBER:
    "A JSON number cannot be read exactly: it overflows, loses digits, or is an integer beyond 2^53 - 1.",
  NOT_AN_OBJECT: "The record is JSON but not an object (array, string, number, boolean or null).",
  INVALID_STRING:
    "A key or string value holds a lone UTF-16 surrogate or a control character (tab, LF and CR only where trimmed).",
  UNSUPPORTED_SCHEMA_VERSION: "schemaVersion is not a version this decoder supports.",
  UNKNOWN_TYPE: "type is a string but not one of the event types.",
  SCHEMA_VIOLATION:
    "A field is missing, has the wrong JSON type, breaks a length or charset rule, or is unknown.",
  INVALID_TIMESTAMP: "occurredAt is not an ISO-8601 date-time with a UTC offset, or names no real instant.",
  INVALID_IP: "ip is not a strictly written IPv4 or IPv6 address.",
  INVALID_EMAIL: "email is not a plausible ASCII address.",
  INVALID_PHONE: "phone is not a valid number in international (+) format.",
  INVALID_AMOUNT:
    "amount is negative, not a plain decimal, finer than the currency's minor unit, or too large.",
  INVALID_CURRENCY: "currency is not an active ISO-4217 code with a minor unit.",
  INVALID_COUNTRY: "geo.country is not an ISO-3166-1 alpha-2 code.",
  EVENT_IN_FUTURE: "occurredAt is later than arrival time plus the allowed clock skew.",
  EVENT_TOO_OLD: "occurredAt is earlier than arrival time minus the allowed lateness.",
  DECODER_FAULT: "The decoder itself failed (a bug or a bad arrival time); the record is kept for replay.",
};

/** True if `value` is one of the reason codes. */
export function isQuarantineReason(value: unknown): value is QuarantineReason {
  return typeof value === "string" && (QUARANTINE_REASONS as readonly string[]).includes(value);
}

/** The outcome of one check: a value, or a reason with a PII-free message. */
export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: QuarantineReason; readonly message: string };

/** Builds the failing side of `Checked`. */
export function reject(
  reason: QuarantineReason,
  message: string,
): { ok: false; reason: QuarantineReason; message: string } {
  return { ok: false, reason, message };
}
