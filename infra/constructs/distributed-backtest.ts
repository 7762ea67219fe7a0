import { ArnFormat, CfnResource, Duration, Lazy, type RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { type IGrantable, Policy, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import type { EventArchive } from "#infra/constructs/event-archive";
import { VigilFunction, type VigilLogLevel } from "#infra/constructs/vigil-function";
import { BACKTEST_WORKER_PERMISSIONS } from "#infra/function-permissions";
import { grantActions, grantKeyViaService } from "#infra/grants";
import { acknowledgeWildcardResources } from "#infra/nag";
import { ARCHIVE_PREFIX } from "#shared/domain/archive/archived-record";
import { BACKTEST_RUNS_PREFIX } from "#shared/domain/backtest/distributed";
import { ENV, type FunctionDefinition, TABLES } from "#shared/resources";

/**
 * The backtest worker: the stored-vector backtest of a batch of archive objects. It has no event
 * source (the state machine's distributed map invokes it) and no local counterpart, so it is
 * defined here rather than in `FUNCTIONS`. 1,769 MiB is one full vCPU: the work is CPU-bound
 * re-deciding, between reads of the archive and the decisions table.
 */
export const BACKTEST_WORKER_FUNCTION: FunctionDefinition = {
  id: "BacktestWorker",
  entry: "functions/backtest/handler.ts",
  handler: "handler",
  memoryMiB: 1769,
  timeoutSeconds: 900,
  tables: { decisions: "read" },
};

/** What the state machine does to the bucket's `backtests/` objects (item reader, result writer). */
export const BACKTEST_MAP_S3_ACTIONS = [
  "s3:GetObject",
  "s3:PutObject",
  "s3:ListMultipartUploadParts",
  "s3:AbortMultipartUpload",
] as const;

/** Properties of {@link DistributedBacktest}. */
export interface DistributedBacktestProps {
  /** The archive (its bucket holds the archive objects and the runs' inputs and results). */
  readonly archive: EventArchive;
  /** The decisions table the stored vectors are read from, and its key. */
  readonly decisionsTable: ITable;
  readonly decisionsTableKey: IKey;
  /** Key of the log groups (the operations key). */
  readonly logEncryptionKey: IKey;
  /** What becomes of the state machine's log group when the stack goes (the profile's data policy). */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Archive objects per Lambda invocation (the archive writes one object per batch of up to a few
   * hundred records).
   * @default 20
   */
  readonly objectsPerBatch?: number;
  /**
   * Lambda invocations at once (the account's concurrency is shared with the stream consumers).
   * @default 100
   */
  readonly maxConcurrency?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default "INFO" */
  readonly logLevel?: VigilLogLevel;
  /** @default - the VigilFunction default */
  readonly metricsNamespace?: string;
}

/**
 * A stored-vector backtest past one machine (docs/backtest.md, "Past one machine"): a Standard
 * state machine whose distributed map reads the run's item list (`backtests/<runId>/items.json`,
 * the period's archive objects, written by `vigil backtest --distributed`), hands batches of
 * objects to the worker function (each re-decides its records from the stored vectors and returns
 * its slice's tally) with up to `maxConcurrency` invocations at once in Express child executions,
 * and writes every tally under `backtests/<runId>/results/`, where `vigil backtest --collect`
 * merges them. Start it with `{"runId": "<id>"}` as input and the run id as the execution name.
 *
 * Grants are exact (`infra/grants.ts`): the worker reads `events/` and `backtests/` objects and
 * BatchGetItem on the decisions table, each key through its service only; the state machine
 * invokes the worker, reads and writes `backtests/` objects, and starts, describes and stops its
 * own child executions (the distributed map's documented needs). Logging (all events, execution
 * data: tallies hold counts and event ids) to a log group encrypted with the operations key, and
 * X-Ray tracing.
 */
export class DistributedBacktest extends Construct {
  /** The worker function. */
  readonly worker: VigilFunction;
  /** The state machine. */
  readonly stateMachine: StateMachine;
  /** The state machine's log group. */
  readonly logGroup: LogGroup;
  private readonly executionArns: readonly string[];

  constructor(scope: Construct, id: string, props: DistributedBacktestProps) {
    super(scope, id);
    const { bucket, encryptionKey } = props.archive;
    const stack = Stack.of(this);

    this.worker = new VigilFunction(this, "Worker", {
      definition: BACKTEST_WORKER_FUNCTION,
      environment: {
        [ENV.archiveBucket]: bucket.bucketName,
        [TABLES.decisions.envVar]: props.decisionsTable.tableName,
      },
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      logEncryptionKey: props.logEncryptionKey,
      metricsNamespace: props.metricsNamespace,
      description: "Vigil backtest worker: re-decides a batch of archive objects from the stored vectors",
    });
    const workerRole = this.worker.role;
    grantActions(workerRole, BACKTEST_WORKER_PERMISSIONS.tables.decisions, [props.decisionsTable.tableArn]);
    grantKeyViaService(workerRole, props.decisionsTableKey, "dynamodb", ["kms:Decrypt"]);
    const readable = [
      bucket.arnForObjects(`${ARCHIVE_PREFIX}*`),
      bucket.arnForObjects(`${BACKTEST_RUNS_PREFIX}*`),
    ];
    grantActions(workerRole, BACKTEST_WORKER_PERMISSIONS.archiveRead, readable);
    grantKeyViaService(workerRole, encryptionKey, "s3", ["kms:Decrypt"]);
    acknowledgeWildcardResources(
      workerRole,
      readable,
      "The worker reads the archive objects of its batch (keys the map hands it, under events/) and its " +
        "run's description (backtests/<runId>/run.json): s3:GetObject on those two prefixes of this one " +
        "bucket, no list, write or delete.",
    );

    this.logGroup = new LogGroup(this, "Logs", {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: props.removalPolicy,
    });
    this.stateMachine = new StateMachine(this, "StateMachine", {
      definitionBody: DefinitionBody.fromString(
        stack.toJsonString(
          backtestDefinition({
            bucketName: bucket.bucketName,
            workerArn: this.worker.fn.functionArn,
            objectsPerBatch: props.objectsPerBatch ?? 20,
            maxConcurrency: props.maxConcurrency ?? 100,
          }),
        ),
      ),
      stateMachineType: StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
      timeout: Duration.hours(6),
    });
    const role = this.stateMachine.role;
    // CDK's DependsOn on the role duplicates the GetAtt of its ARN (cfn-lint W3005); keep the others,
    // the role's policy first of all (as VigilFunction does).
    const cfnStateMachine = this.stateMachine.node.defaultChild as CfnResource;
    const cfnRole = role.node.defaultChild as CfnResource;
    cfnStateMachine.addOverride(
      "DependsOn",
      Lazy.list({
        produce: () =>
          cfnStateMachine
            .obtainDependencies()
            .filter((d): d is CfnResource => CfnResource.isCfnResource(d) && d !== cfnRole)
            .map((d) => d.logicalId),
      }),
    );
    grantActions(role, ["lambda:InvokeFunction"], [this.worker.fn.functionArn]);
    const runObjects = bucket.arnForObjects(`${BACKTEST_RUNS_PREFIX}*`);
    grantActions(role, BACKTEST_MAP_S3_ACTIONS, [runObjects]);
    grantKeyViaService(role, encryptionKey, "s3", ["kms:Decrypt", "kms:GenerateDataKey"]);

    // The map's child executions: a separate policy, since the state machine's own ARN in its role's
    // default policy would make the state machine depend on itself.
    const children = new Policy(this, "MapRunPolicy");
    role.attachInlinePolicy(children);
    const executions = [":*", "/*"].map((tail) =>
      stack.formatArn({
        service: "states",
        resource: "execution",
        resourceName: `${this.stateMachine.stateMachineName}${tail}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    this.executionArns = executions;
    children.addStatements(
      new PolicyStatement({
        actions: ["states:StartExecution"],
        resources: [this.stateMachine.stateMachineArn],
      }),
      new PolicyStatement({
        actions: ["states:DescribeExecution", "states:StopExecution"],
        resources: executions,
      }),
    );
    acknowledgeWildcardResources(
      children,
      executions,
      "A distributed map starts, describes and stops its own child executions, whose names Step Functions " +
        "generates per map run (<name>/<map run>:<child>): the execution ARNs of this one state machine, " +
        "as the Step Functions documentation grants them.",
    );
    acknowledgeWildcardResources(
      role,
      [runObjects],
      "The map reads its run's item list (backtests/<runId>/items.json) and writes the map run's results " +
        "under backtests/<runId>/results/; the run id is chosen per run, so the grant names the backtests/ " +
        "prefix of this one bucket, no list or delete.",
    );
    Validations.of(role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Logging to CloudWatch Logs needs the log-delivery actions (logs:CreateLogDelivery, " +
        "GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, " +
        "DescribeResourcePolicies, DescribeLogGroups) and X-Ray tracing its four actions, none of " +
        "which supports resource-level permissions (the Step Functions documentation grants them on '*'). " +
        "Every data-plane statement names its resource.",
    });
  }

  /**
   * What `vigil backtest --distributed` needs: write a run's description and item list and read its
   * results (`s3:PutObject`, `s3:GetObject` under `backtests/`, the archive key's data keys through
   * S3), start an execution of this state machine and describe its executions. Listing the bucket
   * and reading `events/` come with {@link EventArchive.grantRead}.
   */
  grantRun(grantee: IGrantable & Construct, archive: EventArchive): void {
    const runObjects = archive.bucket.arnForObjects(`${BACKTEST_RUNS_PREFIX}*`);
    grantActions(grantee, ["s3:PutObject", "s3:GetObject"], [runObjects]);
    grantKeyViaService(grantee, archive.encryptionKey, "s3", ["kms:GenerateDataKey"]);
    grantActions(grantee, ["states:StartExecution"], [this.stateMachine.stateMachineArn]);
    const executions = this.executionArns.slice(0, 1);
    grantActions(grantee, ["states:DescribeExecution"], executions);
    acknowledgeWildcardResources(
      grantee,
      [runObjects, ...executions],
      "vigil backtest --distributed writes its run's objects under backtests/<runId>/ and reads the map's " +
        "results there, then starts one execution of the backtest state machine and polls it: the run id " +
        "names both, so the grants name the backtests/ prefix of this one bucket and the executions of " +
        "this one state machine.",
    );
  }
}

/** Inputs of {@link backtestDefinition}. */
export interface BacktestDefinitionProps {
  readonly bucketName: string;
  readonly workerArn: string;
  readonly objectsPerBatch: number;
  readonly maxConcurrency: number;
}

/**
 * The state machine's Amazon States Language: one distributed map over the run's item list,
 * batches of archive objects to the worker (with the run id as batch input), Express child
 * executions, results written to the run's prefix, no failure tolerated (a failed slice fails the
 * run, rather than a report that silently misses events). The worker is retried on Lambda's
 * transient errors. Written out rather than built from CDK's state classes, whose item reader and
 * result writer grant S3 on the whole bucket.
 */
export function backtestDefinition(props: BacktestDefinitionProps): Record<string, unknown> {
  const runPrefix = (suffix: string) => `States.Format('${BACKTEST_RUNS_PREFIX}{}/${suffix}', $.runId)`;
  return {
    Comment: "Vigil stored-vector backtest over the event archive (docs/backtest.md)",
    StartAt: "Slices",
    States: {
      Slices: {
        Type: "Map",
        ItemReader: {
          Resource: "arn:aws:states:::s3:getObject",
          ReaderConfig: { InputType: "JSON" },
          Parameters: { Bucket: props.bucketName, "Key.$": runPrefix("items.json") },
        },
        ItemBatcher: {
          MaxItemsPerBatch: props.objectsPerBatch,
          BatchInput: { "runId.$": "$.runId" },
        },
        ItemProcessor: {
          ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "EXPRESS" },
          StartAt: "Slice",
          States: {
            Slice: {
              Type: "Task",
              Resource: "arn:aws:states:::lambda:invoke",
              Parameters: { FunctionName: props.workerArn, "Payload.$": "$" },
              OutputPath: "$.Payload",
              Retry: [
                {
                  ErrorEquals: [
                    "Lambda.ServiceException",
                    "Lambda.AWSLambdaException",
                    "Lambda.SdkClientException",
                    "Lambda.TooManyRequestsException",
                  ],
                  IntervalSeconds: 2,
                  MaxAttempts: 6,
                  BackoffRate: 2,
                },
              ],
              End: true,
            },
          },
        },
        ResultWriter: {
          Resource: "arn:aws:states:::s3:putObject",
          Parameters: { Bucket: props.bucketName, "Prefix.$": runPrefix("results") },
        },
        MaxConcurrency: props.maxConcurrency,
        ToleratedFailurePercentage: 0,
        End: true,
      },
    },
  };
}
