import { Duration, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { Grant, IGrantable } from "aws-cdk-lib/aws-iam";
import type { IStream } from "aws-cdk-lib/aws-kinesis";
import { StartingPosition } from "aws-cdk-lib/aws-lambda";
import { KinesisEventSource, SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { StreamConsumerAlarms } from "#infra/constructs/stream-consumer-alarms";
import { VigilFunction, type VigilLogLevel } from "#infra/constructs/vigil-function";
import { entriesOf } from "#infra/records";
import type { StreamConsumerDefinition } from "#infra/stream-consumers";
import { type FunctionDefinition, STREAMS, type StreamKey, TABLES, type TableKey } from "#shared/resources";

type TableAccess = FunctionDefinition["tables"][TableKey];

/** The narrowest DynamoDB grant for each access level a definition can ask for. */
const GRANT_TABLE_ACCESS = {
  read: (table, grantee) => table.grantReadData(grantee),
  write: (table, grantee) => table.grantWriteData(grantee),
  readWrite: (table, grantee) => table.grantReadWriteData(grantee),
} as const satisfies Record<NonNullable<TableAccess>, (table: ITable, grantee: IGrantable) => Grant>;

/** Properties of {@link StreamConsumerFunction}. */
export interface StreamConsumerFunctionProps {
  /** The function and its event source mapping tuning, from `FUNCTIONS`. */
  readonly definition: StreamConsumerDefinition;
  /** All streams by key; the function reads only the one its event source names. */
  readonly streams: Readonly<Record<StreamKey, IStream>>;
  /** All tables by key; the function gets access to those in `definition.tables` only. */
  readonly tables: Readonly<Record<TableKey, ITable>>;
  /** Where Lambda sends a record of every batch it gives up on. */
  readonly failureQueue: IQueue;
  /**
   * Extra environment variables, e.g. settings that are not resource names.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Retention of the function's log group.
   * @default - the VigilFunction default (one month)
   */
  readonly logRetention?: RetentionDays;
  /**
   * Lowest level the function logs.
   * @default - the VigilFunction default ("INFO")
   */
  readonly logLevel?: VigilLogLevel;
  /**
   * Iterator age above which the lag alarm fires.
   * @default - the StreamConsumerAlarms default (one minute)
   */
  readonly iteratorAgeAlarmThreshold?: Duration;
}

/**
 * A Vigil function fed by a Kinesis event source mapping, wired entirely from its `FunctionDefinition`:
 *
 * - every table the definition lists, with the narrowest grant for its access level
 *   (`grantReadData`, `grantWriteData` or `grantReadWriteData`) and its name under the table's `envVar`;
 * - read access to the source stream, its name under the stream's `envVar`;
 * - write access (`PutRecord(s)`, `ListShards`, encrypt with the stream's key) to every stream the definition
 *   `publishes` to, its name under the stream's `envVar`;
 * - the mapping with the definition's batch size, batching window, bisect-on-error, partial batch
 *   responses, retry attempts, maximum record age and starting position, and `failureQueue` as its
 *   on-failure destination;
 * - lag, error and failed-batch alarms.
 *
 * Adding another stream consumer is one definition in `shared/resources.ts` and one `new` of this.
 */
export class StreamConsumerFunction extends Construct {
  /** The house function (function, role, log group). */
  readonly lambda: VigilFunction;
  /** The Kinesis event source attached to the function. */
  readonly eventSource: KinesisEventSource;
  /** The consumer's alarms. */
  readonly alarms: StreamConsumerAlarms;

  constructor(scope: Construct, id: string, props: StreamConsumerFunctionProps) {
    super(scope, id);
    const { definition } = props;
    const source = definition.eventSource;
    const stream = props.streams[source.stream];

    const environment: Record<string, string> = {
      ...props.environment,
      [STREAMS[source.stream].envVar]: stream.streamName,
    };
    for (const [key] of entriesOf(definition.tables)) {
      environment[TABLES[key].envVar] = props.tables[key].tableName;
    }
    const publishes: readonly StreamKey[] = definition.publishes ?? [];
    for (const key of publishes) environment[STREAMS[key].envVar] = props.streams[key].streamName;

    this.lambda = new VigilFunction(this, "Function", {
      definition,
      environment,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
    });
    const { fn } = this.lambda;

    for (const [key, access] of entriesOf(definition.tables)) {
      GRANT_TABLE_ACCESS[access](props.tables[key], fn);
    }
    // grantWrite: kinesis:PutRecord, PutRecords and ListShards on that stream, and encrypt on its key.
    for (const key of publishes) props.streams[key].grantWrite(fn);

    // KinesisEventSource grants the role read access to the stream (and decrypt on its key) and send
    // access to the failure queue (and its key).
    this.eventSource = new KinesisEventSource(stream, {
      startingPosition: StartingPosition[source.startingPosition],
      batchSize: source.batchSize,
      maxBatchingWindow: Duration.seconds(source.maxBatchingWindowSeconds),
      bisectBatchOnError: source.bisectBatchOnError,
      reportBatchItemFailures: source.reportBatchItemFailures,
      retryAttempts: source.maxRetryAttempts,
      maxRecordAge: Duration.seconds(source.maxRecordAgeSeconds),
      onFailure: new SqsDlq(props.failureQueue),
    });
    fn.addEventSource(this.eventSource);

    // The wildcards come from CDK's KMS grants for CMK-encrypted tables and queues and stay scoped to
    // the keys' ARNs; acknowledged finding by finding so that any other wildcard still fails synth.
    const kmsWildcardReason =
      "CDK's grant for writing CMK-encrypted DynamoDB items and SQS messages (grantReadWriteData, " +
      "grantWriteData, grantSendMessages to the failure queue); the statement is limited to the ARNs of " +
      "the keys of those tables and that queue, and the wildcard only covers variants of the same operation";
    Validations.of(this.lambda.role).acknowledge(
      {
        id: "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        reason: `${kmsWildcardReason} (GenerateDataKeyWithoutPlaintext, GenerateDataKeyPair*).`,
      },
      {
        id: "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        reason: `${kmsWildcardReason} (ReEncryptFrom, ReEncryptTo).`,
      },
    );

    this.alarms = new StreamConsumerAlarms(this, "Alarms", {
      fn,
      failureQueue: props.failureQueue,
      iteratorAgeThreshold: props.iteratorAgeAlarmThreshold,
    });
  }
}
