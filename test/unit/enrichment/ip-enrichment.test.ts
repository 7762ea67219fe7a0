import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { IpAsnTable } from "#shared/domain/enrichment/ip-asn-table";
import { IP_DATASET } from "#shared/domain/enrichment/ip-dataset.generated";
import { cidrBounds, createIpEnrichment, ipTypeListSchema } from "#shared/domain/enrichment/ip-enrichment";
import { shippedIpEnrichment } from "#shared/domain/enrichment/shipped-ip-dataset";

const range = (start: bigint, end: bigint, asn: number) => ({ start, end, asn });

describe("the IP-to-ASN table", () => {
  it("encodes, decodes and finds ranges of both families, clipping overlaps", () => {
    const v4 = [range(100n, 199n, 1), range(150n, 300n, 2), range(1000n, 1000n, 3)];
    const big = (1n << 127n) + 5n;
    const v6 = [range(big, big + 10n, 64_500)];
    const table = IpAsnTable.decode(IpAsnTable.encode(v4, v6));
    expect(table.size).toEqual({ ipv4: 3, ipv6: 1 });
    expect(table.asnOf("0.0.0.150")).toBe(1); // the earlier range wins the overlap
    expect(table.asnOf("0.0.1.44")).toBe(2); // 300
    expect(table.asnOf("0.0.1.45")).toBeUndefined();
    expect(table.asnOf("0.0.3.232")).toBe(3); // 1000
    expect(table.asnOf("8000::5")).toBe(64_500);
    expect(table.asnOf("8000::f")).toBe(64_500); // 2^127 + 15, the range's end
    expect(table.asnOf("8000::10")).toBeUndefined();
    expect(table.asnOf("garbage")).toBeUndefined();
    expect(() => IpAsnTable.decode(new Uint8Array([1, 2, 3]))).toThrow("bad magic");
  });

  it("types an address by its most specific listed range, else by its AS", () => {
    const table = IpAsnTable.fromRanges([range(0xc6336400n, 0xc63364ffn, 64_501)], []);
    const enrichment = createIpEnrichment(
      table,
      {
        asns: [{ asn: 64_501, type: "hosting", name: "test host" }],
        ranges: [
          { cidr: "198.51.100.0/24", type: "vpn" },
          { cidr: "198.51.100.128/25", type: "tor" },
        ],
      },
      shippedIpEnrichment().dataset,
    );
    expect(enrichment.lookup("198.51.100.7")).toEqual({ asn: 64_501, type: "vpn" });
    expect(enrichment.lookup("198.51.100.200")).toEqual({ asn: 64_501, type: "tor" });
    expect(enrichment.lookup("192.0.2.1")).toEqual({ asn: undefined, type: "unknown" });
    expect(cidrBounds("2001:db8::/32")).toEqual({
      family: 6,
      first: 0x20010db8n << 96n,
      last: (0x20010db8n << 96n) | ((1n << 96n) - 1n),
    });
  });
});

describe("the shipped IP dataset", () => {
  it("was built from the installed @ip-location-db/asn and the committed type list (npm run enrichment:build)", () => {
    const require = createRequire(import.meta.url);
    const installed = JSON.parse(
      readFileSync(require.resolve("@ip-location-db/asn/package.json"), "utf8"),
    ) as {
      version: string;
    };
    expect(`${IP_DATASET.packageName}@${IP_DATASET.packageVersion}`).toBe(
      `@ip-location-db/asn@${installed.version}`,
    );
    const list = ipTypeListSchema.parse(
      parseYaml(readFileSync(new URL("../../../config/enrichment/ip-types.yaml", import.meta.url), "utf8")),
    );
    expect(IP_DATASET.types).toEqual(list);
  });

  it("names its source and date and knows the large clouds", () => {
    const enrichment = shippedIpEnrichment();
    expect(enrichment.dataset).toMatchObject({
      source: `@ip-location-db/asn@${IP_DATASET.packageVersion}`,
      date: "2026-06-17",
    });
    expect(enrichment.dataset.ipv4Ranges).toBeGreaterThan(100_000);
    expect(enrichment.lookup("8.8.8.8")).toEqual({ asn: 15_169, type: "hosting" });
    expect(enrichment.lookup("2001:4860:4860::8888")).toEqual({ asn: 15_169, type: "hosting" });
    expect(enrichment.lookup("1.1.1.1")).toEqual({ asn: 13_335, type: "unknown" });
    expect(enrichment.lookup("10.1.2.3")).toEqual({ asn: undefined, type: "unknown" });
  });
});
