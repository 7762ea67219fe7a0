import { scanJson } from "#shared/domain/event/json-scan";
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from "#shared/domain/event/limits";
import { normalizeEvent } from "#shared/domain/event/normalize-event";
import { formatPath } from "#shared/domain/event/path";
import type { QuarantineReason } from "#shared/domain/event/reasons";
import {
  type CleanEvent,
  EVENT_SCHEMAS,
  EVENT_TYPES,
  type EventType,
  FIELD_LIMITS,
  IDENTIFIER_PATTERN,
  SUPPORTED_SCHEMA_VERSIONS,
} from "#shared/domain/event/schema";
import { describeIssues } from "#shared/domain/event/schema-issues";
import { recordStringProblem } from "#shared/domain/event/strings";
import { checkEventTime } from "#shared/domain/event/time-bounds";

/** What `decodeRecord` needs besides the bytes. */
export interface DecodeContext {
  /** When the record reached the stream (Kinesis `approximateArrivalTimestamp`). */
  readonly arrivalTime: Date;
  /** Overrides for DEFAULT_DECODE_LIMITS; validate configured values with `decodeLimitsSchema`. */
  readonly limits?: Partial<DecodeLimits>;
}

/** A record that can be scored. */
export interface DecodeSuccess {
  readonly ok: true;
  readonly event: CleanEvent;
}

/** A record to quarantine, with the reason and a message that names the field but no value. */
export interface DecodeFailure {
  readonly ok: false;
  readonly reason: QuarantineReason;
  readonly message: string;
  /** The record's eventId when it could be read and has the identifier shape. */
  readonly eventId?: string;
}

/** Either a clean event or a quarantine reason; never both, never neither. */
export type DecodeResult = DecodeSuccess | DecodeFailure;

/**
 * Turns one stream record into a clean event or a quarantine reason. Checks run cheapest and
 * most fundamental first and the first failure wins: size, UTF-8, JSON structure (syntax,
 * depth, forbidden and duplicate keys, exact numbers), object shape, string hygiene, schema
 * version, type, schema, field normalization, event-time bounds.
 *
 * Pure and total: it never throws. A failure inside the decoder itself (a bug, or an invalid
 * `arrivalTime`) is reported as DECODER_FAULT so that one record cannot block a shard; the
 * reason is counted and alarmed on like any other.
 */
export function decodeRecord(bytes: Uint8Array, ctx: DecodeContext): DecodeResult {
  try {
    return decode(bytes, ctx);
  } catch (error) {
    // The error's name only: messages of library errors may quote the input.
    const name = error instanceof Error ? error.name : typeof error;
    return { ok: false, reason: "DECODER_FAULT", message: `decoder failed with ${name}` };
  }
}

// fatal: malformed UTF-8 is an error instead of U+FFFD; ignoreBOM: keep a byte order mark in
// the text, where the JSON scan refuses it, rather than silently dropping it.
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function decode(bytes: Uint8Array, ctx: DecodeContext): DecodeResult {
  const limits = resolveLimits(ctx.limits);
  const arrivalMs = ctx.arrivalTime.getTime();
  if (!Number.isFinite(arrivalMs)) return failure("DECODER_FAULT", "arrivalTime is not a valid date");

  if (bytes.byteLength === 0) return failure("EMPTY_RECORD", "record is empty");
  if (bytes.byteLength > limits.maxRecordBytes) {
    return failure(
      "RECORD_TOO_LARGE",
      `record has ${bytes.byteLength} bytes; the limit is ${limits.maxRecordBytes}`,
    );
  }
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return failure("NOT_UTF8", "record is not valid UTF-8");
  }
  const scan = scanJson(text, limits.maxDepth);
  if (!scan.ok) return failure(scan.reason, scan.message);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The scan accepts only text JSON.parse accepts; kept so a disagreement cannot throw.
    return failure("NOT_JSON", "record is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return failure("NOT_AN_OBJECT", `record is a JSON ${jsonTypeOf(value)}, not an object`);
  }
  const record = value as Record<string, unknown>;
  const eventId = readableEventId(record);

  const stringIssue = findStringProblem(record, []);
  if (stringIssue !== undefined) return failure("INVALID_STRING", stringIssue, eventId);

  const version = record.schemaVersion;
  if (version === undefined) return failure("SCHEMA_VIOLATION", "schemaVersion: required", eventId);
  if (typeof version !== "number" || !Number.isInteger(version)) {
    return failure("SCHEMA_VIOLATION", "schemaVersion: expected an integer", eventId);
  }
  if (!SUPPORTED_SCHEMA_VERSIONS.includes(version)) {
    return failure(
      "UNSUPPORTED_SCHEMA_VERSION",
      `schemaVersion: not supported (supported: ${SUPPORTED_SCHEMA_VERSIONS.join(", ")})`,
      eventId,
    );
  }

  const type = record.type;
  if (type === undefined) return failure("SCHEMA_VIOLATION", "type: required", eventId);
  if (typeof type !== "string") return failure("SCHEMA_VIOLATION", "type: expected string", eventId);
  if (!isEventType(type)) {
    return failure("UNKNOWN_TYPE", `type: not one of ${EVENT_TYPES.join(", ")}`, eventId);
  }

  // reportInput lets the issue say "required" versus "wrong type"; the input never reaches a message.
  const parsed = EVENT_SCHEMAS[type].safeParse(record, { reportInput: true });
  if (!parsed.success) return failure("SCHEMA_VIOLATION", describeIssues(parsed.error.issues), eventId);

  const normalized = normalizeEvent(parsed.data);
  if (!normalized.ok) return failure(normalized.reason, normalized.message, eventId);

  const time = checkEventTime(Date.parse(normalized.event.occurredAt), arrivalMs, limits);
  if (!time.ok) return failure(time.reason, time.message, eventId);
  return { ok: true, event: normalized.event };
}

function resolveLimits(overrides: Partial<DecodeLimits> | undefined): DecodeLimits {
  if (overrides === undefined) return DEFAULT_DECODE_LIMITS;
  return {
    maxRecordBytes: overrides.maxRecordBytes ?? DEFAULT_DECODE_LIMITS.maxRecordBytes,
    maxDepth: overrides.maxDepth ?? DEFAULT_DECODE_LIMITS.maxDepth,
    maxFutureSkewMs: overrides.maxFutureSkewMs ?? DEFAULT_DECODE_LIMITS.maxFutureSkewMs,
    maxLatenessMs: overrides.maxLatenessMs ?? DEFAULT_DECODE_LIMITS.maxLatenessMs,
  };
}

function failure(reason: QuarantineReason, message: string, eventId?: string): DecodeFailure {
  return eventId === undefined ? { ok: false, reason, message } : { ok: false, reason, message, eventId };
}

/** The eventId, if it is safe to store and log next to the quarantined record. */
function readableEventId(record: Record<string, unknown>): string | undefined {
  const id = record.eventId;
  return typeof id === "string" &&
    id.length <= FIELD_LIMITS.identifierMaxLength &&
    IDENTIFIER_PATTERN.test(id)
    ? id
    : undefined;
}

/**
 * Finds the first key or string value with a lone surrogate or a control character other than
 * tab, LF and CR (those are left to the field rules, which trim or refuse them). Recursion
 * is bounded by the depth limit the scan enforced.
 */
function findStringProblem(value: unknown, path: (string | number)[]): string | undefined {
  if (typeof value === "string") {
    const problem = recordStringProblem(value);
    return problem === undefined ? undefined : `${formatPath(path)}: ${problem}`;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findStringProblem(value[i], [...path, i]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === "object" && value !== null) {
    for (const [key, member] of Object.entries(value)) {
      const keyProblem = recordStringProblem(key);
      if (keyProblem !== undefined) return `${formatPath(path)}: a key ${keyProblem}`;
      const found = findStringProblem(member, [...path, key]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function isEventType(type: string): type is EventType {
  return (EVENT_TYPES as readonly string[]).includes(type);
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}
