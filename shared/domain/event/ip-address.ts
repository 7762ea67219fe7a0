import ipaddr from "ipaddr.js";
import { type Checked, reject } from "#shared/domain/event/reasons";

const DOTTED_QUAD = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const IPV4_TAIL = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;
const IPV6_TEXT = /^[0-9A-Fa-f:]{2,39}$/;

/**
 * Canonical text for an IP address, so that one client is one key in every window:
 * IPv4 as four decimal octets without leading zeros; IPv6 in RFC 5952 form (lower case, zero
 * runs compressed); IPv4-mapped IPv6 (`::ffff:192.0.2.1`) as the IPv4 address it carries.
 *
 * Parsing is strict on purpose: ipaddr.js alone accepts `127.1`, octal `010.0.0.1`, hex
 * `0x7f.0.0.1` and zone ids, and reads `::1.2.3.4` as IPv4-mapped; inet_aton-style spellings
 * are how blocklists get bypassed, so only the plain forms pass here.
 */
export function normalizeIp(input: string): Checked<string> {
  const text = input.trim();
  // Shape tests first: ipaddr.js reports text of the other family by throwing (~15 µs).
  if (DOTTED_QUAD.test(text)) {
    return ipaddr.IPv4.isValidFourPartDecimal(text)
      ? { ok: true, value: ipaddr.IPv4.parse(text).toString() }
      : invalid();
  }
  const v6 = toHexOnlyIpv6(text);
  const address = v6 !== undefined && IPV6_TEXT.test(v6) ? parseIpv6(v6) : undefined;
  if (address === undefined) return invalid();
  if (address.isIPv4MappedAddress()) return { ok: true, value: address.toIPv4Address().toString() };
  return { ok: true, value: address.toRFC5952String() };
}

/** Parses hex-only IPv6 text once (isValid followed by parse would parse twice). */
function parseIpv6(text: string): ipaddr.IPv6 | undefined {
  try {
    return ipaddr.IPv6.parse(text);
  } catch {
    // ipaddr.js reports malformed text by throwing; here that is simply "not an address".
    return undefined;
  }
}

/** Rewrites a dotted IPv4 tail (`64:ff9b::192.0.2.1`) as two hex groups; undefined if it is malformed. */
function toHexOnlyIpv6(text: string): string | undefined {
  if (!text.includes(".")) return text;
  const m = IPV4_TAIL.exec(text);
  if (m === null) return undefined;
  const [, head = "", tail = ""] = m;
  if (!ipaddr.IPv4.isValidFourPartDecimal(tail)) return undefined;
  const [a = 0, b = 0, c = 0, d = 0] = ipaddr.IPv4.parse(tail).octets;
  return `${head}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

function invalid(): Checked<never> {
  return reject("INVALID_IP", "ip: not a strictly written IPv4 or IPv6 address");
}
