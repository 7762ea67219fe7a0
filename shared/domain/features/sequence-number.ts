/**
 * Kinesis sequence numbers are decimal strings of up to 129 digits (today 56), too wide for a
 * double or a DynamoDB number. Canonical decimals (no sign, no leading zeros) order by length
 * first and then by text, which is what `compareSequenceNumbers` does without BigInt.
 */

const CANONICAL_DECIMAL = /^(0|[1-9][0-9]{0,128})$/;

/** Whether `text` is a sequence number as Kinesis writes it. */
export function isSequenceNumber(text: string): boolean {
  return CANONICAL_DECIMAL.test(text);
}

/** Negative, zero or positive as `a` is below, equal to or above `b` (numerically). */
export function compareSequenceNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
