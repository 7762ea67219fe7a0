import { describe, expect, it } from "vitest";
import { distributedBacktestCost, localBacktestCost } from "../../scripts/cost/backtest-cost.ts";
import { BACKTEST_WORKLOAD, PRICES, WORKLOAD } from "../../scripts/cost/pricing.ts";

describe("backtest cost per million archived events", () => {
  it("adds up Lambda time from the measured CPU rate and the assumed reads, at the worker's memory", () => {
    const c = distributedBacktestCost(1_000, "standard");
    const seconds =
      1e6 / BACKTEST_WORKLOAD.eventsPerCpuSecond + 1e4 * BACKTEST_WORKLOAD.batchGetSeconds + 1_000 * 0.03;
    expect(c.lambdaGbSeconds).toBeCloseTo(seconds * (1769 / 1024), 6);
    expect(c.objects).toBe(1_000);
    expect(c.expressChildren).toBe(50);
    expect(c.dynamodbUsd).toBeCloseTo(PRICES.dynamodb.readRequestUnitsPerMillion, 9);
    expect(c.totalUsd).toBeCloseTo(c.s3Usd + c.dynamodbUsd + c.lambdaUsd + c.stepFunctionsUsd, 12);
  });

  it("prices reads by storage class, and the local path pays transfer out instead of Lambda and Step Functions", () => {
    const standard = distributedBacktestCost(100, "standard");
    const glacier = distributedBacktestCost(100, "glacierInstant");
    expect(glacier.s3Usd).toBeGreaterThan(standard.s3Usd);
    expect(glacier.s3Usd).toBeCloseTo(10 * 0.01 + ((1e6 * WORKLOAD.archiveBytesPerEvent) / 1e9) * 0.03, 9);
    const local = localBacktestCost(100, "standard");
    expect(local.lambdaUsd + local.stepFunctionsUsd).toBe(0);
    expect(local.transferUsd).toBeCloseTo(
      ((1e6 * WORKLOAD.archiveBytesPerEvent) / 1e9) * PRICES.s3.transferOutGB,
      9,
    );
    expect(local.totalUsd).toBeCloseTo(local.s3Usd + local.dynamodbUsd + local.transferUsd, 12);
  });
});
