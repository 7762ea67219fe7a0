import ipaddr from "ipaddr.js";
import * as z from "zod";
import { IDENTIFIER_PATTERN } from "#shared/domain/event/index";
import { normalizeIp } from "#shared/domain/event/ip-address";
import { normalizePhone } from "#shared/domain/event/phone";

/**
 * Block, allow and other named lists as data. One document holds every list; it is versioned in
 * the config table like the rules, so a list change is applied, audited and rolled back the same
 * way. Entry values are stored in the canonical form events are cleaned to, so that a lookup is
 * an exact match (or a prefix match for IP ranges).
 */

/** What a list entry identifies. */
export const LIST_KINDS = ["user", "device", "ip", "card", "phone", "emailDomain"] as const;

/** One of LIST_KINDS. */
export type ListKind = (typeof LIST_KINDS)[number];

/** Names the policy gives a meaning to; other names are usable from rules only. */
export const BLOCK_LIST = "block";
export const ALLOW_LIST = "allow";

/** Entries across all lists of one document: keeps the compressed document within one DynamoDB item. */
export const MAX_LIST_ENTRIES = 20_000;

const LIST_NAME = /^[a-z][a-z0-9_]{0,31}$/;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** One entry as stored. */
export const listEntrySchema = z.strictObject({
  kind: z.enum(LIST_KINDS),
  /** Canonical value: see `normalizeListValue`. IP entries may be CIDR ranges. */
  value: z.string().min(1).max(256),
  /** ISO-8601 instant after which the entry no longer matches; absent: never expires. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  comment: z.string().max(500).optional(),
  addedBy: z.string().min(1).max(128),
  addedAt: z.iso.datetime({ offset: true }),
});

/** The lists document: list name → entries. */
export const listsDocumentSchema = z.strictObject({
  lists: z.record(
    z.string().regex(LIST_NAME, "a list name: lower snake case, at most 32 characters"),
    z.array(listEntrySchema),
  ),
});

/** One list entry. */
export type ListEntry = z.infer<typeof listEntrySchema>;
/** The lists document. */
export type ListsDocument = z.infer<typeof listsDocumentSchema>;

/** The empty lists document (no list has entries). */
export const EMPTY_LISTS: ListsDocument = { lists: {} };

/** True for a valid list name. */
export function isListName(name: string): boolean {
  return LIST_NAME.test(name);
}

/** A normalized value or the reason it cannot be one. */
export type NormalizedValue =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly message: string };

/**
 * The canonical form of an entry value, the same form cleaned events carry: identifiers as
 * written (case-sensitive), phones in E.164, IPs in canonical text and ranges as
 * `<network>/<prefix>` with the host bits cleared, email domains lower-cased (an entry matches
 * the domain and every subdomain of it).
 */
export function normalizeListValue(kind: ListKind, input: string): NormalizedValue {
  const text = input.trim();
  switch (kind) {
    case "user":
    case "device":
    case "card":
      return IDENTIFIER_PATTERN.test(text) && text.length <= 128
        ? { ok: true, value: text }
        : {
            ok: false,
            message: `a ${kind} identifier: printable ASCII letters, digits and ._:=+/- (at most 128)`,
          };
    case "phone": {
      const phone = normalizePhone(text);
      return phone.ok
        ? phone
        : { ok: false, message: "a phone number in international format (+ country code)" };
    }
    case "emailDomain": {
      const domain = text.toLowerCase().replace(/^@/, "");
      const labels = domain.split(".");
      return labels.length >= 2 && domain.length <= 253 && labels.every((l) => DOMAIN_LABEL.test(l))
        ? { ok: true, value: domain }
        : { ok: false, message: "an email domain such as example.com" };
    }
    case "ip":
      return normalizeIpOrRange(text);
  }
}

function normalizeIpOrRange(text: string): NormalizedValue {
  const slash = text.indexOf("/");
  const address = normalizeIp(slash < 0 ? text : text.slice(0, slash));
  if (!address.ok)
    return { ok: false, message: "an IPv4 or IPv6 address, or a CIDR range such as 203.0.113.0/24" };
  if (slash < 0) return { ok: true, value: address.value };
  const prefixText = text.slice(slash + 1);
  const ip = ipaddr.parse(address.value);
  const bits = ip.kind() === "ipv4" ? 32 : 128;
  if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    return { ok: false, message: `a prefix length from 0 to ${bits} after '/'` };
  }
  const prefix = Number(prefixText);
  if (prefix === bits) return { ok: true, value: address.value };
  const network = ipaddr.fromByteArray(clearHostBits(ip.toByteArray(), prefix));
  const canonical =
    network.kind() === "ipv4" ? network.toString() : (network as ipaddr.IPv6).toRFC5952String();
  return { ok: true, value: `${canonical}/${prefix}` };
}

function clearHostBits(bytes: number[], prefix: number): number[] {
  return bytes.map((byte, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
}
