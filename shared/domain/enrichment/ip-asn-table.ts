import ipaddr from "ipaddr.js";

/**
 * IP address → autonomous system number, as sorted, non-overlapping inclusive ranges searched by
 * bisection. The table is data shipped with the code (docs/features.md, "IP enrichment"); this
 * module only encodes, decodes and searches it, so it is pure and runs the same in the score
 * function, the CLI and the reference implementation.
 *
 * Binary form (what `scripts/build-ip-dataset.ts` writes, gzip-compressed and base64-encoded):
 * the magic `VIPA1`, then for IPv4 and then IPv6 a count followed by one triple per range —
 * gap from the previous range's end + 1, size − 1, ASN — each an unsigned LEB128 varint (IPv6
 * values are 128-bit). Ranges are ascending; gaps hold addresses without an ASN.
 */

/** One range of addresses announced by one AS, both ends inclusive. */
export interface AsnRange {
  readonly start: bigint;
  readonly end: bigint;
  readonly asn: number;
}

const MAGIC = "VIPA1";

/** A table that cannot be decoded. */
export class IpAsnTableError extends Error {
  override readonly name = "IpAsnTableError";
}

/** Sorted ranges of one address family, for bisection. */
interface FamilyTable {
  readonly starts: readonly bigint[] | Float64Array;
  readonly ends: readonly bigint[] | Float64Array;
  readonly asns: Uint32Array;
}

/** The ASN of IPv4 and IPv6 addresses. */
export class IpAsnTable {
  private constructor(
    private readonly v4: { starts: Float64Array; ends: Float64Array; asns: Uint32Array },
    private readonly v6: { starts: bigint[]; ends: bigint[]; asns: Uint32Array },
  ) {}

  /** Ranges of each family. */
  get size(): { readonly ipv4: number; readonly ipv6: number } {
    return { ipv4: this.v4.asns.length, ipv6: this.v6.asns.length };
  }

  /**
   * The ASN announcing a canonical IP address (the event contract's clean form), or undefined
   * when no range holds it (private, reserved and unannounced space) or the text is not an address.
   */
  asnOf(ip: string): number | undefined {
    const v4 = ipv4Number(ip);
    if (v4 !== undefined) return search(this.v4, v4);
    const address = parseAddress(ip);
    if (address === undefined) return undefined;
    if (address.family === 4) return search(this.v4, Number(address.value));
    return search(this.v6, address.value);
  }

  /** Builds a table from ranges of both families (IPv4 values below 2^32). */
  static fromRanges(ipv4: readonly AsnRange[], ipv6: readonly AsnRange[]): IpAsnTable {
    const v4 = sortedDisjoint(ipv4);
    const v6 = sortedDisjoint(ipv6);
    return new IpAsnTable(
      {
        starts: Float64Array.from(v4, (r) => Number(r.start)),
        ends: Float64Array.from(v4, (r) => Number(r.end)),
        asns: Uint32Array.from(v4, (r) => r.asn),
      },
      {
        starts: v6.map((r) => r.start),
        ends: v6.map((r) => r.end),
        asns: Uint32Array.from(v6, (r) => r.asn),
      },
    );
  }

  /** Decodes the binary form (uncompressed); throws IpAsnTableError when it is malformed. */
  static decode(bytes: Uint8Array): IpAsnTable {
    const magic = new TextDecoder().decode(bytes.subarray(0, MAGIC.length));
    if (magic !== MAGIC) throw new IpAsnTableError("not an IP-to-ASN table (bad magic)");
    const reader = new VarintReader(bytes, MAGIC.length);
    // IPv4 in plain numbers (below 2^53): a cold start decodes some 400,000 ranges.
    const count4 = reader.number();
    const v4 = {
      starts: new Float64Array(count4),
      ends: new Float64Array(count4),
      asns: new Uint32Array(count4),
    };
    let previousEnd = -1;
    for (let i = 0; i < count4; i++) {
      const start = previousEnd + 1 + reader.number();
      const end = start + reader.number();
      const asn = reader.number();
      if (end > 0xffff_ffff || asn > 0xffff_ffff) throw new IpAsnTableError(`IPv4 range ${i} out of bounds`);
      v4.starts[i] = start;
      v4.ends[i] = end;
      v4.asns[i] = asn;
      previousEnd = end;
    }
    const count6 = reader.number();
    const v6 = {
      starts: new Array<bigint>(count6),
      ends: new Array<bigint>(count6),
      asns: new Uint32Array(count6),
    };
    let previousEnd6 = -1n;
    for (let i = 0; i < count6; i++) {
      const start = previousEnd6 + 1n + reader.big();
      const end = start + reader.big();
      const asn = reader.number();
      if (end >= 1n << 128n || asn > 0xffff_ffff) throw new IpAsnTableError(`IPv6 range ${i} out of bounds`);
      v6.starts[i] = start;
      v6.ends[i] = end;
      v6.asns[i] = asn;
      previousEnd6 = end;
    }
    if (reader.offset !== bytes.length) throw new IpAsnTableError("trailing bytes");
    return new IpAsnTable(v4, v6);
  }

  /** The binary form (uncompressed) of ranges: what `decode` reads. Overlaps are clipped (earlier wins). */
  static encode(ipv4: readonly AsnRange[], ipv6: readonly AsnRange[]): Uint8Array {
    const out: number[] = [...new TextEncoder().encode(MAGIC)];
    for (const ranges of [sortedDisjoint(ipv4), sortedDisjoint(ipv6)]) {
      writeVarint(out, BigInt(ranges.length));
      let previousEnd = -1n;
      for (const r of ranges) {
        writeVarint(out, r.start - previousEnd - 1n);
        writeVarint(out, r.end - r.start);
        writeVarint(out, BigInt(r.asn));
        previousEnd = r.end;
      }
    }
    return Uint8Array.from(out);
  }
}

/** Ranges sorted by start, each starting after the previous one's end (overlaps clipped, empty dropped). */
function sortedDisjoint(ranges: readonly AsnRange[]): AsnRange[] {
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: AsnRange[] = [];
  let previousEnd = -1n;
  for (const r of sorted) {
    const start = r.start > previousEnd ? r.start : previousEnd + 1n;
    if (start > r.end) continue;
    out.push({ start, end: r.end, asn: r.asn });
    previousEnd = r.end;
  }
  return out;
}

function search<T extends number | bigint>(table: FamilyTable, value: T): number | undefined {
  let lo = 0;
  let hi = table.asns.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const start = table.starts[mid] as T;
    if (value < start) hi = mid - 1;
    else if (value > (table.ends[mid] as T)) lo = mid + 1;
    else return table.asns[mid];
  }
  return undefined;
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** A canonical dotted-quad IPv4 address as a number, without ipaddr.js (the hot path); undefined otherwise. */
function ipv4Number(ip: string): number | undefined {
  const m = DOTTED_QUAD.exec(ip);
  if (m === null) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** An address as a number: IPv4 below 2^32, IPv6 as a 128-bit integer. */
export function parseAddress(ip: string): { family: 4 | 6; value: bigint } | undefined {
  if (!ipaddr.isValid(ip)) return undefined;
  const parsed = ipaddr.parse(ip);
  let value = 0n;
  for (const byte of parsed.toByteArray()) value = (value << 8n) | BigInt(byte);
  return { family: parsed.kind() === "ipv4" ? 4 : 6, value };
}

function writeVarint(out: number[], value: bigint): void {
  let v = value;
  if (v < 0n) throw new RangeError("varints are unsigned");
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

class VarintReader {
  constructor(
    private readonly bytes: Uint8Array,
    public offset: number,
  ) {}

  /** A varint below 2^53. */
  number(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.bytes[this.offset++];
      if (byte === undefined) throw new IpAsnTableError("truncated");
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 128;
      if (scale > 2 ** 49) throw new IpAsnTableError("varint too long");
    }
  }

  /** A varint of up to 128 bits. */
  big(): bigint {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.bytes[this.offset++];
      if (byte === undefined) throw new IpAsnTableError("truncated");
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7n;
      if (shift > 133n) throw new IpAsnTableError("varint too long");
    }
  }
}
