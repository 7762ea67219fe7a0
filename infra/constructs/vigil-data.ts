import { RemovalPolicy } from "aws-cdk-lib";
import type { Table } from "aws-cdk-lib/aws-dynamodb";
import type { Stream } from "aws-cdk-lib/aws-kinesis";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { DynamoDbTables } from "#infra/constructs/dynamodb-tables";
import { FailureQueue } from "#infra/constructs/failure-queue";
import { KinesisStreams } from "#infra/constructs/kinesis-streams";
import { VigilKeys } from "#infra/constructs/vigil-keys";
import type { StreamMode, TableBilling } from "#infra/profiles";
import { mapRecord } from "#infra/records";
import type { StreamConsumerKey } from "#infra/stream-consumers";
import { FUNCTIONS, STREAMS, type StreamKey, TABLES, type TableKey } from "#shared/resources";

/** Which key protects a resource: personal data as received, or pseudonymous/operational data. */
export type DataClass = "personal" | "pseudonymous";

/**
 * What each stream and table holds. Personal: raw identifiers (the events, the entity keys of the
 * windowed state, the stored decisions, the quarantined raw records, and the lists of identifiers in
 * the config table). Pseudonymous: only keyed pseudonyms and decision data (the decisions stream and
 * the alert ledger). A new stream or table fails type checking until it is classified here.
 */
export const DATA_CLASSES: {
  readonly streams: Readonly<Record<StreamKey, DataClass>>;
  readonly tables: Readonly<Record<TableKey, DataClass>>;
} = {
  streams: { events: "personal", decisions: "pseudonymous" },
  tables: {
    state: "personal",
    config: "personal",
    decisions: "personal",
    quarantine: "personal",
    alerts: "pseudonymous",
    // Labels name events and entities by their raw identifiers; case resolutions carry free-text notes.
    labels: "personal",
    cases: "personal",
  },
};

/** Properties of {@link VigilData}. */
export interface VigilDataProps {
  /** Keep keys, streams, tables and queues when the stack is deleted. */
  readonly retain: boolean;
  /** DynamoDB deletion protection on every table. */
  readonly tableDeletionProtection: boolean;
  /** DynamoDB point-in-time recovery on every table. */
  readonly pointInTimeRecovery: boolean;
  readonly streams: {
    readonly mode: StreamMode;
    readonly shards: Readonly<Record<StreamKey, number>>;
    readonly retentionHours: number;
  };
  readonly tables: {
    readonly billing: TableBilling;
    readonly readUnits: number;
    readonly writeUnits: number;
  };
  /** The stream consumers that are deployed: each gets a failure queue. */
  readonly consumers: readonly StreamConsumerKey[];
  /**
   * Key administrators.
   * @default - the account
   */
  readonly keyAdminArns?: readonly string[];
}

/**
 * Vigil's stateful layer, kept apart from functions and mappings so that redeploying or replacing
 * compute can never touch data: the keys, the streams of `STREAMS`, the tables of `TABLES`, and a
 * failure queue for every deployed stream consumer. Retained when the stack is deleted, unless the
 * profile says otherwise (dev).
 */
export class VigilData extends Construct {
  /** The stack's keys. */
  readonly keys: VigilKeys;
  /** Streams by `STREAMS` key. */
  readonly streams: Readonly<Record<StreamKey, Stream>>;
  /** Tables by `TABLES` key. */
  readonly tables: Readonly<Record<TableKey, Table>>;
  /** On-failure destination of each deployed stream consumer's event source mapping. */
  readonly failureQueues: Readonly<Partial<Record<StreamConsumerKey, Queue>>>;

  constructor(scope: Construct, id: string, props: VigilDataProps) {
    super(scope, id);
    const removalPolicy = props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.keys = new VigilKeys(this, "Keys", { retain: props.retain, adminArns: props.keyAdminArns });
    this.streams = new KinesisStreams(this, "Streams", {
      definitions: STREAMS,
      encryptionKeys: mapRecord(DATA_CLASSES.streams, (c) => this.keyOf(c)),
      mode: props.streams.mode,
      shards: props.streams.shards,
      retentionHours: props.streams.retentionHours,
      removalPolicy,
    }).streams;
    this.tables = new DynamoDbTables(this, "Tables", {
      definitions: TABLES,
      encryptionKeys: mapRecord(DATA_CLASSES.tables, (c) => this.keyOf(c)),
      capacity: props.tables,
      pointInTimeRecovery: props.pointInTimeRecovery,
      deletionProtection: props.tableDeletionProtection,
      removalPolicy,
    }).tables;

    const failureQueues: Partial<Record<StreamConsumerKey, Queue>> = {};
    for (const key of props.consumers) {
      // A failure record names shard and sequence numbers only, never the records themselves.
      failureQueues[key] = new FailureQueue(this, `${FUNCTIONS[key].id}Failures`, {
        encryptionKey: this.keys.data,
        removalPolicy,
      }).queue;
    }
    this.failureQueues = failureQueues;
  }

  /** The key of a data class. */
  keyOf(dataClass: DataClass): IKey {
    return dataClass === "personal" ? this.keys.personalData : this.keys.data;
  }

  /** The key of a stream. */
  streamKey(stream: StreamKey): IKey {
    return this.keyOf(DATA_CLASSES.streams[stream]);
  }

  /** The key of a table. */
  tableKey(table: TableKey): IKey {
    return this.keyOf(DATA_CLASSES.tables[table]);
  }

  /** The failure queue of a deployed consumer; throws for one that is not deployed. */
  failureQueue(consumer: StreamConsumerKey): Queue {
    const queue = this.failureQueues[consumer];
    if (!queue) throw new Error(`the ${consumer} consumer is not deployed, so it has no failure queue`);
    return queue;
  }
}
