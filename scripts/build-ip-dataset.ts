/**
 * Builds `shared/domain/enrichment/ip-dataset.generated.ts`, the IP enrichment data every bundle carries
 * (docs/features.md, "IP enrichment"), from:
 * - the IP-to-ASN ranges of the npm package `@ip-location-db/asn` (a pinned devDependency:
 *   nothing is downloaded at run time), and
 * - the curated network types of `config/enrichment/ip-types.yaml`.
 *
 * Update path: bump `@ip-location-db/asn` in package.json (`npm install -D -E @ip-location-db/asn@<v>`),
 * edit the type list if needed, then
 *
 *   npm run enrichment:build
 *
 * and commit the generated module with the lockfile. A unit test fails while the generated
 * module names another package version than the one installed, or another type list.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { parse as parseYaml } from "yaml";
import { type AsnRange, IpAsnTable } from "#shared/domain/enrichment/ip-asn-table";
import { ipDatasetSource } from "#shared/domain/enrichment/ip-dataset-module";
import { ipTypeListSchema } from "#shared/domain/enrichment/ip-enrichment";

const PACKAGE = "@ip-location-db/asn";
const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
const packageDir = dirname(require.resolve(`${PACKAGE}/package.json`));
const version = (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string })
  .version;

/** Ranges of a `-num.csv` file: start,end,asn,"organization". */
function readRanges(file: string): AsnRange[] {
  const ranges: AsnRange[] = [];
  for (const line of readFileSync(join(packageDir, file), "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const [start = "", end = "", asn = ""] = line.split(",", 3);
    ranges.push({ start: BigInt(start), end: BigInt(end), asn: Number(asn) });
  }
  return ranges;
}

const ipv4 = readRanges("asn-ipv4-num.csv");
const ipv6 = readRanges("asn-ipv6-num.csv");
const binary = IpAsnTable.encode(ipv4, ipv6);
const table = IpAsnTable.decode(binary);
const types = ipTypeListSchema.parse(
  parseYaml(readFileSync(join(root, "config/enrichment/ip-types.yaml"), "utf8")),
);
const compressed = gzipSync(binary, { level: 9 });
const licence = readFileSync(join(packageDir, "DBIP-LICENSE"), "utf8").split("\n")[0]?.trim() ?? "";
const source = ipDatasetSource({
  packageName: PACKAGE,
  packageVersion: version,
  licence: `CC BY 4.0: RouteViews (routeviews.org), NRO (nro.net) and DB-IP (db-ip.com). ${licence}`,
  tableSha256: createHash("sha256").update(binary).digest("hex"),
  ipv4Ranges: table.size.ipv4,
  ipv6Ranges: table.size.ipv6,
  types,
  gzipBase64: compressed.toString("base64"),
});
const target = join(root, "shared/domain/enrichment/ip-dataset.generated.ts");
writeFileSync(target, source);
process.stdout.write(
  `wrote ${target}: ${PACKAGE}@${version}, ${table.size.ipv4} IPv4 and ${table.size.ipv6} IPv6 ranges, ` +
    `${binary.length} bytes (${compressed.length} gzipped), ${types.asns.length} listed ASNs, ${types.ranges.length} listed ranges\n`,
);
