import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { alertRecords } from "#functions/alert/alert-records";
import { loadAlertConfig } from "#functions/alert/config";
import { publishAlertMetrics } from "#functions/alert/metrics";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbAlertLedger } from "#shared/adapters/dynamodb-alert-ledger";
import { OutboxAlertPublisher } from "#shared/adapters/outbox-alert-publisher";
import { createSnsClient, SnsAlertPublisher } from "#shared/adapters/sns-alert-publisher";
import { ENV, METRICS_NAMESPACE } from "#shared/resources";

// Composition root: configuration and clients are built once per container (cold start).
const config = loadAlertConfig(process.env);
const logger = new Logger({ serviceName: "vigil-alert" });
const metrics = new Metrics({
  namespace: process.env[ENV.metricsNamespace] ?? METRICS_NAMESPACE,
  serviceName: "vigil-alert",
});
const ledger = new DynamoDbAlertLedger(createDynamoDbClient(), config.alertsTable, {
  deliveryRetentionSeconds: config.deliveryRetentionSeconds,
});
const publisher =
  config.target.kind === "sns"
    ? new SnsAlertPublisher(createSnsClient(), config.target.topicArn)
    : new OutboxAlertPublisher(config.target.dir);

/** Kinesis-triggered entry point: raises the alerts a batch of decisions calls for. */
export async function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  const result = await alertRecords(event.Records, {
    policy: config.policy,
    ledger,
    publisher,
    now: () => new Date(),
    logger,
  });
  publishAlertMetrics(metrics, result.counts);
  return result.response;
}
