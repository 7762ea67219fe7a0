import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/** Properties of {@link FailureQueue}. */
export interface FailureQueueProps {
  /** Customer-managed key the queue is encrypted with. */
  readonly encryptionKey: IKey;
  /**
   * How long SQS keeps a failure record. A record only points at the failed Kinesis batch (shard and
   * sequence numbers); the records themselves stay readable for the stream's retention only.
   * @default Duration.days(14) (the SQS maximum)
   */
  readonly retentionPeriod?: Duration;
  /**
   * What CloudFormation does with the queue when it stops managing it.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The on-failure destination of one Kinesis event source mapping: Lambda sends it a record for every
 * batch it gives up on (retries exhausted or record too old), so no skipped event goes unnoticed.
 * KMS-encrypted with a customer-managed key; a queue policy denies any request not made over TLS.
 */
export class FailureQueue extends Construct {
  /** The queue. */
  readonly queue: Queue;

  constructor(scope: Construct, id: string, props: FailureQueueProps) {
    super(scope, id);
    this.queue = new Queue(this, "Queue", {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: props.retentionPeriod ?? Duration.days(14),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(this.queue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is itself the dead-letter (on-failure) destination of a Kinesis event source mapping; " +
        "a further DLQ behind it would only move the same failure records again.",
    });
  }
}
