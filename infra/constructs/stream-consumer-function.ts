import { Duration } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IStream } from "aws-cdk-lib/aws-kinesis";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { EventSourceMapping, type IEventSourceDlq, StartingPosition } from "aws-cdk-lib/aws-lambda";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { StreamConsumerAlarms } from "#infra/constructs/stream-consumer-alarms";
import { VigilFunction, type VigilFunctionProps, type VigilLogLevel } from "#infra/constructs/vigil-function";
import { type CodePermissions, EVENT_SOURCE_READ_ACTIONS } from "#infra/function-permissions";
import { grantActions, grantKeyViaService } from "#infra/grants";
import { entriesOf } from "#infra/records";
import type { ConsumerSettings } from "#infra/settings";
import type { StreamConsumerDefinition } from "#infra/stream-consumers";
import { STREAMS, type StreamKey, TABLES, type TableKey } from "#shared/resources";

/** Properties of {@link StreamConsumerFunction}. */
export interface StreamConsumerFunctionProps {
  /** The function's definition; its `eventSource` says which stream feeds it and how. */
  readonly definition: StreamConsumerDefinition;
  /** What the function's code calls on tables and streams (`infra/function-permissions.ts`). */
  readonly permissions: CodePermissions;
  /** Memory, batch size and maximum record age for this deployment. */
  readonly tuning: ConsumerSettings;
  /** Every stream of the stack, with its key; the definition's source and `publishes` are looked up here. */
  readonly streams: Readonly<Record<StreamKey, { readonly stream: IStream; readonly key: IKey }>>;
  /** Every table of the stack, with its key; only the definition's `tables` are wired. */
  readonly tables: Readonly<Record<TableKey, { readonly table: ITable; readonly key: IKey }>>;
  /** Where Lambda sends a record of every batch it gives up on, and the queue's key. */
  readonly failureQueue: { readonly queue: IQueue; readonly key: IKey };
  /**
   * Extra environment variables, e.g. settings that are not resource names.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default - the VigilFunction default (one month) */
  readonly logRetention?: RetentionDays;
  /** @default - the VigilFunction default ("INFO") */
  readonly logLevel?: VigilLogLevel;
  /** @default - the VigilFunction default */
  readonly metricsNamespace?: string;
  /** @default - CloudWatch Logs' own encryption */
  readonly logEncryptionKey?: IKey;
  /** @default - not in a VPC */
  readonly network?: VigilFunctionProps["network"];
  /**
   * Iterator age above which the lag alarm fires.
   * @default - the StreamConsumerAlarms default (one minute)
   */
  readonly iteratorAgeAlarmThreshold?: Duration;
}

/** The on-failure destination of a mapping, without CDK's SqsDlq grant (which adds queue reads and KMS wildcards). */
function failureDestination(queue: IQueue): IEventSourceDlq {
  return { bind: () => ({ destination: queue.queueArn }) };
}

/**
 * A Vigil function fed by a Kinesis event source mapping, wired from its `FunctionDefinition` and its
 * code permissions:
 *
 * - every table of the definition under the table's `envVar`, with exactly the DynamoDB actions the
 *   code calls on it, and `kms:Decrypt` on the table's key through DynamoDB;
 * - every stream the definition `publishes` to under its `envVar`, with the put action the code uses
 *   and `kms:GenerateDataKey` on its key through Kinesis;
 * - the source stream under its `envVar`, with the five read actions the mapping needs and
 *   `kms:Decrypt` on its key through Kinesis;
 * - the mapping with the deployment's batch size and maximum record age and the definition's batching
 *   window, bisect-on-error, partial batch responses, retries and starting position, sending failure
 *   records to `failureQueue` (`sqs:SendMessage`, and the queue key through SQS);
 * - lag, error, throttle and failed-batch alarms.
 */
export class StreamConsumerFunction extends Construct {
  /** The house function (function, role, log group). */
  readonly lambda: VigilFunction;
  /** The Kinesis event source mapping. */
  readonly eventSourceMapping: EventSourceMapping;
  /** The consumer's alarms. */
  readonly alarms: StreamConsumerAlarms;

  constructor(scope: Construct, id: string, props: StreamConsumerFunctionProps) {
    super(scope, id);
    const { definition, permissions, tuning } = props;
    const source = definition.eventSource;
    const sourceStream = props.streams[source.stream];

    const environment: Record<string, string> = {
      ...props.environment,
      [STREAMS[source.stream].envVar]: sourceStream.stream.streamName,
    };
    for (const [key] of entriesOf(definition.tables)) {
      environment[TABLES[key].envVar] = props.tables[key].table.tableName;
    }
    const publishes: readonly StreamKey[] = definition.publishes ?? [];
    for (const key of publishes) environment[STREAMS[key].envVar] = props.streams[key].stream.streamName;

    this.lambda = new VigilFunction(this, "Function", {
      definition,
      environment,
      memoryMiB: tuning.memoryMiB,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      metricsNamespace: props.metricsNamespace,
      logEncryptionKey: props.logEncryptionKey,
      network: props.network,
    });
    const { role } = this.lambda;

    const decryptKeys = new Set<IKey>();
    for (const [key, actions] of entriesOf(permissions.tables ?? {})) {
      const { table, key: tableKey } = props.tables[key];
      grantActions(role, actions, [table.tableArn]);
      decryptKeys.add(tableKey);
    }
    for (const key of decryptKeys) grantKeyViaService(role, key, "dynamodb", ["kms:Decrypt"]);
    for (const [key, actions] of entriesOf(permissions.streams ?? {})) {
      const { stream, key: streamKey } = props.streams[key];
      grantActions(role, actions, [stream.streamArn]);
      grantKeyViaService(role, streamKey, "kinesis", ["kms:GenerateDataKey"]);
    }
    grantActions(role, EVENT_SOURCE_READ_ACTIONS, [sourceStream.stream.streamArn]);
    grantKeyViaService(role, sourceStream.key, "kinesis", ["kms:Decrypt"]);
    grantActions(role, ["sqs:SendMessage"], [props.failureQueue.queue.queueArn]);
    grantKeyViaService(role, props.failureQueue.key, "sqs", ["kms:GenerateDataKey", "kms:Decrypt"]);

    this.eventSourceMapping = new EventSourceMapping(this, "EventSource", {
      target: this.lambda.fn,
      eventSourceArn: sourceStream.stream.streamArn,
      startingPosition: StartingPosition[source.startingPosition],
      batchSize: tuning.batchSize,
      maxBatchingWindow: Duration.seconds(source.maxBatchingWindowSeconds),
      bisectBatchOnError: source.bisectBatchOnError,
      reportBatchItemFailures: source.reportBatchItemFailures,
      retryAttempts: source.maxRetryAttempts,
      maxRecordAge: Duration.seconds(tuning.maxRecordAgeSeconds),
      onFailure: failureDestination(props.failureQueue.queue),
    });
    // The role's policy must be in place before Lambda validates the mapping against the stream.
    this.eventSourceMapping.node.addDependency(role);

    this.alarms = new StreamConsumerAlarms(this, "Alarms", {
      fn: this.lambda.fn,
      failureQueue: props.failureQueue.queue,
      iteratorAgeThreshold: props.iteratorAgeAlarmThreshold,
    });
  }
}
