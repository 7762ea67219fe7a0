import ipaddr from "ipaddr.js";
import { IpPrefixTrie } from "#shared/domain/decision/lists/ip-prefix-trie";
import { LIST_KINDS, type ListKind, type ListsDocument } from "#shared/domain/decision/lists/list-schema";
import type { CleanEvent } from "#shared/domain/event/index";

/**
 * Lists compiled for lookups: one hash map per list and kind (value → latest expiry), and for IP
 * ranges a prefix trie per address family. Built once per lists version; a lookup costs a map
 * probe, plus a trie walk for IPs and one probe per label for email domains.
 */

/** What an event can be looked up by, one value per list kind (absent when the event lacks it). */
export interface ListSubject {
  readonly user: string;
  readonly device: string;
  readonly ip: string;
  readonly card?: string;
  readonly phone?: string;
  readonly emailDomain?: string;
}

/** The values of an event that lists can match. */
export function listSubject(event: CleanEvent): ListSubject {
  const at = event.email?.lastIndexOf("@") ?? -1;
  return {
    user: event.userId,
    device: event.deviceId,
    ip: event.ip,
    ...(event.type === "payment" && event.cardFingerprint !== undefined
      ? { card: event.cardFingerprint }
      : {}),
    ...(event.phone !== undefined ? { phone: event.phone } : {}),
    ...(event.email !== undefined && at >= 0 ? { emailDomain: event.email.slice(at + 1) } : {}),
  };
}

interface KindIndex {
  /** Exact values (IPs without a prefix too) → latest expiry in epoch ms (Infinity: never). */
  readonly exact: Map<string, number>;
  readonly v4: IpPrefixTrie;
  readonly v6: IpPrefixTrie;
}

/** Every list of one lists version, ready for lookups at any evaluation time. */
export class ListIndex {
  private readonly lists = new Map<string, Map<ListKind, KindIndex>>();
  private readonly ipBytes = new Map<string, readonly number[] | null>();

  /** Builds the index; entries must be valid (as `validateListsDocument` guarantees). */
  constructor(document: ListsDocument) {
    for (const [name, entries] of Object.entries(document.lists)) {
      const kinds = new Map<ListKind, KindIndex>();
      for (const kind of LIST_KINDS)
        kinds.set(kind, { exact: new Map(), v4: new IpPrefixTrie(), v6: new IpPrefixTrie() });
      for (const entry of entries) {
        const index = kinds.get(entry.kind);
        if (index === undefined) continue;
        const expiresAt =
          entry.expiresAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(entry.expiresAt);
        const slash = entry.kind === "ip" ? entry.value.indexOf("/") : -1;
        if (slash < 0) {
          index.exact.set(
            entry.value,
            Math.max(expiresAt, index.exact.get(entry.value) ?? Number.NEGATIVE_INFINITY),
          );
          continue;
        }
        const network = ipaddr.parse(entry.value.slice(0, slash));
        const trie = network.kind() === "ipv4" ? index.v4 : index.v6;
        trie.insert(network.toByteArray(), Number(entry.value.slice(slash + 1)), entry.value, expiresAt);
      }
      this.lists.set(name, kinds);
    }
  }

  /** Names of the lists in the document. */
  names(): string[] {
    return [...this.lists.keys()];
  }

  /**
   * The entry value of list `name` that matches the subject's value of `kind` and has not expired
   * at `now` (epoch ms), or undefined. An unknown list name matches nothing.
   */
  match(name: string, kind: ListKind, subject: ListSubject, now: number): string | undefined {
    const index = this.lists.get(name)?.get(kind);
    if (index === undefined) return undefined;
    const value = subject[kind];
    if (value === undefined) return undefined;
    if (kind === "emailDomain") return matchDomain(index.exact, value, now);
    const expiry = index.exact.get(value);
    if (expiry !== undefined && expiry > now) return value;
    if (kind !== "ip" || (index.v4.size === 0 && index.v6.size === 0)) return undefined;
    const bytes = this.bytesOf(value);
    if (bytes === null) return undefined;
    return (bytes.length === 4 ? index.v4 : index.v6).lookup(bytes, now);
  }

  /**
   * A matcher for one list and kind: `match(name, kind, subject, now)` for the subject's value of
   * that kind, without building a subject. Undefined when the list has no entry of the kind, so
   * nothing can match (the engine then skips the lookup).
   */
  matcher(
    name: string,
    kind: ListKind,
  ): ((value: string | undefined, now: number) => string | undefined) | undefined {
    const index = this.lists.get(name)?.get(kind);
    if (index === undefined || (index.exact.size === 0 && index.v4.size === 0 && index.v6.size === 0))
      return undefined;
    if (kind === "emailDomain")
      return (value, now) => (value === undefined ? undefined : matchDomain(index.exact, value, now));
    const ranges = kind === "ip" && (index.v4.size > 0 || index.v6.size > 0);
    return (value, now) => {
      if (value === undefined) return undefined;
      const expiry = index.exact.get(value);
      if (expiry !== undefined && expiry > now) return value;
      if (!ranges) return undefined;
      // Canonical IPv4 (what events are cleaned to) as a 32-bit value: no parse, no array.
      const v4 = ipv4Value(value);
      if (v4 >= 0) return index.v4.lookupV4(v4, now);
      const bytes = this.bytesOf(value);
      if (bytes === null) return undefined;
      return (bytes.length === 4 ? index.v4 : index.v6).lookup(bytes, now);
    };
  }

  /** Address bytes of an event IP, memoized: the same client IPs recur across a batch. */
  private bytesOf(ip: string): readonly number[] | null {
    let bytes = this.ipBytes.get(ip);
    if (bytes !== undefined) return bytes;
    bytes = ipv4Bytes(ip) ?? (ipaddr.isValid(ip) ? ipaddr.parse(ip).toByteArray() : null);
    // The memo is bounded so a flood of distinct IPs cannot grow it without limit.
    if (this.ipBytes.size >= 10_000) this.ipBytes.clear();
    this.ipBytes.set(ip, bytes);
    return bytes;
  }
}

/**
 * The bytes of an IPv4 address in canonical dotted-decimal form (what events are cleaned to:
 * four decimal octets 0-255 without leading zeros), or undefined for anything else, which
 * ipaddr.js then parses (IPv6, and forms the cleaning never produces).
 */
export function ipv4Bytes(ip: string): number[] | undefined {
  const bytes: number[] = [];
  let value = -1;
  let digits = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || bytes.length === 4) return undefined;
      bytes.push(value);
      value = -1;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57) return undefined;
    if (digits > 0 && value === 0) return undefined; // a leading zero
    value = digits === 0 ? c - 48 : value * 10 + (c - 48);
    digits++;
    if (value > 255) return undefined;
  }
  return bytes.length === 4 ? bytes : undefined;
}

/** The 32-bit value of a canonical dotted-decimal IPv4 address, or -1 for anything else. */
export function ipv4Value(ip: string): number {
  let total = 0;
  let octets = 0;
  let value = -1;
  let digits = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || octets === 4) return -1;
      total = total * 256 + value;
      octets++;
      value = -1;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57 || (digits > 0 && value === 0)) return -1;
    value = digits === 0 ? c - 48 : value * 10 + (c - 48);
    digits++;
    if (value > 255) return -1;
  }
  return octets === 4 ? total : -1;
}

/** An email domain entry matches the domain itself and every subdomain of it. */
function matchDomain(exact: ReadonlyMap<string, number>, domain: string, now: number): string | undefined {
  let candidate = domain;
  for (;;) {
    const expiry = exact.get(candidate);
    if (expiry !== undefined && expiry > now) return candidate;
    const dot = candidate.indexOf(".");
    // Stop at the registrable-looking two-label tail: entries have at least two labels.
    if (dot < 0 || candidate.indexOf(".", dot + 1) < 0) return undefined;
    candidate = candidate.slice(dot + 1);
  }
}
