import { afterAll, describe, expect, it } from "vitest";
import { estimateCost, type TemplateResource } from "../../scripts/cost/cost-model.ts";
import { DAYS_PER_MONTH, HOURS_PER_MONTH, PRICES, WORKLOAD } from "../../scripts/cost/pricing.ts";
import { synthesizeVigil } from "./synth-vigil.ts";

const prod = synthesizeVigil({ context: { "vigil:profile": "prod" } });
const dev = synthesizeVigil({ context: { "vigil:profile": "dev" } });
afterAll(() => {
  prod.dispose();
  dev.dispose();
});
const resourcesOf = (vigil: typeof prod) => vigil.resources as unknown as Record<string, TemplateResource>;
const lineOf = (estimate: ReturnType<typeof estimateCost>, service: string, item: RegExp) => {
  const found = estimate.lines.filter((l) => l.service === service && item.test(l.item));
  expect(found, `${service} ${item}`).toHaveLength(1);
  return found[0] as (typeof found)[number];
};

describe("cost model", () => {
  it("prices provisioned shards, extended retention and the audit domain from the prod template", () => {
    const estimate = estimateCost(resourcesOf(prod), 1_000_000);
    const decisions = lineOf(estimate, "Kinesis", /^decisions stream, 4 provisioned shards, 168 h$/);
    expect(decisions.fixed).toBeCloseTo(
      4 * HOURS_PER_MONTH * (PRICES.kinesis.shardHour + PRICES.kinesis.extendedRetentionShardHour),
      6,
    );
    const domain = lineOf(estimate, "OpenSearch", /3 x r7g\.large\.search \+ 3 x m7g\.large\.search masters/);
    expect(domain.fixed).toBeCloseTo(
      HOURS_PER_MONTH *
        (3 * (PRICES.opensearch.instanceHour["r7g.large.search"] ?? 0) +
          3 * (PRICES.opensearch.instanceHour["m7g.large.search"] ?? 0)) +
        900 * PRICES.opensearch.gp3GBMonth,
      6,
    );
    expect(estimate.fixedWithoutAuditInstances).toBeCloseTo(estimate.fixed - domain.fixed, 6);
  });

  it("prices on-demand streams per stream-hour and per KB-rounded record from the dev template", () => {
    const estimate = estimateCost(resourcesOf(dev), 1_000_000);
    const events = lineOf(estimate, "Kinesis", /^events stream, on demand/);
    const gb = (1_000_000 * DAYS_PER_MONTH) / 1024 ** 2;
    expect(events.fixed).toBeCloseTo(HOURS_PER_MONTH * PRICES.kinesis.onDemandStreamHour, 6);
    // Two consumers read the events stream: score and the archive.
    expect(events.variable).toBeCloseTo(
      gb * (PRICES.kinesis.onDemandIngestGB + 2 * PRICES.kinesis.onDemandRetrievalGB),
      6,
    );
    expect(estimate.lines.some((l) => l.service === "OpenSearch")).toBe(false);
  });

  it("charges DynamoDB requests per event as bench:features measured them, linearly in the volume", () => {
    const one = lineOf(estimateCost(resourcesOf(prod), 1_000_000), "DynamoDB", /tables on demand/);
    const ten = lineOf(estimateCost(resourcesOf(prod), 10_000_000), "DynamoDB", /tables on demand/);
    const perEventWrites = WORKLOAD.stateWriteUnitsPerEvent + WORKLOAD.decisionWriteUnitsPerEvent;
    expect(one.variable).toBeGreaterThan(
      1_000_000 * DAYS_PER_MONTH * perEventWrites * (PRICES.dynamodb.writeRequestUnitsPerMillion / 1e6),
    );
    expect(ten.variable / one.variable).toBeCloseTo(10, 6);
  });

  it("forms larger batches at higher volume, so Lambda costs less per event", () => {
    const low = estimateCost(resourcesOf(prod), 1_000_000);
    const high = estimateCost(resourcesOf(prod), 100_000_000);
    const score = (e: typeof low) => lineOf(e, "Lambda", /^score:/);
    expect(score(high).variable / 100).toBeLessThan(score(low).variable);
    expect(score(high).item).toContain("~100 records per invocation");
  });

  it("warns when the volume needs more shards or audit storage than the template has", () => {
    expect(estimateCost(resourcesOf(prod), 1_000_000).warnings).toEqual([]);
    const warnings = estimateCost(resourcesOf(prod), 100_000_000).warnings.join("\n");
    expect(warnings).toMatch(/events stream runs at \d+% of its 2 shards' write limit/);
    expect(warnings).toMatch(/score takes at most/);
    expect(warnings).toMatch(/audit trail needs ~\d+ GB for 90 days with 1 replica/);
  });
});
