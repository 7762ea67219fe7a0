import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
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
import { ENV, FUNCTIONS, type StreamKey, type TableKey } from "#shared/resources";

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
