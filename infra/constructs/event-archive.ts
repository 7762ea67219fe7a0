import { type CfnElement, CfnResource, Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import type { IGrantable } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectOwnership,
  StorageClass,
} from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { grantActions, grantKeyViaService } from "#infra/grants";
import { ARCHIVE_PREFIX } from "#shared/domain/archive/archived-record";

/** Properties of {@link EventArchive}. */
export interface EventArchiveProps {
  /**
   * Customer-managed key the archive bucket is encrypted with (SSE-KMS, with an S3 bucket key). The
   * archive holds the events as received, personal data included: the personal-data key.
   */
  readonly encryptionKey: IKey;
  /** Keep the buckets when the stack goes (prod); otherwise they are emptied and deleted (dev). */
  readonly retain: boolean;
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
}

/**
 * The event archive's storage (docs/backtest.md): every record of the events stream, as received,
 * in S3. The archive function (`FUNCTIONS.archive`, a stream consumer the stack wires like the
 * others) writes one gzip NDJSON object per batch and arrival date under `events/date=YYYY-MM-DD/`,
 * each record with its shard, sequence number and arrival time; {@link grantWrite} gives it
 * `s3:PutObject` under `events/` and nothing else.
 *
 * - `bucket`: SSE-KMS with the personal-data key and an S3 bucket key (one KMS request per bucket
 *   key period, not per object), all public access blocked, TLS-only bucket policy, object
 *   ownership enforced (no ACLs), server access logs to `accessLogs`, a lifecycle (Standard-IA after
 *   30 days, Glacier Instant Retrieval after 90, deleted after 400; incomplete uploads aborted after
 *   a day); retained with the profile's data, otherwise emptied and deleted on `cdk destroy`.
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
  /** The key the archive is encrypted with. */
  readonly encryptionKey: IKey;

  constructor(scope: Construct, id: string, props: EventArchiveProps) {
    super(scope, id);
    const day = (n: number) => Duration.days(n);
    this.encryptionKey = props.encryptionKey;
    const removal = props.retain
      ? { removalPolicy: RemovalPolicy.RETAIN }
      : { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true };

    // Server access logging delivers with the logging service's own credentials, which SSE-KMS with a
    // customer key does not allow: the log bucket uses S3-managed keys. (cdk-nag's S1 does not ask a
    // log destination to log itself.)
    this.accessLogs = new Bucket(this, "AccessLogs", {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: day(props.accessLogRetentionDays ?? 90) }],
      ...removal,
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
      ...removal,
    });
    if (!props.retain) this.dropRedundantProviderDependency();
  }

  /**
   * CDK's auto-delete provider (dev: buckets emptied on destroy) gives its handler a DependsOn on its
   * role next to the GetAtt of the role's ARN, which already orders them (cfn-lint W3005), as
   * VigilFunction does for its own functions.
   */
  private dropRedundantProviderDependency(): void {
    const provider = Stack.of(this).node.tryFindChild("Custom::S3AutoDeleteObjectsCustomResourceProvider");
    const handler = provider?.node.tryFindChild("Handler");
    if (handler instanceof CfnResource) handler.addDeletionOverride("DependsOn");
  }

  /**
   * What the archive function needs: `s3:PutObject` under `events/` of this bucket (no read, list or
   * delete) and the key's data-key generation through S3.
   */
  grantWrite(grantee: IGrantable & Construct): void {
    grantActions(grantee, ["s3:PutObject"], [this.bucket.arnForObjects(`${ARCHIVE_PREFIX}*`)]);
    grantKeyViaService(grantee, this.encryptionKey, "s3", ["kms:GenerateDataKey"]);
    Validations.of(grantee).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.bucketLogicalId()}.Arn>/${ARCHIVE_PREFIX}*]`,
      reason:
        "The archive function writes one object per batch under keys it derives from the records " +
        "(events/date=.../<shard>/<first>-<last>.ndjson.gz), so its s3:PutObject grant names the events/ " +
        "prefix of this one bucket; it holds no read, list or delete permission on it.",
    });
  }

  /** What a backtest reads: list the bucket, get objects under `events/`, decrypt through S3. */
  grantRead(grantee: IGrantable & Construct): void {
    grantActions(grantee, ["s3:ListBucket"], [this.bucket.bucketArn]);
    grantActions(grantee, ["s3:GetObject"], [this.bucket.arnForObjects(`${ARCHIVE_PREFIX}*`)]);
    grantKeyViaService(grantee, this.encryptionKey, "s3", ["kms:Decrypt"]);
    Validations.of(grantee).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.bucketLogicalId()}.Arn>/${ARCHIVE_PREFIX}*]`,
      reason:
        "A backtest reads the archive objects of a period, whose keys it lists first: s3:GetObject on the " +
        "events/ prefix of this one bucket, no write or delete.",
    });
  }

  /** How cdk-nag names the bucket in a finding: its logical id. */
  private bucketLogicalId(): string {
    return Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
  }
}
