import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import {
  DefinitionBody,
  DistributedMap,
  ItemBatcher,
  JsonPath,
  LogLevel,
  ResultWriterV2,
  S3JsonItemReader,
  StateMachine,
  StateMachineType,
} from "aws-cdk-lib/aws-stepfunctions";
import { LambdaInvoke } from "aws-cdk-lib/aws-stepfunctions-tasks";
import { LogGroup, RetentionDays as LogRetention } from "aws-cdk-lib/aws-logs";
import { VigilFunction } from "#infra/constructs/vigil-function";
import { BACKTEST_RUNS_PREFIX } from "#shared/domain/backtest/distributed";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IStream } from "aws-cdk-lib/aws-kinesis";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectOwnership,
  StorageClass,
} from "aws-cdk-lib/aws-s3";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { StreamConsumerFunction } from "#infra/constructs/stream-consumer-function";
import type { VigilLogLevel } from "#infra/constructs/vigil-function";
import { ARCHIVE_PREFIX } from "#shared/domain/archive/archived-record";
import { ENV, FUNCTIONS, type FunctionDefinition, type StreamKey, TABLES, type TableKey } from "#shared/resources";

/** Properties of {@link EventArchive}. */
export interface EventArchiveProps {
  /** Customer-managed key the archive bucket is encrypted with (SSE-KMS, with an S3 bucket key). */
  readonly encryptionKey: IKey;
  /** All streams by key; the archive function reads the events stream. */
  readonly streams: Readonly<Record<StreamKey, IStream>>;
  /** All tables by key (the archive function uses none). */
  readonly tables: Readonly<Record<TableKey, ITable>>;
  /** On-failure destination of the archive function's mapping. */
  readonly failureQueue: IQueue;
  /**
   * Days an archived object is kept; long enough to backtest a season and to answer disputes.
   * @default 400
   */
  readonly retentionDays?: number;
  /**
   * Days after which objects move to S3 Standard-IA (read rarely, by backtests).
   * @default 30
   */
  readonly infrequentAccessAfterDays?: number;
  /**
   * Days after which objects move to S3 Glacier Instant Retrieval (still readable in milliseconds).
   * @default 90
   */
  readonly glacierAfterDays?: number;
  /**
   * Days the bucket's access logs are kept.
   * @default 90
   */
  readonly accessLogRetentionDays?: number;
  /** @default - the VigilFunction default (one month) */
  readonly logRetention?: RetentionDays;
  /** @default - the VigilFunction default ("INFO") */
  readonly logLevel?: VigilLogLevel;
}

/**
 * The event archive (docs/backtest.md): every record of the events stream, as received, in S3.
 *
 * - `bucket`: SSE-KMS with the stack's key and an S3 bucket key (one KMS request per bucket key
 *   period, not per object), all public access blocked, TLS-only bucket policy, object ownership
 *   enforced (no ACLs), server access logs to `accessLogs`, a lifecycle (Standard-IA after 30 days,
 *   Glacier Instant Retrieval after 90, deleted after 400; incomplete uploads aborted after a day),
 *   retained when the stack goes.
 * - `consumer`: the archive function (`FUNCTIONS.archive`) on its own Kinesis event source mapping
 *   of the events stream: one gzip NDJSON object per batch and arrival date under
 *   `events/date=YYYY-MM-DD/`, each record with its shard, sequence number and arrival time, allowed
 *   to put objects under `events/` only.
 *
 * A dedicated consumer rather than Kinesis Data Firehose: Firehose writes only the records' data,
 * so the shard, sequence number and arrival time a backtest decodes with would need a
 * transformation Lambda anyway; this path is one function, runs identically on the local stack, and
 * its object keys make a retried batch overwrite itself.
 */
export class EventArchive extends Construct {
  /** The archive bucket. */
  readonly bucket: Bucket;
  /** The bucket receiving the archive bucket's server access logs. */
  readonly accessLogs: Bucket;
  /** The archive function and its mapping. */
  readonly consumer: StreamConsumerFunction;

  constructor(scope: Construct, id: string, props: EventArchiveProps) {
    super(scope, id);
    const day = (n: number) => Duration.days(n);

    // Server access logging delivers with the logging service's own credentials, which SSE-KMS with a
    // customer key does not allow: the log bucket uses S3-managed keys.
    this.accessLogs = new Bucket(this, "AccessLogs", {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: day(props.accessLogRetentionDays ?? 90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: "AwsSolutions-S1",
      reason:
        "This bucket receives the archive bucket's server access logs; logging the log bucket into itself " +
        "or into a third bucket would only log the log delivery. It is private, TLS-only, S3-encrypted and " +
        "expires its objects.",
    });

    this.bucket = new Bucket(this, "Bucket", {
      encryption: BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: "archive/",
      lifecycleRules: [
        {
          id: "archive-tiers-and-expiry",
          transitions: [
            {
              storageClass: StorageClass.INFREQUENT_ACCESS,
              transitionAfter: day(props.infrequentAccessAfterDays ?? 30),
            },
            {
              storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: day(props.glacierAfterDays ?? 90),
            },
          ],
          expiration: day(props.retentionDays ?? 400),
          abortIncompleteMultipartUploadAfter: day(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.consumer = new StreamConsumerFunction(this, "Consumer", {
      definition: FUNCTIONS.archive,
      streams: props.streams,
      tables: props.tables,
      failureQueue: props.failureQueue,
      environment: { [ENV.archiveBucket]: this.bucket.bucketName },
      logRetention: props.logRetention,
      logLevel: props.logLevel,
    });
    const { fn } = this.consumer.lambda;
    // Put only, under the events prefix only: the function can neither read nor delete the archive.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["s3:PutObject"],
        resources: [this.bucket.arnForObjects(`${ARCHIVE_PREFIX}*`)],
      }),
    );
    props.encryptionKey.grantEncrypt(fn);
    Validations.of(this.consumer.lambda.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.bucketLogicalPath()}.Arn>/${ARCHIVE_PREFIX}*]`,
      reason:
        "The archive function writes one object per batch under keys it derives from the records " +
        "(events/date=.../<shard>/<first>-<last>.ndjson.gz), so its s3:PutObject grant names the events/ " +
        "prefix of this one bucket; it holds no read, list or delete permission on it.",
    });
  }

  /** How cdk-nag names the bucket in a finding: its logical id. */
  private bucketLogicalPath(): string {
    return Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
  }
}

/** Properties of {@link DistributedBacktest}. */
export interface DistributedBacktestProps {
  /** The archive (its bucket holds the archive objects and the runs' inputs and results). */
  readonly archive: EventArchive;
  /** The decisions table the stored vectors are read from. */
  readonly decisionsTable: ITable;
  /**
   * Archive objects per Lambda invocation (the archive writes up to 1,000 records per object).
   * @default 20
   */
  readonly objectsPerBatch?: number;
  /**
   * Lambda invocations at once.
   * @default 100
   */
  readonly maxConcurrency?: number;
  /** @default - the VigilFunction default (one month) */
  readonly logRetention?: RetentionDays;
  /** @default - the VigilFunction default ("INFO") */
  readonly logLevel?: VigilLogLevel;
}

/**
 * The backtest worker: the stored-vector backtest of a batch of archive objects. It has no event
 * source (a Step Functions map invokes it) and no local counterpart, so it is defined here rather
 * than in `FUNCTIONS`.
 */
export const BACKTEST_WORKER: FunctionDefinition = {
  id: "BacktestWorker",
  entry: "functions/backtest/handler.ts",
  handler: "handler",
  memoryMiB: 1769,
  timeoutSeconds: 900,
  tables: { decisions: "read" },
};

/**
 * A stored-vector backtest past one machine (docs/backtest.md): a Standard state machine whose
 * distributed map reads the run's item list (`backtests/<runId>/items.json`, the period's archive
 * objects, written by `vigil backtest --distributed`), hands batches of objects to the worker
 * function (each re-decides its records from the stored vectors and returns its tally) with up to
 * `maxConcurrency` invocations at once, and writes every tally under `backtests/results/`, where
 * `vigil backtest --collect` merges them. Start it with `{"runId": "<id>"}` as input and the run id
 * as the execution name. Logs (all events, with execution data: tallies hold counts and event ids
 * only) and X-Ray tracing on.
 */
export class DistributedBacktest extends Construct {
  /** The worker function. */
  readonly worker: VigilFunction;
  /** The state machine. */
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: DistributedBacktestProps) {
    super(scope, id);
    const { bucket } = props.archive;
    this.worker = new VigilFunction(this, "Worker", {
      definition: BACKTEST_WORKER,
      environment: {
        [ENV.archiveBucket]: bucket.bucketName,
        [TABLES.decisions.envVar]: props.decisionsTable.tableName,
      },
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      description: "Vigil backtest worker: re-decides a batch of archive objects from the stored vectors",
    });
    const fn = this.worker.fn;
    props.decisionsTable.grantReadData(fn);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["s3:GetObject"],
        resources: [bucket.arnForObjects(`${ARCHIVE_PREFIX}*`), bucket.arnForObjects(`${BACKTEST_RUNS_PREFIX}*`)],
      }),
    );
    bucket.encryptionKey?.grantDecrypt(fn);

    const slice = new LambdaInvoke(this, "Slice", {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    const map = new DistributedMap(this, "Slices", {
      itemReader: new S3JsonItemReader({
        bucket,
        key: JsonPath.format(`${BACKTEST_RUNS_PREFIX}{}/items.json`, JsonPath.stringAt("$.runId")),
      }),
      itemBatcher: new ItemBatcher({
        maxItemsPerBatch: props.objectsPerBatch ?? 20,
        batchInput: { runId: JsonPath.stringAt("$.runId") },
      }),
      resultWriterV2: new ResultWriterV2({ bucket, prefix: `${BACKTEST_RUNS_PREFIX}results` }),
      maxConcurrency: props.maxConcurrency ?? 100,
      toleratedFailurePercentage: 0,
    });
    map.itemProcessor(slice);

    const logs = new LogGroup(this, "Logs", {
      retention: LogRetention.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, "StateMachine", {
      definitionBody: DefinitionBody.fromChainable(map),
      stateMachineType: StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: true },
      timeout: Duration.hours(6),
    });
    bucket.grantRead(this.stateMachine, `${BACKTEST_RUNS_PREFIX}*`);
    bucket.grantPut(this.stateMachine, `${BACKTEST_RUNS_PREFIX}results/*`);
  }
}
