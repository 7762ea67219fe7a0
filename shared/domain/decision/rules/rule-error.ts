/**
 * The message a failed rule evaluation is recorded with. CEL's own messages can quote the values
 * being evaluated (`Cannot convert <attribute value> to a BigInt`, `field not found: <userId>`
 * for `features[event.userId]`, `map key conflict: <value>`), and decisions are stored and
 * published, so the engine never keeps them: it keeps the class of the error and, where CEL names
 * something, the name only when the operator wrote it in the expression (a feature id, an
 * attribute name, a string literal). Positions (line, column) are recorded beside the message.
 */

/** Fixed texts for failures whose CEL message may quote a value. */
export const RULE_ERROR_CLASSES = {
  noSuchKey: "field not found",
  noMatchingOverload: "found no matching overload",
  typeMismatch: "type mismatch",
  conversion: "conversion failed",
  indexOutOfBounds: "index out of bounds",
  mapKeyConflict: "map key conflict",
  other: "evaluation failed",
} as const;

/** CEL type names as CEL prints them (`string`, `list(int)`, `map(string, dyn)`): no event content. */
const TYPE_LIST = /^[A-Za-z0-9_.,()<> ]*$/;
/** Operator and function names as CEL prints them (`_>_`, `matches`, `_[_]`). */
const FUNCTION_NAME = /^[A-Za-z0-9_@?:[\]!<>=+\-*/%&|]+$/;

/**
 * A message for a failed evaluation that says what failed and never quotes event content: CEL's
 * message when its form is known to hold only names and types, else the class of the failure.
 * `writtenNames` are the names and string literals of the expression (ExpressionAnalysis.names);
 * a missing key is named only when it is one of them (`field not found: accounts_per_phone_24h`).
 */
export function safeEvaluationMessage(raw: string, writtenNames: ReadonlySet<string>): string {
  const missing = /^field not found: (.*)$/s.exec(raw);
  if (missing) {
    const name = missing[1] ?? "";
    return writtenNames.has(name) ? raw : `${RULE_ERROR_CLASSES.noSuchKey} (a key computed from the event)`;
  }
  const overload = /^found no matching overload for '?([^']*?)'? applied to '([^']*)'$/.exec(raw);
  if (overload) {
    const [, fn = "", types = ""] = overload;
    return FUNCTION_NAME.test(fn) && TYPE_LIST.test(types) ? raw : RULE_ERROR_CLASSES.noMatchingOverload;
  }
  if (/^type mismatch: /.test(raw)) {
    return TYPE_LIST.test(raw.slice("type mismatch: ".length).replace(/^expected |got |iterable vs /g, ""))
      ? raw
      : RULE_ERROR_CLASSES.typeMismatch;
  }
  if (/^((int|uint|double) (divide|modulus) by zero|(int|uint) overflow during [a-z ]+)$/.test(raw))
    return raw;
  if (/^index -?\d+ out of bounds/.test(raw)) return RULE_ERROR_CLASSES.indexOutOfBounds;
  if (/^map key conflict/.test(raw)) return RULE_ERROR_CLASSES.mapKeyConflict;
  if (/^(Cannot convert|Unable to convert|Failed to (parse|decode))/.test(raw)) {
    return RULE_ERROR_CLASSES.conversion;
  }
  if (/^the condition gave (null|a string|a number|a value of another type), not true or false$/.test(raw)) {
    return raw;
  }
  return RULE_ERROR_CLASSES.other;
}
