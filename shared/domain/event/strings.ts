/**
 * String hygiene shared by the decoder and the normalizers.
 *
 * Lone surrogates cannot survive UTF-8 encoding (they break DynamoDB, OpenSearch and most
 * loggers), and control characters in stored values let a producer forge log lines or drive a
 * terminal that shows them. Bidi overrides are included because they reorder text on screen.
 */

// Without the `u` flag the regex sees UTF-16 code units, which is what a lone surrogate is.
// (String.prototype.isWellFormed exists at runtime but not in this project's ES2023 typings.)
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// C0 controls, DEL, C1 controls, and the bidirectional embedding/override/isolate controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

/** True if the string holds a UTF-16 surrogate without its partner. */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

/** True if the string holds a control character (C0, DEL, C1) or a bidi control. */
export function hasControlCharacter(value: string): boolean {
  return CONTROL.test(value);
}

/** Describes what is wrong with a string, or returns undefined if it is clean. */
export function stringProblem(value: string): string | undefined {
  if (hasLoneSurrogate(value)) return "contains a lone UTF-16 surrogate";
  if (hasControlCharacter(value)) return "contains a control character";
  return undefined;
}
