import * as z from "zod";
import { type IpAsnTable, parseAddress } from "#shared/domain/enrichment/ip-asn-table";

/**
 * IP enrichment: the autonomous system an address belongs to and what kind of network that is
 * (docs/features.md, "IP enrichment"). Pure: the data comes in as bytes and a parsed list; the
 * shipped copy is `shippedIpEnrichment()` (shipped-ip-dataset.ts), decoded from a generated constant.
 */

/** What `ip.type` says about an address. `unknown`: not in any list (residential, mobile, corporate, unlisted). */
export const IP_TYPES = ["hosting", "vpn", "proxy", "tor", "unknown"] as const;
/** One of IP_TYPES. */
export type IpType = (typeof IP_TYPES)[number];

/** The listed network types (every type but `unknown`). */
const LISTED_TYPES = ["hosting", "vpn", "proxy", "tor"] as const;

const CIDR = /^[0-9a-fA-F.:]+\/[0-9]{1,3}$/;

/** The curated list of network types (config/enrichment/ip-types.yaml). */
export const ipTypeListSchema = z.strictObject({
  asns: z.array(
    z.strictObject({
      asn: z.int().min(1).max(0xffff_ffff),
      type: z.enum(LISTED_TYPES),
      name: z.string().min(1).max(200),
    }),
  ),
  ranges: z.array(
    z.strictObject({
      cidr: z.string().regex(CIDR, "a CIDR block such as 185.220.101.0/24"),
      type: z.enum(LISTED_TYPES),
      name: z.string().min(1).max(200).optional(),
    }),
  ),
});
/** The list as written. */
export type IpTypeList = z.infer<typeof ipTypeListSchema>;

/** Which dataset the enrichment comes from: printed by `vigil features show`, hashed into features using it. */
export interface IpDatasetInfo {
  /** The npm package and version the ASN table was built from, e.g. `@ip-location-db/asn@2.3.2026061719`. */
  readonly source: string;
  /** The date of the data (UTC, YYYY-MM-DD), from the package version. */
  readonly date: string;
  /** Licence and attribution the data requires. */
  readonly licence: string;
  /** 16 hex digits of SHA-256 over the table and the type list: what a feature's state key includes. */
  readonly id: string;
  readonly ipv4Ranges: number;
  readonly ipv6Ranges: number;
  readonly listedAsns: number;
  readonly listedRanges: number;
}

/** What the enrichment says about one address. */
export interface IpFacts {
  /** The announcing AS, or undefined for addresses no range holds (private, reserved, unannounced). */
  readonly asn: number | undefined;
  readonly type: IpType;
}

/** Address facts from a shipped dataset. */
export interface IpEnrichment {
  readonly dataset: IpDatasetInfo;
  /** Facts about a canonical address (the event contract's clean `ip`). */
  lookup(ip: string): IpFacts;
}

interface TypedBlock {
  readonly family: 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
  readonly type: IpType;
}

/**
 * Builds the enrichment from an ASN table and a type list. An address's type is the type of the
 * most specific listed range holding it, else the type of its ASN, else `unknown`.
 */
export function createIpEnrichment(
  table: IpAsnTable,
  list: IpTypeList,
  dataset: IpDatasetInfo,
): IpEnrichment {
  const byAsn = new Map<number, IpType>(list.asns.map((entry) => [entry.asn, entry.type]));
  const blocks: TypedBlock[] = list.ranges
    .map((entry) => ({ ...cidrBounds(entry.cidr), type: entry.type }))
    // Most specific first: the first block holding an address decides.
    .sort((a, b) => (a.last - a.first < b.last - b.first ? -1 : a.last - a.first > b.last - b.first ? 1 : 0));
  const cache = new Map<string, IpFacts>();
  return {
    dataset,
    lookup(ip: string): IpFacts {
      const hit = cache.get(ip);
      if (hit) return hit;
      const asn = table.asnOf(ip);
      let type: IpType = (asn === undefined ? undefined : byAsn.get(asn)) ?? "unknown";
      if (blocks.length > 0) {
        const address = parseAddress(ip);
        const block =
          address &&
          blocks.find(
            (b) => b.family === address.family && address.value >= b.first && address.value <= b.last,
          );
        if (block) type = block.type;
      }
      const facts = { asn, type };
      // A bounded memo: NAT addresses and hot devices repeat within and across batches.
      if (cache.size >= 10_000) cache.clear();
      cache.set(ip, facts);
      return facts;
    },
  };
}

/** First and last address of a CIDR block; throws RangeError for a malformed block. */
export function cidrBounds(cidr: string): { family: 4 | 6; first: bigint; last: bigint } {
  const [text = "", bitsText = ""] = cidr.split("/");
  const address = parseAddress(text);
  const bits = Number(bitsText);
  const width = address?.family === 4 ? 32 : 128;
  if (address === undefined || !Number.isInteger(bits) || bits < 0 || bits > width) {
    throw new RangeError(`not a CIDR block: ${cidr}`);
  }
  const host = (1n << BigInt(width - bits)) - 1n;
  const first = address.value & ~host & ((1n << BigInt(width)) - 1n);
  return { family: address.family, first, last: first | host };
}
