import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { loadScoreConfig } from "#functions/score/config";
import { publishMetricEntries, publishScoreMetrics } from "#functions/score/metrics";
import { type ScoreBatchResult, scoreRecords } from "#functions/score/score-records";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import {
  configLoadMetrics,
  DEFAULT_FEATURES_DOCUMENT,
  DecisionConfigLoader,
} from "#shared/adapters/decision-config-loader";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import { DynamoDbLabelStore } from "#shared/adapters/dynamodb-label-store";
import { DynamoDbQuarantineStore } from "#shared/adapters/dynamodb-quarantine-store";
import { DynamoDbReceiptLedger } from "#shared/adapters/dynamodb-receipt-ledger";
import { DynamoDbStateStore } from "#shared/adapters/dynamodb-state-store";
import { KinesisDecisionPublisher } from "#shared/adapters/kinesis-decision-publisher";
import { pseudonymKeySourceFromEnv } from "#shared/adapters/pseudonym-key-from-env";
import { stageProbeFromEnv } from "#shared/adapters/stage-marker-file";
import { compileFeatureDocument, decisionSafetyMetrics, ruleMetrics } from "#shared/domain/decision/index";
import { createPseudonymizer } from "#shared/domain/decision-message/index";
import { ENV, METRICS_NAMESPACE } from "#shared/resources";

// Composition root: configuration and clients are built once per container (cold start).
const config = loadScoreConfig(process.env);
const logger = new Logger({ serviceName: "vigil-score" });
const metrics = new Metrics({
  namespace: process.env[ENV.metricsNamespace] ?? METRICS_NAMESPACE,
  serviceName: "vigil-score",
});
const dynamodb = createDynamoDbClient();
const decisions = new DynamoDbDecisionStore(dynamodb, config.decisionsTable, config.decisionRetentionSeconds);
// Receipt marks share the decisions table and its retention (far longer than a record can be redelivered).
const receipts = new DynamoDbReceiptLedger(dynamodb, config.decisionsTable, config.decisionRetentionSeconds);
const quarantine = new DynamoDbQuarantineStore(
  dynamodb,
  config.quarantineTable,
  config.quarantineRetentionSeconds,
);
const labels = new DynamoDbLabelStore(dynamodb, config.labelsTable);
// Starts with the built-in feature set; each batch switches to the set in force (config table).
const features = new DynamoDbStateStore({
  client: dynamodb,
  tableName: config.stateTable,
  features: compileFeatureDocument(DEFAULT_FEATURES_DOCUMENT.document),
  maxEventLatenessMs: config.limits.maxLatenessMs,
  maxFutureSkewMs: config.limits.maxFutureSkewMs,
});
// Decisions leave the function only pseudonymized, on the decisions stream (alert, audit); stored
// decisions name list entries by the same pseudonyms.
const pseudonymKeys = pseudonymKeySourceFromEnv(process.env);
const publisher = new KinesisDecisionPublisher(createKinesisClient(), config.decisionsStream, pseudonymKeys);
// Rules, lists, model and feature definitions from the config table, re-checked at most every
// refresh interval.
const engineConfig = new DecisionConfigLoader(new DynamoDbConfigStore(dynamodb, config.configTable), {
  refreshMs: config.configRefreshMs,
  // Kind and version only: a store error's message can quote the request.
  onError: (error) =>
    logger.error("configuration refused or unreadable; the last good one stays", {
      kind: error.kind,
      ...(error.version !== undefined ? { version: error.version } : {}),
    }),
});

// Crash-test instrumentation, only when VIGIL_STAGE_MARKERS_FILE is set (never on AWS).
const probe = stageProbeFromEnv(process.env, process.env.AWS_LAMBDA_FUNCTION_NAME ?? "score");

/** Kinesis-triggered entry point: decides or quarantines each record, reports I/O failures for retry. */
export async function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  const loaded = await engineConfig.current();
  features.use(loaded.features);
  const result = await scoreRecords(event.Records, {
    decisions,
    publisher,
    quarantine,
    labels,
    features,
    receipts,
    decide: (clean, vector) => loaded.engine.decide({ event: clean, features: vector }, Date.now()),
    pseudonymizer: async () => createPseudonymizer(await pseudonymKeys.load()),
    limits: config.limits,
    now: () => new Date(),
    logger,
    ...(probe ? { probe } : {}),
  });
  emitMetrics(result, loaded);
  return result.response;
}

/** Every metric of one invocation (shared/metrics.ts SCORE_METRICS, rule and config-load metrics). */
function emitMetrics(
  result: ScoreBatchResult,
  loaded: Awaited<ReturnType<typeof engineConfig.current>>,
): void {
  publishScoreMetrics(metrics, result);
  publishMetricEntries(metrics, [
    ...ruleMetrics(
      result.decided.map((d) => ({ type: d.type, ruleHits: d.ruleHits, ruleErrors: d.ruleErrors })),
      loaded.engine.parts.rules?.ruleset,
    ),
    ...configLoadMetrics(loaded.errors),
  ]);
  publishDecisionSafetyMetrics(result.decided);
}

/**
 * DecisionsWithoutConfiguredRules (decided with the shipped default rules) and LateEventDecisions
 * (a feature the rules or model read was late) of one batch, zeros included, for their alarms.
 */
function publishDecisionSafetyMetrics(decided: Parameters<typeof decisionSafetyMetrics>[0]): void {
  for (const entry of decisionSafetyMetrics(decided)) {
    metrics.addMetric(entry.name, MetricUnit.Count, entry.value);
  }
  metrics.publishStoredMetrics();
}
