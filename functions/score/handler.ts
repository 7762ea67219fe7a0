import { Logger } from "@aws-lambda-powertools/logger";
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { loadScoreConfig } from "#functions/score/config";
import { scoreRecords } from "#functions/score/score-records";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";

// Composition root: configuration and clients are built once per container (cold start).
const config = loadScoreConfig(process.env);
const logger = new Logger({ serviceName: "vigil-score" });
const store = new DynamoDbDecisionStore(
  createDynamoDbClient(),
  config.decisionsTable,
  config.decisionRetentionSeconds,
);

/** Kinesis-triggered entry point: decides each record, reports undecodable ones for retry. */
export async function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  const result = await scoreRecords(event.Records, { store, now: () => new Date(), logger });
  return result.response;
}
