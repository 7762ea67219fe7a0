/**
 * The event contract and its decoder: the one import the score function, the producer library
 * and the CLI need (`#shared/domain/event/index`).
 */
export { CURRENCY_EXPONENTS, currencyExponent } from "#shared/domain/event/currency";
export {
  type DecodeContext,
  type DecodeFailure,
  type DecodeResult,
  type DecodeSuccess,
  decodeRecord,
} from "#shared/domain/event/decode-record";
export {
  EVENT_JSON_SCHEMA_PATH,
  eventJsonSchema,
  eventJsonSchemaText,
} from "#shared/domain/event/json-schema";
export { DEFAULT_DECODE_LIMITS, type DecodeLimits, decodeLimitsSchema } from "#shared/domain/event/limits";
export { type Money, minorUnits, normalizeMoney } from "#shared/domain/event/money";
export { type NormalizeResult, normalizeEvent } from "#shared/domain/event/normalize-event";
export {
  isQuarantineReason,
  QUARANTINE_REASONS,
  type QuarantineReason,
  REASON_DESCRIPTIONS,
} from "#shared/domain/event/reasons";
export * from "#shared/domain/event/schema";
export { checkEventTime, type TimeBounds } from "#shared/domain/event/time-bounds";
