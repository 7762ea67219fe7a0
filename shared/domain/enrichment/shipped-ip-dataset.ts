import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { IpAsnTable } from "#shared/domain/enrichment/ip-asn-table";
import { IP_DATASET } from "#shared/domain/enrichment/ip-dataset.generated";
import { datasetDateOf } from "#shared/domain/enrichment/ip-dataset-module";
import { createIpEnrichment, type IpEnrichment } from "#shared/domain/enrichment/ip-enrichment";

let shipped: IpEnrichment | undefined;

/**
 * The IP enrichment shipped with this build (`ip-dataset.generated.ts`: the ASN table of the npm
 * package named in it and config/enrichment/ip-types.yaml), decoded on first use (about 0.1 s and
 * 15 MB of memory) and kept for the life of the process. Nothing is downloaded.
 */
export function shippedIpEnrichment(): IpEnrichment {
  if (shipped) return shipped;
  const binary = gunzipSync(Buffer.from(IP_DATASET.gzipBase64, "base64"));
  const sha256 = createHash("sha256").update(binary).digest("hex");
  if (sha256 !== IP_DATASET.tableSha256) throw new Error("the shipped IP dataset is corrupt (checksum)");
  const table = IpAsnTable.decode(binary);
  const id = createHash("sha256")
    .update(sha256)
    .update(JSON.stringify(IP_DATASET.types))
    .digest("hex")
    .slice(0, 16);
  shipped = createIpEnrichment(table, IP_DATASET.types, {
    source: `${IP_DATASET.packageName}@${IP_DATASET.packageVersion}`,
    date: datasetDateOf(IP_DATASET.packageVersion) ?? "unknown",
    licence: IP_DATASET.licence,
    id,
    ipv4Ranges: table.size.ipv4,
    ipv6Ranges: table.size.ipv6,
    listedAsns: IP_DATASET.types.asns.length,
    listedRanges: IP_DATASET.types.ranges.length,
  });
  return shipped;
}
