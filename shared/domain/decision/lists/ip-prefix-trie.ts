/**
 * IP ranges for list lookups: a binary trie over address bits, one per address family. A lookup
 * walks at most 32 (IPv4) or 128 (IPv6) nodes, whatever the number of ranges, and each node on
 * the path that ends a range is checked against the evaluation time (ranges may expire).
 */

interface TrieNode {
  zero?: TrieNode;
  one?: TrieNode;
  /** Set when a range ends here: its label and latest expiry (Infinity: never). */
  range?: { label: string; expiresAt: number };
}

/** Ranges of one address family. */
export class IpPrefixTrie {
  private readonly root: TrieNode = {};
  private count = 0;

  /** Number of ranges inserted (a range inserted twice counts once). */
  get size(): number {
    return this.count;
  }

  /**
   * Adds the range `bytes/prefix`. The same range added twice keeps the later expiry, because an
   * entry that is still valid must keep matching whichever copy was added first.
   */
  insert(bytes: readonly number[], prefix: number, label: string, expiresAt: number): void {
    let node = this.root;
    for (let i = 0; i < prefix; i++) {
      const bit = bitAt(bytes, i);
      const next = bit === 0 ? node.zero : node.one;
      if (next) {
        node = next;
        continue;
      }
      const created: TrieNode = {};
      if (bit === 0) node.zero = created;
      else node.one = created;
      node = created;
    }
    if (node.range === undefined) {
      this.count++;
      node.range = { label, expiresAt };
    } else if (expiresAt > node.range.expiresAt) {
      node.range = { label, expiresAt };
    }
  }

  /** The most specific range containing the address that has not expired at `now`, if any. */
  lookup(bytes: readonly number[], now: number): string | undefined {
    let node: TrieNode | undefined = this.root;
    let found: string | undefined;
    const bits = bytes.length * 8;
    for (let i = 0; node !== undefined; i++) {
      if (node.range !== undefined && node.range.expiresAt > now) found = node.range.label;
      if (i === bits) break;
      node = bitAt(bytes, i) === 0 ? node.zero : node.one;
    }
    return found;
  }

  /** `lookup` for an IPv4 address given as its 32-bit value (a·2^24 + b·2^16 + c·2^8 + d), without a byte array. */
  lookupV4(address: number, now: number): string | undefined {
    let node: TrieNode | undefined = this.root;
    let found: string | undefined;
    for (let i = 0; node !== undefined; i++) {
      if (node.range !== undefined && node.range.expiresAt > now) found = node.range.label;
      if (i === 32) break;
      node = ((address >>> (31 - i)) & 1) === 0 ? node.zero : node.one;
    }
    return found;
  }
}

function bitAt(bytes: readonly number[], i: number): number {
  return ((bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
}
