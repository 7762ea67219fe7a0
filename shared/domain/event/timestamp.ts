import { type Checked, reject } from "#shared/domain/event/reasons";

/**
 * ISO-8601 / RFC 3339 date-time with a mandatory UTC offset: `2025-06-01T14:03:07.123+02:00`.
 * Fractions of up to 9 digits are accepted (Java and Go send nanoseconds) and truncated to
 * milliseconds, the precision of event time in Vigil. No leap seconds (JavaScript has none),
 * no week or ordinal dates, no space separator, no missing offset (local time is ambiguous).
 */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses `occurredAt` into epoch milliseconds. */
export function parseTimestamp(text: string): Checked<number> {
  const m = DATE_TIME.exec(text);
  if (m === null)
    return invalid("not an ISO-8601 date-time with a UTC offset (e.g. 2025-01-31T23:59:59.999+08:00)");
  const [, y, mo, d, h, mi, s, fraction = "", zulu, sign, oh = "0", om = "0"] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return invalid("no such date");
  if (hour > 23 || minute > 59 || second > 59) return invalid("no such time of day");
  const offsetHours = Number(oh);
  const offsetMinutes = Number(om);
  if (offsetHours > 23 || offsetMinutes > 59) return invalid("no such UTC offset");
  const offsetMs =
    zulu === undefined ? (sign === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000 : 0;
  const millis = Number(fraction.padEnd(3, "0").slice(0, 3));
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  const epochMs = date.getTime() - offsetMs;
  // Keep the normalized text inside the four-digit years this format can express.
  if (epochMs < MIN_EPOCH_MS || epochMs > MAX_EPOCH_MS) return invalid("instant outside years 0000-9999 UTC");
  return { ok: true, value: epochMs };
}

/** Normalizes `occurredAt` to UTC with millisecond precision: `2025-06-01T12:03:07.123Z`. */
export function normalizeTimestamp(text: string): Checked<string> {
  const parsed = parseTimestamp(text);
  return parsed.ok ? { ok: true, value: new Date(parsed.value).toISOString() } : parsed;
}

/** 0000-01-01T00:00:00.000Z */
const MIN_EPOCH_MS = -62_167_219_200_000;
/** 9999-12-31T23:59:59.999Z */
const MAX_EPOCH_MS = 253_402_300_799_999;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function invalid(what: string): Checked<never> {
  return reject("INVALID_TIMESTAMP", `occurredAt: ${what}`);
}
