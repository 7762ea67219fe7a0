/**
 * The one description of Vigil's stateful resources and the names that tie them together.
 *
 * Both the CDK app (`infra/`) and the local stack bootstrap (`local/`) read these definitions,
 * so a table key, a TTL attribute or an environment variable name cannot differ between a
 * laptop and AWS. Pure data: no SDK, no environment access.
 */

/** Attribute types a key attribute may have (DynamoDB `S` string or `N` number). */
export type KeyAttributeType = "S" | "N";

/** A DynamoDB table as both infra and the local bootstrap need it. */
export interface TableDefinition {
  /** Logical id used in CDK and the base of the local table name. */
  readonly id: string;
  /** What the table holds, for docs and `vigil local up`. */
  readonly purpose: string;
  readonly partitionKey: { readonly name: string; readonly type: KeyAttributeType };
  readonly sortKey?: { readonly name: string; readonly type: KeyAttributeType };
  /** Attribute holding an epoch-seconds expiry, or undefined for no TTL. */
  readonly ttlAttribute?: string;
  /** Environment variable through which functions receive the table name. */
  readonly envVar: string;
}

/** A Kinesis data stream as both infra and the local bootstrap need it. */
export interface StreamDefinition {
  readonly id: string;
  readonly purpose: string;
  /** Provisioned shard count (AWS and local). */
  readonly shardCount: number;
  /** Retention in hours (AWS); the local engine keeps records while it runs. */
  readonly retentionHours: number;
  readonly envVar: string;
}

/** The attribute every table with expiring items uses for DynamoDB TTL. */
export const TTL_ATTRIBUTE = "expiresAt";

export const STREAMS = {
  events: {
    id: "Events",
    purpose: "Business events put by producers (one JSON event per record, partition key = userId).",
    shardCount: 2,
    retentionHours: 24,
    envVar: "VIGIL_EVENTS_STREAM",
  },
  decisions: {
    id: "Decisions",
    purpose: "Every decision, published by score (identifiers pseudonymized), consumed by alert and audit.",
    shardCount: 2,
    retentionHours: 24,
    envVar: "VIGIL_DECISIONS_STREAM",
  },
} as const satisfies Record<string, StreamDefinition>;

export const TABLES = {
  state: {
    id: "State",
    purpose: "Windowed behaviour state: one item per entity key holding its feature buckets.",
    partitionKey: { name: "pk", type: "S" },
    ttlAttribute: TTL_ATTRIBUTE,
    envVar: "VIGIL_STATE_TABLE",
  },
  config: {
    id: "Config",
    purpose: "Operator-managed configuration: rules, lists, models, feature definitions (versioned).",
    partitionKey: { name: "pk", type: "S" },
    sortKey: { name: "sk", type: "S" },
    envVar: "VIGIL_CONFIG_TABLE",
  },
  decisions: {
    id: "Decisions",
    purpose: "One decision item per eventId.",
    partitionKey: { name: "eventId", type: "S" },
    ttlAttribute: TTL_ATTRIBUTE,
    envVar: "VIGIL_DECISIONS_TABLE",
  },
  quarantine: {
    id: "Quarantine",
    purpose:
      "Records that could not be decided: the raw record, where it came from, and why (one item per record).",
    partitionKey: { name: "id", type: "S" },
    ttlAttribute: TTL_ATTRIBUTE,
    envVar: "VIGIL_QUARANTINE_TABLE",
  },
  alerts: {
    id: "Alerts",
    purpose:
      "Alert deliveries (one item per eventId and channel: no duplicate alert under redelivery) and " +
      "throttle windows (one item per channel, finding and pseudonymous entity).",
    partitionKey: { name: "pk", type: "S" },
    ttlAttribute: TTL_ATTRIBUTE,
    envVar: "VIGIL_ALERTS_TABLE",
  },
  labels: {
    id: "Labels",
    purpose:
      "Outcomes known about decided events or entities (reviews, chargebacks, challenge results, " +
      "imports): one item per label, partition key the subject, sort key observedAt#labelId. No TTL: " +
      "labels are the ground truth every training set and backtest is rebuilt from (docs/labels.md).",
    partitionKey: { name: "pk", type: "S" },
    sortKey: { name: "sk", type: "S" },
    envVar: "VIGIL_LABELS_TABLE",
  },
  cases: {
    id: "Cases",
    purpose:
      "Review cases analysts resolved: one item per case (the decided eventId) with who resolved it, " +
      "when, and the label it wrote. Open cases are the decisions themselves (docs/cases.md).",
    partitionKey: { name: "caseId", type: "S" },
    envVar: "VIGIL_CASES_TABLE",
  },
} as const satisfies Record<string, TableDefinition>;

export type StreamKey = keyof typeof STREAMS;
export type TableKey = keyof typeof TABLES;

/** Tuning of one Kinesis event source mapping, shared by CDK and the local runtime. */
export interface EventSourceMappingDefinition {
  readonly stream: StreamKey;
  readonly batchSize: number;
  /** Seconds to wait for a fuller batch (AWS `MaximumBatchingWindowInSeconds`). */
  readonly maxBatchingWindowSeconds: number;
  readonly bisectBatchOnError: boolean;
  readonly maxRetryAttempts: number;
  readonly maxRecordAgeSeconds: number;
  readonly reportBatchItemFailures: boolean;
  readonly startingPosition: "TRIM_HORIZON" | "LATEST";
}

/** A Lambda function: where its handler lives and what it is wired to. */
export interface FunctionDefinition {
  readonly id: string;
  /** Entry file relative to the repository root. */
  readonly entry: string;
  readonly handler: string;
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
  /** Tables it reads or writes, with the access it needs. */
  readonly tables: Readonly<Partial<Record<TableKey, "read" | "write" | "readWrite">>>;
  /** Streams it puts records on (write access and the stream's env var). */
  readonly publishes?: readonly StreamKey[];
  readonly eventSource?: EventSourceMappingDefinition;
}

export const FUNCTIONS = {
  score: {
    id: "Score",
    entry: "functions/score/handler.ts",
    handler: "handler",
    memoryMiB: 1024,
    timeoutSeconds: 60,
    tables: {
      decisions: "readWrite",
      state: "readWrite",
      config: "read",
      quarantine: "readWrite",
      // Challenge outcomes become labels (conditional puts only).
      labels: "write",
    },
    publishes: ["decisions"],
    eventSource: {
      stream: "events",
      batchSize: 100,
      maxBatchingWindowSeconds: 1,
      bisectBatchOnError: true,
      maxRetryAttempts: 5,
      maxRecordAgeSeconds: 3600,
      reportBatchItemFailures: true,
      startingPosition: "TRIM_HORIZON",
    },
  },
  alert: {
    id: "Alert",
    entry: "functions/alert/handler.ts",
    handler: "handler",
    memoryMiB: 256,
    timeoutSeconds: 120,
    tables: { alerts: "readWrite" },
    eventSource: {
      stream: "decisions",
      batchSize: 100,
      maxBatchingWindowSeconds: 0,
      bisectBatchOnError: true,
      maxRetryAttempts: 20,
      // An alert a day late is noise; the alert policy's maxAgeSeconds drops those anyway.
      maxRecordAgeSeconds: 86_400,
      reportBatchItemFailures: true,
      startingPosition: "TRIM_HORIZON",
    },
  },
  audit: {
    id: "Audit",
    entry: "functions/audit/handler.ts",
    handler: "handler",
    memoryMiB: 512,
    timeoutSeconds: 120,
    tables: { quarantine: "write" },
    eventSource: {
      stream: "decisions",
      batchSize: 500,
      // Audit is not latency-critical: fuller batches make fewer, larger _bulk requests.
      maxBatchingWindowSeconds: 5,
      bisectBatchOnError: true,
      // The audit trail must not lose a decision: retry until OpenSearch is back (refusals are
      // quarantined, not retried), for as long as the stream keeps the record.
      maxRetryAttempts: -1,
      maxRecordAgeSeconds: 604_800,
      reportBatchItemFailures: true,
      startingPosition: "TRIM_HORIZON",
    },
  },
  archive: {
    id: "Archive",
    entry: "functions/archive/handler.ts",
    handler: "handler",
    memoryMiB: 512,
    timeoutSeconds: 120,
    tables: {},
    eventSource: {
      stream: "events",
      batchSize: 1000,
      // Fuller batches make fewer, larger objects; the archive is not on the decision path.
      maxBatchingWindowSeconds: 10,
      bisectBatchOnError: true,
      // The archive must not lose a record: retry until the bucket is back, for as long as the
      // stream keeps the record (its retention bounds the age on AWS).
      maxRetryAttempts: -1,
      maxRecordAgeSeconds: 604_800,
      reportBatchItemFailures: true,
      startingPosition: "TRIM_HORIZON",
    },
  },
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionKey = keyof typeof FUNCTIONS;

/** Environment variable names that are not resource names. */
export const ENV = {
  /** Days a decision item is kept before DynamoDB TTL may delete it. */
  decisionRetentionDays: "VIGIL_DECISION_RETENTION_DAYS",
  /** Days a quarantined record is kept for inspection and replay. */
  quarantineRetentionDays: "VIGIL_QUARANTINE_RETENTION_DAYS",
  /** Seconds the score function trusts its cached rules, lists and model before re-checking. */
  configRefreshSeconds: "VIGIL_CONFIG_REFRESH_SECONDS",
  /** Allowed clock skew of an event's `occurredAt` ahead of its arrival, in seconds. */
  maxFutureSkewSeconds: "VIGIL_MAX_FUTURE_SKEW_SECONDS",
  /** Allowed lateness of an event's `occurredAt` behind its arrival, in seconds. */
  maxLatenessSeconds: "VIGIL_MAX_LATENESS_SECONDS",
  /**
   * Secrets Manager secret (name or ARN) holding the pseudonymization key `{"keyId","key"}` (AWS).
   * Exactly one of this and {@link ENV.pseudonymKeyFile} is set for a function that pseudonymizes.
   */
  pseudonymKeySecret: "VIGIL_PSEUDONYM_KEY_SECRET",
  /** Local file holding the pseudonymization key, mode 0600 (local stack). */
  pseudonymKeyFile: "VIGIL_PSEUDONYM_KEY_FILE",
  /** SNS topic alerts are published to (AWS, LocalStack). */
  alertTopicArn: "VIGIL_ALERT_TOPIC_ARN",
  /** Local stack: directory of the alert outbox (one JSON file per SNS Publish input) instead of SNS. */
  alertOutboxDir: "VIGIL_ALERT_OUTBOX_DIR",
  /** Alert policy as JSON (see docs/alerts.md); unset: the default policy. */
  alertPolicy: "VIGIL_ALERT_POLICY",
  /** OpenSearch domain endpoint the audit function indexes into, `https://host` (AWS, LocalStack). */
  openSearchEndpoint: "VIGIL_OPENSEARCH_ENDPOINT",
  /** Local stack: directory of the audit NDJSON files (`_bulk` format) instead of OpenSearch. */
  auditDir: "VIGIL_AUDIT_DIR",
  /** Prefix of the daily audit indices (`<prefix>-YYYY.MM.DD`). Default `vigil-decisions`. */
  auditIndexPrefix: "VIGIL_AUDIT_INDEX_PREFIX",
  /** S3 bucket of the event archive (AWS, LocalStack). */
  archiveBucket: "VIGIL_ARCHIVE_BUCKET",
  /** Local stack: directory holding the event archive's objects (same keys as in the bucket). */
  archiveDir: "VIGIL_ARCHIVE_DIR",
  /** State machine of distributed backtests (`vigil backtest --distributed`, AWS). */
  backtestStateMachineArn: "VIGIL_BACKTEST_STATE_MACHINE_ARN",
  logLevel: "POWERTOOLS_LOG_LEVEL",
  serviceName: "POWERTOOLS_SERVICE_NAME",
  metricsNamespace: "POWERTOOLS_METRICS_NAMESPACE",
} as const;

/** CloudWatch metrics namespace for all Vigil functions. */
export const METRICS_NAMESPACE = "Vigil";

/**
 * Physical name of a resource for a given stage prefix. On AWS CDK generates names; locally
 * (and in tests) we use `${prefix}-${id}` so parallel test runs can use disjoint prefixes.
 */
export function physicalName(prefix: string, id: string): string {
  return `${prefix}-${id.toLowerCase()}`;
}
