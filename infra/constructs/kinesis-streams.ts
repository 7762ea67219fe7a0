import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import { Stream, StreamEncryption, StreamMode } from "aws-cdk-lib/aws-kinesis";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { mapRecord } from "#infra/records";
import type { StreamDefinition } from "#shared/resources";

/** Properties of {@link KinesisStreams}. */
export interface KinesisStreamsProps<K extends string> {
  /** One stream per entry, keyed like `STREAMS`; shard count and retention come from each definition. */
  readonly definitions: Readonly<Record<K, StreamDefinition>>;
  /** Customer-managed key every stream is encrypted with. */
  readonly encryptionKey: IKey;
  /**
   * What CloudFormation does with a stream it stops managing. Records are business events that may
   * still need processing, so the default keeps them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Kinesis data streams built from resource definitions: provisioned mode with the defined shard
 * count and retention, server-side encryption with a customer-managed KMS key. Names are generated
 * by CloudFormation and reach functions through each definition's `envVar`.
 */
export class KinesisStreams<K extends string> extends Construct {
  /** The streams, keyed like the definitions. */
  readonly streams: Readonly<Record<K, Stream>>;

  constructor(scope: Construct, id: string, props: KinesisStreamsProps<K>) {
    super(scope, id);
    this.streams = mapRecord(props.definitions, (definition) => {
      const stream = new Stream(this, definition.id, {
        streamMode: StreamMode.PROVISIONED,
        shardCount: definition.shardCount,
        retentionPeriod: Duration.hours(definition.retentionHours),
        encryption: StreamEncryption.KMS,
        encryptionKey: props.encryptionKey,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      Validations.of(stream).acknowledge({
        id: "AwsSolutions-KDS3",
        reason:
          "A customer-managed key is deliberate: events carry personal data (phone, email, IP, device, card " +
          "fingerprint), and Vigil's own key policy decides who may decrypt them, with CloudTrail-audited use " +
          "and revocation independent of the account-wide aws/kinesis key. Kinesis caches data keys, so KMS " +
          "requests grow with producers and consumers, not with records.",
      });
      return stream;
    });
  }
}
