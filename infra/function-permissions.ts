import type { StreamKey, TableKey } from "#shared/resources";

/**
 * What each function's own code calls, resource by resource, read from the code (handlers, use
 * cases and the adapters they build). The constructs grant exactly these actions and nothing else;
 * `test/infra/least-privilege.test.ts` checks the template against this list and this list against
 * the SDK commands in each function's bundled sources, and docs/infra.md lists it. A change in what
 * a function calls is a change here.
 *
 * Actions Lambda or another service performs on the function's behalf (reading its event source,
 * sending to its failure queue, KMS through a data service, logs, X-Ray, VPC interfaces) are not in
 * this list: they follow from the wiring and are listed in {@link ON_BEHALF_ACTIONS}.
 */
export interface CodePermissions {
  /** DynamoDB actions per table. `TransactWriteItems` needs the actions of its items. */
  readonly tables?: Readonly<Partial<Record<TableKey, readonly DynamoDbAction[]>>>;
  /** Kinesis actions per stream the function puts records on. */
  readonly streams?: Readonly<Partial<Record<StreamKey, readonly KinesisPutAction[]>>>;
  /** `secretsmanager:GetSecretValue` on the pseudonymization key secret. */
  readonly pseudonymKey?: readonly "secretsmanager:GetSecretValue"[];
  /** `sns:Publish` on the alert topic (Publish and PublishBatch). */
  readonly alertTopic?: readonly "sns:Publish"[];
  /** `s3:PutObject` under `events/` of the event archive bucket. */
  readonly archiveBucket?: readonly "s3:PutObject"[];
  /** `s3:GetObject` under `events/` and `backtests/` of the event archive bucket. */
  readonly archiveRead?: readonly "s3:GetObject"[];
  /** OpenSearch HTTP verbs and the exact paths they are used on, in the audit domain. */
  readonly auditDomain?: ReadonlyArray<{ readonly action: OpenSearchAction; readonly path: string }>;
}

/** DynamoDB data-plane actions a Vigil function may be granted. */
export type DynamoDbAction =
  | "dynamodb:GetItem"
  | "dynamodb:BatchGetItem"
  | "dynamodb:PutItem"
  | "dynamodb:UpdateItem"
  | "dynamodb:Query";

/** Kinesis write actions. */
export type KinesisPutAction = "kinesis:PutRecord" | "kinesis:PutRecords";

/** OpenSearch HTTP actions. */
export type OpenSearchAction = "es:ESHttpGet" | "es:ESHttpPut" | "es:ESHttpPost";

/**
 * The stream consumers' calls, by `FUNCTIONS` key:
 *
 * - score: decisions table GetItem (the winner of a lost race, a receipt mark), BatchGetItem (has this
 *   eventId been decided), PutItem (conditional put of the decision and of duplicate markers),
 *   UpdateItem (the receipt ledger's conditional mark moves, docs/data-quality.md); state table
 *   BatchGetItem (entity items of a batch) and UpdateItem (one conditional write per entity); config
 *   table BatchGetItem (heads of every kind) and GetItem (a version); quarantine table PutItem (entry
 *   and chunks); labels table PutItem (a challenge outcome's label, docs/labels.md); PutRecords on the decisions stream; GetSecretValue on the pseudonymization key.
 * - alert: alerts table PutItem (conditional delivery claim), GetItem (the claim that won),
 *   BatchGetItem (throttle windows), UpdateItem (delivery state, suppressed counts, and the window
 *   updates of its TransactWriteItems); Publish on the alert topic.
 * - audit: quarantine table PutItem (refused documents); POST `_bulk` on the audit domain.
 * - archive: PutObject under `events/` of the archive bucket (one object per batch, docs/backtest.md).
 */
export const CONSUMER_PERMISSIONS = {
  score: {
    tables: {
      decisions: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
      state: ["dynamodb:BatchGetItem", "dynamodb:UpdateItem"],
      config: ["dynamodb:GetItem", "dynamodb:BatchGetItem"],
      quarantine: ["dynamodb:PutItem"],
      labels: ["dynamodb:PutItem"],
    },
    streams: { decisions: ["kinesis:PutRecords"] },
    pseudonymKey: ["secretsmanager:GetSecretValue"],
  },
  alert: {
    tables: {
      alerts: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    },
    alertTopic: ["sns:Publish"],
  },
  audit: {
    tables: { quarantine: ["dynamodb:PutItem"] },
    auditDomain: [{ action: "es:ESHttpPost", path: "_bulk" }],
  },
  archive: {
    archiveBucket: ["s3:PutObject"],
  },
} as const satisfies Record<string, CodePermissions>;

/**
 * The seeding custom resource's provider: config table BatchGetItem (heads), PutItem (the version and
 * head puts of its TransactWriteItems) and GetItem (the head after a conflict).
 */
export const CONFIG_SEED_PERMISSIONS = {
  tables: { config: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"] },
} as const satisfies CodePermissions;

/**
 * The distributed backtest's worker (infra/constructs/distributed-backtest.ts): decisions table
 * BatchGetItem (the stored decisions of a batch's events); GetObject on the archive objects of its
 * batch and on its run's description.
 */
export const BACKTEST_WORKER_PERMISSIONS = {
  tables: { decisions: ["dynamodb:BatchGetItem"] },
  archiveRead: ["s3:GetObject"],
} as const satisfies CodePermissions;

/**
 * Actions a function's bundle can construct but its code never calls, by function, with the reason:
 * the infra test finds calls per source file, and these files also hold methods other programs use.
 * Every other action found in a bundle must be granted (the test fails on an action the code needs
 * and the role lacks, which would otherwise surface as AccessDenied in production).
 */
export const BUNDLED_NOT_CALLED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  score: {
    "dynamodb:Query": "the config store's version listing (vigil rules list), not the loader",
    "dynamodb:Scan": "the quarantine store's listing (vigil quarantine list), not the put score makes",
  },
  alert: {},
  archive: {
    "s3:GetObject": "the object store's read (vigil backtest reads the archive), bundled with its put",
    "s3:ListBucket": "the object store's listing (vigil backtest lists a period), bundled with its put",
  },
  audit: {
    "dynamodb:Scan": "the audit quarantine's listing (vigil audit quarantine)",
    "dynamodb:UpdateItem": "the audit quarantine's markReplayed (vigil audit reindex)",
  },
  configSeed: {
    "dynamodb:Query": "the config store's version listing, not the seeding",
    "dynamodb:UpdateItem": "no seeding path updates an item; the store's other writers do",
    "es:ESHttpPut": "a shared helper file bundled with the store; the seed never calls OpenSearch",
  },
  auditSetup: {},
  backtestWorker: {
    "dynamodb:GetItem":
      "the decision store's get (vigil decision), bundled with the getMany the worker calls",
    "dynamodb:PutItem":
      "the put-if-absent helper the decision store's file imports (score's conditional put)",
    "s3:PutObject": "the object store's put (the archive function), bundled with its get",
    "s3:ListBucket": "the object store's listing (vigil backtest lists a period), bundled with its get",
  },
};

/**
 * Actions granted for what Lambda and AWS services do on a function's behalf, with the reason. The
 * KMS actions are always conditioned on `kms:ViaService` of the service named.
 */
export const ON_BEHALF_ACTIONS = {
  "kinesis:DescribeStream":
    "the event source mapping reads the source stream (Lambda's documented permissions)",
  "kinesis:DescribeStreamSummary": "the event source mapping reads the source stream",
  "kinesis:GetRecords": "the event source mapping reads the source stream",
  "kinesis:GetShardIterator": "the event source mapping reads the source stream",
  "kinesis:ListShards": "the event source mapping reads the source stream",
  "sqs:SendMessage": "the event source mapping sends a failure record to the function's failure queue",
  "kms:Decrypt":
    "through Kinesis (reading an encrypted stream), DynamoDB (the table key of an encrypted table), SQS and SNS (sending to an encrypted queue or topic) and Secrets Manager (the secret)",
  "kms:GenerateDataKey":
    "through Kinesis (putting records on an encrypted stream), SQS and SNS (sending to an encrypted queue or topic)",
  "logs:CreateLogStream": "Lambda writes the function's logs to its own log group",
  "logs:PutLogEvents": "Lambda writes the function's logs to its own log group",
  "xray:PutTraceSegments": "active tracing (no resource-level permissions exist)",
  "xray:PutTelemetryRecords": "active tracing (no resource-level permissions exist)",
  "ec2:CreateNetworkInterface": "functions in the VPC: Lambda attaches the function to its subnets",
  "ec2:DescribeNetworkInterfaces": "functions in the VPC: Lambda attaches the function to its subnets",
  "ec2:DeleteNetworkInterface": "functions in the VPC: Lambda detaches the function",
  "ec2:AssignPrivateIpAddresses": "functions in the VPC: Lambda manages the interface's addresses",
  "ec2:UnassignPrivateIpAddresses": "functions in the VPC: Lambda manages the interface's addresses",
} as const;

/** An action granted on a function's behalf. */
export type OnBehalfAction = keyof typeof ON_BEHALF_ACTIONS;

/** What the event source mapping needs on the source stream (Lambda documents these five). */
export const EVENT_SOURCE_READ_ACTIONS: readonly OnBehalfAction[] = [
  "kinesis:DescribeStream",
  "kinesis:DescribeStreamSummary",
  "kinesis:GetRecords",
  "kinesis:GetShardIterator",
  "kinesis:ListShards",
];

/** ENI management for a function attached to a VPC (the actions of AWSLambdaVPCAccessExecutionRole). */
export const VPC_ACCESS_ACTIONS: readonly OnBehalfAction[] = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
];
