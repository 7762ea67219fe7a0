import { BACKTEST_WORKLOAD, PRICES, WORKLOAD } from "./pricing.ts";

/**
 * What a backtest over one million archived events costs on AWS, per path and archive storage
 * class, from the prices and workload figures of `scripts/cost/pricing.ts` (docs/backtest.md, "What
 * a backtest costs"). Pure arithmetic; `npm run cost:backtest` prints it.
 */

/** Storage classes the archive's lifecycle moves objects through. */
export type ArchiveStorageClass = "standard" | "infrequentAccess" | "glacierInstant";

/** The cost of one backtest over a million archived events, by item. */
export interface BacktestCost {
  readonly recordsPerObject: number;
  readonly storageClass: ArchiveStorageClass;
  readonly objects: number;
  readonly s3Gets: number;
  readonly s3Usd: number;
  readonly decisionReadUnits: number;
  readonly dynamodbUsd: number;
  /** Distributed path only (zero for the local path). */
  readonly lambdaGbSeconds: number;
  readonly lambdaUsd: number;
  readonly stateTransitions: number;
  readonly expressChildren: number;
  readonly stepFunctionsUsd: number;
  /** Local path only: archive bytes sent out of AWS to the machine running it. */
  readonly transferUsd: number;
  readonly totalUsd: number;
}

const MILLION = 1_000_000;

/** The stored-vector backtest of a million events on Lambda (the distributed map). */
export function distributedBacktestCost(
  recordsPerObject: number,
  storageClass: ArchiveStorageClass,
): BacktestCost {
  const w = BACKTEST_WORKLOAD;
  const objects = Math.ceil(MILLION / recordsPerObject);
  const archiveGB = (MILLION * WORKLOAD.archiveBytesPerEvent) / 1e9;
  const s3Usd =
    (objects / 1000) * PRICES.s3.getsPer1k[storageClass] + archiveGB * PRICES.s3.retrievalGB[storageClass];
  const decisionReadUnits = MILLION * w.decisionReadUnitsPerEvent;
  const dynamodbUsd = (decisionReadUnits / MILLION) * PRICES.dynamodb.readRequestUnitsPerMillion;
  const seconds =
    MILLION / w.eventsPerCpuSecond + (MILLION / 100) * w.batchGetSeconds + objects * w.objectGetSeconds;
  const lambdaGbSeconds = seconds * (w.workerMemoryMiB / 1024);
  const invocations = Math.ceil(objects / w.objectsPerBatch);
  const lambdaUsd =
    lambdaGbSeconds * PRICES.lambda.gbSecondArm + (invocations / MILLION) * PRICES.lambda.requestsPerMillion;
  const stateTransitions = w.parentTransitionsFixed + invocations;
  const childGbSeconds = seconds * (w.expressChildMemoryMiB / 1024);
  const stepFunctionsUsd =
    (stateTransitions / 1000) * PRICES.stepFunctions.standardTransitionsPer1k +
    (invocations / MILLION) * PRICES.stepFunctions.expressRequestsPerMillion +
    childGbSeconds * PRICES.stepFunctions.expressGBSecond;
  return {
    recordsPerObject,
    storageClass,
    objects,
    s3Gets: objects,
    s3Usd,
    decisionReadUnits,
    dynamodbUsd,
    lambdaGbSeconds,
    lambdaUsd,
    stateTransitions,
    expressChildren: invocations,
    stepFunctionsUsd,
    transferUsd: 0,
    totalUsd: s3Usd + dynamodbUsd + lambdaUsd + stepFunctionsUsd,
  };
}

/** The stored-vector backtest of a million events on a machine outside AWS (worker threads). */
export function localBacktestCost(recordsPerObject: number, storageClass: ArchiveStorageClass): BacktestCost {
  const d = distributedBacktestCost(recordsPerObject, storageClass);
  const transferUsd = ((MILLION * WORKLOAD.archiveBytesPerEvent) / 1e9) * PRICES.s3.transferOutGB;
  return {
    ...d,
    lambdaGbSeconds: 0,
    lambdaUsd: 0,
    stateTransitions: 0,
    expressChildren: 0,
    stepFunctionsUsd: 0,
    transferUsd,
    totalUsd: d.s3Usd + d.dynamodbUsd + transferUsd,
  };
}

/** The table docs/backtest.md shows. */
export function formatBacktestCosts(): string {
  const usd = (n: number) => `$${n.toFixed(4)}`;
  const lines = [
    "| per 1 M archived events | records/object | archive class | S3 GETs | DynamoDB RRU | Lambda GB-s | SFN transitions (+ Express children) | distributed total | local total (incl. transfer out)",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const records of BACKTEST_WORKLOAD.recordsPerObject)
    for (const storageClass of ["standard", "infrequentAccess", "glacierInstant"] as const) {
      const d = distributedBacktestCost(records, storageClass);
      const l = localBacktestCost(records, storageClass);
      lines.push(
        `| stored vectors | ${records} | ${storageClass} | ${d.s3Gets} (${usd(d.s3Usd)}) | ${d.decisionReadUnits} (${usd(d.dynamodbUsd)}) | ${d.lambdaGbSeconds.toFixed(0)} (${usd(d.lambdaUsd)}) | ${d.stateTransitions} + ${d.expressChildren} (${usd(d.stepFunctionsUsd)}) | ${usd(d.totalUsd)} | ${usd(l.totalUsd)} |`,
      );
    }
  return `${lines.join("\n")}\n`;
}
