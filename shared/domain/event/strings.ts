/**
 * String hygiene shared by the decoder and the normalizers.
 *
 * Lone surrogates cannot survive UTF-8 encoding (they break DynamoDB, OpenSearch and most
 * loggers), and control characters in stored values let a producer forge log lines or drive a
 * terminal that shows them. Bidi overrides are included because they reorder text on screen.
 *
 * Two levels: every string in a record is checked with `recordStringProblem`, which lets tab,
 * line feed and carriage return through because fields that are trimmed (email, phone, ip,
 * city) commonly arrive with a stray newline; each field then applies its own stricter rule
 * (identifier charsets, `stringProblem` on free text after trimming).
 */

// Without the `u` flag the regex sees UTF-16 code units, which is what a lone surrogate is.
// (String.prototype.isWellFormed exists at runtime but not in this project's ES2023 typings.)
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// C0 controls, DEL, C1 controls, and the bidirectional embedding/override/isolate controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

// The same set without tab, line feed and carriage return.
const CONTROL_BUT_TAB_LF_CR =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

/** True if the string holds a UTF-16 surrogate without its partner. */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

/** True if the string holds a control character (C0, DEL, C1) or a bidi control. */
export function hasControlCharacter(value: string): boolean {
  return CONTROL.test(value);
}

/** What is wrong with a free-text value (after trimming), or undefined if it is clean. */
export function stringProblem(value: string): string | undefined {
  if (hasLoneSurrogate(value)) return "contains a lone UTF-16 surrogate";
  if (hasControlCharacter(value)) return "contains a control character";
  return undefined;
}

/** What is wrong with any key or string in a record, or undefined; tab, LF and CR pass here. */
export function recordStringProblem(value: string): string | undefined {
  if (hasLoneSurrogate(value)) return "contains a lone UTF-16 surrogate";
  if (CONTROL_BUT_TAB_LF_CR.test(value)) return "contains a control character";
  return undefined;
}
