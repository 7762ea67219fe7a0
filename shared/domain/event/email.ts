import { type Checked, reject } from "#shared/domain/event/reasons";

// RFC 5321 dot-atom local part (no quoted strings, no comments) and an LDH host name with at
// least two labels and an alphabetic or punycode top-level label: what real mailboxes use, and
// narrow enough that an email is a stable key for velocity features.
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP_LEVEL_LABEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * Trims and lower-cases an email address, then checks its shape. Internationalized addresses
 * must arrive with a punycode domain and an ASCII local part. Provider-specific folding (Gmail
 * dots, `+tags`) is not done here: it is a feature decision, not cleaning.
 */
export function normalizeEmail(input: string): Checked<string> {
  const trimmed = input.trim();
  if (!PRINTABLE_ASCII.test(trimmed)) return invalid("must be printable ASCII without spaces");
  const email = trimmed.toLowerCase();
  if (email.length > 254) return invalid("longer than 254 characters");
  const at = email.lastIndexOf("@");
  if (at < 0) return invalid("has no '@'");
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length === 0 || local.length > 64) return invalid("local part must have 1-64 characters");
  if (!LOCAL_PART.test(local)) return invalid("local part is not a dot-atom");
  const labels = domain.split(".");
  const top = labels.at(-1);
  if (labels.length < 2 || top === undefined || !labels.every((label) => DOMAIN_LABEL.test(label))) {
    return invalid("domain is not a host name with at least two labels");
  }
  if (!TOP_LEVEL_LABEL.test(top)) return invalid("top-level domain is not alphabetic or punycode");
  return { ok: true, value: email };
}

function invalid(what: string): Checked<never> {
  return reject("INVALID_EMAIL", `email: ${what}`);
}
