/**
 * Durations in feature definitions are written as text ("90s", "10m", "24h", "30d") so that a
 * definition reads the way people talk about windows, and are used as milliseconds.
 */

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `<positive integer><s|m|h|d>`, no spaces, no leading zeros. */
export const DURATION_PATTERN = /^([1-9][0-9]{0,6})([smhd])$/;

/** Milliseconds of a duration text, or undefined when it does not match DURATION_PATTERN. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text);
  if (m === null) return undefined;
  const [, amount = "", unit = ""] = m;
  return Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
}

/** The shortest text of a whole-second duration in the largest unit that divides it ("1h", "90s"). */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms % 1_000 !== 0) return `${ms}ms`;
  for (const unit of ["d", "h", "m"] as const) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms / 1_000}s`;
}
