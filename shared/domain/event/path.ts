/**
 * Renders a location inside a record for messages without echoing what producers or attackers
 * chose: a key is shown only if it is a plain word (letters and underscores), which every
 * contract field is; anything else (a key that could carry a phone number, an email, markup or
 * terminal escapes) becomes `*`. Array indices are shown as `[i]`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(record)";
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") {
      out += `[${segment}]`;
      continue;
    }
    const shown = typeof segment === "string" && PLAIN_WORD.test(segment) ? segment : "*";
    out += out === "" ? shown : `.${shown}`;
  }
  return out;
}

/** Renders one key the same way `formatPath` renders a path segment. */
export function formatKey(key: string): string {
  return PLAIN_WORD.test(key) ? key : "*";
}

const PLAIN_WORD = /^[A-Za-z_]{1,40}$/;
