import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { auditRecords } from "#functions/audit/audit-records";
import { loadAuditConfig } from "#functions/audit/config";
import { publishAuditMetrics } from "#functions/audit/metrics";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbAuditQuarantine } from "#shared/adapters/dynamodb-audit-quarantine";
import { NdjsonAuditSink } from "#shared/adapters/ndjson-audit-sink";
import { OpenSearchAuditSink } from "#shared/adapters/opensearch-audit-sink";
import { createOpenSearchClient } from "#shared/adapters/opensearch-client";
import { ENV, METRICS_NAMESPACE } from "#shared/resources";

// Composition root: configuration and clients are built once per container (cold start).
const config = loadAuditConfig(process.env);
const logger = new Logger({ serviceName: "vigil-audit" });
const metrics = new Metrics({
  namespace: process.env[ENV.metricsNamespace] ?? METRICS_NAMESPACE,
  serviceName: "vigil-audit",
});
const quarantine = new DynamoDbAuditQuarantine(
  createDynamoDbClient(),
  config.quarantineTable,
  config.quarantineRetentionSeconds,
);
const sink =
  config.target.kind === "opensearch"
    ? new OpenSearchAuditSink(
        createOpenSearchClient({ endpoint: config.target.endpoint, region: config.target.region }),
      )
    : new NdjsonAuditSink(config.target.dir);

/** Kinesis-triggered entry point: indexes a batch of decisions into the audit trail. */
export async function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  const result = await auditRecords(event.Records, {
    sink,
    quarantine,
    indexPrefix: config.indexPrefix,
    now: () => new Date(),
    logger,
  });
  publishAuditMetrics(metrics, result.counts);
  return result.response;
}
