import { createMapWorker } from "#functions/backtest/map-worker";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import { createS3Client, S3ObjectStore } from "#shared/adapters/s3-object-store";
import type { BacktestTally } from "#shared/domain/backtest/tally";
import { ENV, TABLES } from "#shared/resources";

// Composition root: clients are built once per container (cold start).
const bucket = process.env[ENV.archiveBucket];
const table = process.env[TABLES.decisions.envVar];
if (!bucket || !table)
  throw new Error(
    `backtest worker configuration is invalid: set ${ENV.archiveBucket} and ${TABLES.decisions.envVar}`,
  );
const worker = createMapWorker({
  store: new S3ObjectStore(createS3Client(), bucket),
  decisions: new DynamoDbDecisionStore(createDynamoDbClient(), table, 0),
});

/** Step Functions distributed map iteration: one batch of archive objects, its tally back. */
export async function handler(event: unknown): Promise<BacktestTally> {
  return worker(event);
}
