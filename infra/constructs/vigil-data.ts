import { RemovalPolicy } from "aws-cdk-lib";
import type { Table } from "aws-cdk-lib/aws-dynamodb";
import type { Stream } from "aws-cdk-lib/aws-kinesis";
import { Key } from "aws-cdk-lib/aws-kms";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { DynamoDbTables } from "#infra/constructs/dynamodb-tables";
import { FailureQueue } from "#infra/constructs/failure-queue";
import { KinesisStreams } from "#infra/constructs/kinesis-streams";
import { type StreamConsumerKey, streamConsumerEntries } from "#infra/stream-consumers";
import { STREAMS, type StreamKey, TABLES, type TableKey } from "#shared/resources";

/** Properties of {@link VigilData}. */
export interface VigilDataProps {
  /**
   * Whether DynamoDB refuses to delete the tables until this is turned off.
   * @default true
   */
  readonly tableDeletionProtection?: boolean;
}

/**
 * Vigil's stateful layer, kept apart from functions and mappings so that redeploying or replacing
 * compute can never touch data: one customer-managed KMS key (with yearly rotation), the streams of
 * `STREAMS`, the tables of `TABLES`, and a failure queue for every function of `FUNCTIONS` that has an
 * event source. Everything here is retained when the stack is deleted.
 */
export class VigilData extends Construct {
  /** Key encrypting every stream, table and queue of the stack. */
  readonly key: Key;
  /** Streams by `STREAMS` key. */
  readonly streams: Readonly<Record<StreamKey, Stream>>;
  /** Tables by `TABLES` key. */
  readonly tables: Readonly<Record<TableKey, Table>>;
  /** On-failure destination of each stream consumer's event source mapping, by `FUNCTIONS` key. */
  readonly failureQueues: Readonly<Record<StreamConsumerKey, Queue>>;

  constructor(scope: Construct, id: string, props: VigilDataProps = {}) {
    super(scope, id);
    // One key for all data: every grant is per resource in IAM, and each extra key costs a monthly fee
    // and one more policy to keep straight without separating anything a principal could not reach.
    this.key = new Key(this, "DataKey", {
      description: "Vigil: encrypts event streams, tables and failure queues",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.streams = new KinesisStreams(this, "Streams", {
      definitions: STREAMS,
      encryptionKey: this.key,
    }).streams;
    this.tables = new DynamoDbTables(this, "Tables", {
      definitions: TABLES,
      encryptionKey: this.key,
      deletionProtection: props.tableDeletionProtection,
    }).tables;

    const failureQueues: Partial<Record<StreamConsumerKey, Queue>> = {};
    for (const [key, definition] of streamConsumerEntries()) {
      failureQueues[key] = new FailureQueue(this, `${definition.id}Failures`, {
        encryptionKey: this.key,
      }).queue;
    }
    // streamConsumerEntries() yields every StreamConsumerKey, so the loop filled the whole record.
    this.failureQueues = failureQueues as Record<StreamConsumerKey, Queue>;
  }
}
