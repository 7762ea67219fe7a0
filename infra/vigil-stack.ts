import { CfnOutput, Fn, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import { Alarm } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IGrantable } from "aws-cdk-lib/aws-iam";
import type { IStream } from "aws-cdk-lib/aws-kinesis";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import { AccessRoles } from "#infra/constructs/access-roles";
import { AlertTopic } from "#infra/constructs/alert-topic";
import { AuditDomain } from "#infra/constructs/audit-domain";
import { AuditNetwork } from "#infra/constructs/audit-network";
import { ConfigSeed } from "#infra/constructs/config-seed";
import { DistributedBacktest } from "#infra/constructs/distributed-backtest";
import { EventArchive } from "#infra/constructs/event-archive";
import { OperationsAlarms, VigilMetrics } from "#infra/constructs/operations-alarms";
import { OperationsDashboard } from "#infra/constructs/operations-dashboard";
import { OperationsTopic } from "#infra/constructs/operations-topic";
import { PseudonymKey } from "#infra/constructs/pseudonym-key";
import { StreamConsumerFunction } from "#infra/constructs/stream-consumer-function";
import { VigilData } from "#infra/constructs/vigil-data";
import { CONSUMER_PERMISSIONS } from "#infra/function-permissions";
import { grantActions, grantKeyViaService } from "#infra/grants";
import { entriesOf, mapRecord } from "#infra/records";
import type { VigilSettings } from "#infra/settings";
import type { StreamConsumerKey } from "#infra/stream-consumers";
import { ENV, FUNCTIONS, type StreamKey, type TableKey } from "#shared/resources";
import { STACK_OUTPUTS, type StackOutputKey } from "#shared/stack-outputs";

/** Properties of {@link VigilStack}. */
export interface VigilStackProps extends StackProps {
  /** Validated deployment settings (profile and context). */
  readonly settings: VigilSettings;
}

/** OpenSearch domain names: 3 to 28 characters, lower case, starting with a letter. */
export function auditDomainName(stackName: string): string {
  return `${stackName.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`
    .slice(0, 22)
    .replace(/-+$/, "")
    .concat("-audit");
}

/**
 * The whole Vigil deployment in one stack, shaped by the profile in its settings.
 *
 * Stateful: `Data` (keys, streams, tables, failure queues), `PseudonymKey` (the HMAC key secret),
 * `Alerts` (the fraud alert topic), `AuditDomain` (OpenSearch, in `AuditNetwork` when the profile
 * asks for a VPC; absent with `vigil:audit=none`), retained or destroyed with the stack as the
 * profile says. Stateless: `Score`, `Alert`, `Audit` (the stream consumers), `ConfigSeed` (shipped
 * defaults at deploy time), `Access` (operator and reader roles, producer policy), `Operations`
 * (topic, alarms, dashboard). Every alarm notifies the operations topic; Outputs name every stream,
 * table, topic, key, domain endpoint and failure queue (`shared/stack-outputs.ts`).
 */
export class VigilStack extends Stack {
  /** The settings the stack was built from. */
  readonly settings: VigilSettings;
  /** The stateful layer. */
  readonly data: VigilData;
  /** The pseudonymization key (read by score only). */
  readonly pseudonymKey: PseudonymKey;
  /** The fraud alert topic. */
  readonly alerts: AlertTopic;
  /** The audit domain's network (only with `vigil:auditVpc`). */
  readonly auditNetwork: AuditNetwork | undefined;
  /** The audit trail's OpenSearch domain (none with `vigil:audit=none`). */
  readonly auditDomain: AuditDomain | undefined;
  /** The seeding custom resource. */
  readonly configSeed: ConfigSeed;
  /** The score function: events stream in, decisions and windowed state out. */
  readonly score: StreamConsumerFunction;
  /** The alert function: decisions stream in, SNS out. */
  readonly alert: StreamConsumerFunction;
  /** The audit function: decisions stream in, OpenSearch out (none without an audit domain). */
  readonly audit: StreamConsumerFunction | undefined;
  /** The event archive's buckets (every events-stream record as received, docs/backtest.md). */
  readonly archive: EventArchive;
  /** The archive function: events stream in, archive bucket out. */
  readonly archiveConsumer: StreamConsumerFunction;
  /** Stored-vector backtests over the archive, spread over Lambda by a Step Functions distributed map. */
  readonly backtest: DistributedBacktest;
  /** Operator and reader roles, producer policy. */
  readonly access: AccessRoles;
  /** The operations topic every alarm notifies. */
  readonly operations: OperationsTopic;
  /** Alarms beyond the per-consumer ones. */
  readonly operationsAlarms: OperationsAlarms;
  /** The operations dashboard. */
  readonly dashboard: OperationsDashboard;

  constructor(scope: Construct, id: string, props: VigilStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.settings = settings;
    const logs = { logRetention: settings.logRetention, logLevel: settings.logLevel };
    const removalPolicy = settings.data.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.data = new VigilData(this, "Data", {
      retain: settings.data.retain,
      tableDeletionProtection: settings.data.tableDeletionProtection,
      pointInTimeRecovery: settings.data.pointInTimeRecovery,
      streams: settings.streams,
      tables: settings.tables,
      consumers: entriesOf(settings.consumers).map(([key]) => key),
      keyAdminArns: settings.access.keyAdminArns,
    });
    const { keys } = this.data;
    const logEncryptionKey = keys.operations;
    const streams = mapRecord(this.data.streams, (stream, key) => ({
      stream,
      key: this.data.streamKey(key),
    }));
    const tables = mapRecord(this.data.tables, (table, key) => ({ table, key: this.data.tableKey(key) }));

    this.pseudonymKey = new PseudonymKey(this, "PseudonymKey", {
      encryptionKey: keys.personalData,
      removalPolicy,
    });
    this.alerts = new AlertTopic(this, "Alerts", {
      encryptionKey: keys.data,
      emails: settings.alerts.emails,
      phones: settings.alerts.phones,
      emailSeverities: settings.alerts.emailSeverities,
      smsSeverities: settings.alerts.smsSeverities,
    });

    const audit = settings.audit;
    if (audit.sink === "opensearch") {
      this.auditNetwork = audit.vpc
        ? new AuditNetwork(this, "AuditNetwork", {
            availabilityZones: audit.availabilityZones,
            logEncryptionKey,
            logRetention: settings.logRetention,
          })
        : undefined;
      this.auditDomain = new AuditDomain(this, "AuditDomain", {
        encryptionKey: keys.data,
        logEncryptionKey,
        domainName: auditDomainName(settings.stackName),
        instanceType: audit.instanceType,
        dataNodes: audit.dataNodes,
        masterNodes: audit.masterNodes,
        masterInstanceType: audit.masterInstanceType,
        volumeGiB: audit.volumeGiB,
        availabilityZones: audit.availabilityZones,
        network: this.auditNetwork && {
          vpc: this.auditNetwork.vpc,
          subnets: this.auditNetwork.subnets,
          clientSecurityGroup: this.auditNetwork.clientSecurityGroup,
        },
        retain: settings.data.retain,
        retentionDays: audit.retentionDays,
        readerRoleArns: audit.readerRoleArns,
        metricsNamespace: settings.metricsNamespace,
        ...logs,
      });
    }

    this.configSeed = new ConfigSeed(this, "ConfigSeed", {
      table: tables.config.table,
      tableKey: tables.config.key,
      logEncryptionKey,
      metricsNamespace: settings.metricsNamespace,
      ...logs,
    });

    const consumer = (
      key: StreamConsumerKey,
      environment: Record<string, string>,
      network?: ConstructorParameters<typeof StreamConsumerFunction>[2]["network"],
    ) => {
      const tuning = settings.consumers[key];
      if (!tuning) throw new Error(`the ${key} consumer is not part of this deployment`);
      return new StreamConsumerFunction(this, FUNCTIONS[key].id, {
        definition: FUNCTIONS[key],
        permissions: CONSUMER_PERMISSIONS[key],
        tuning,
        streams,
        tables,
        failureQueue: { queue: this.data.failureQueue(key), key: keys.data },
        environment,
        metricsNamespace: settings.metricsNamespace,
        logEncryptionKey,
        network,
        ...logs,
      });
    };

    this.score = consumer("score", {
      [ENV.decisionRetentionDays]: String(settings.decisionRetentionDays),
      [ENV.pseudonymKeySecret]: this.pseudonymKey.secret.secretArn,
    });
    this.pseudonymKey.grantRead(this.score.lambda.role, keys.personalData);

    this.alert = consumer("alert", {
      [ENV.alertTopicArn]: this.alerts.topic.topicArn,
      ...(settings.alerts.policyJson !== undefined ? { [ENV.alertPolicy]: settings.alerts.policyJson } : {}),
    });
    grantActions(this.alert.lambda.role, CONSUMER_PERMISSIONS.alert.alertTopic, [this.alerts.topic.topicArn]);
    grantKeyViaService(this.alert.lambda.role, keys.data, "sns", ["kms:GenerateDataKey", "kms:Decrypt"]);

    if (this.auditDomain) {
      this.audit = consumer(
        "audit",
        {
          [ENV.openSearchEndpoint]: this.auditDomain.endpoint,
          [ENV.auditIndexPrefix]: this.auditDomain.indexPrefix,
        },
        this.auditDomain.clientNetwork,
      );
      this.auditDomain.grantWrite(this.audit.lambda.role);
    }

    this.archive = new EventArchive(this, "EventArchive", {
      encryptionKey: keys.personalData,
      retain: settings.data.retain,
    });
    this.archiveConsumer = consumer("archive", { [ENV.archiveBucket]: this.archive.bucket.bucketName });
    this.archive.grantWrite(this.archiveConsumer.lambda.role);
    this.backtest = new DistributedBacktest(this, "Backtest", {
      archive: this.archive,
      decisionsTable: tables.decisions.table,
      decisionsTableKey: tables.decisions.key,
      logEncryptionKey,
      removalPolicy,
      metricsNamespace: settings.metricsNamespace,
      ...logs,
    });

    this.access = new AccessRoles(this, "Access", {
      streams,
      tables,
      archive: this.archive,
      backtest: this.backtest,
      auditDomain: this.auditDomain,
      trustedArns: settings.access.operatorPrincipalArns,
    });

    this.operations = new OperationsTopic(this, "Operations", {
      encryptionKey: keys.operations,
      emails: settings.operations.emails,
      phones: settings.operations.phones,
    });
    const metrics = new VigilMetrics(settings.metricsNamespace);
    const consumers: Record<string, StreamConsumerFunction> = {
      score: this.score,
      alert: this.alert,
      archive: this.archiveConsumer,
    };
    if (this.audit) consumers.audit = this.audit;
    const otherFunctions: Record<string, IFunction> = { ConfigSeed: this.configSeed.provider.fn };
    if (this.auditDomain) otherFunctions.AuditSetup = this.auditDomain.setup.fn;
    this.operationsAlarms = new OperationsAlarms(this, "Alarms", {
      metrics,
      streams: this.data.streams,
      tables: this.data.tables,
      otherFunctions,
      topics: { Alerts: this.alerts.topic, Operations: this.operations.topic },
      smsMonthlySpendLimitUSD: settings.operations.smsMonthlySpendLimitUSD,
      quarantineRateAlarmPercent: settings.operations.quarantineRateAlarmPercent,
      auditDomain: this.auditDomain && {
        domain: this.auditDomain.domain,
        volumeGiB: audit.volumeGiB,
        masterNodes: audit.masterNodes,
      },
    });

    // Every alarm of the stack, whichever construct made it, notifies the operations topic.
    const action = new SnsAction(this.operations.topic);
    const allAlarms = this.node.findAll().filter((c): c is Alarm => c instanceof Alarm);
    for (const alarm of allAlarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }

    this.dashboard = new OperationsDashboard(this, "Dashboard", {
      stackName: settings.stackName,
      metrics,
      streams: this.data.streams,
      tables: this.data.tables,
      functions: {
        ...Object.fromEntries(Object.entries(consumers).map(([k, c]) => [k, c.lambda.fn])),
        ...otherFunctions,
      },
      consumers: Object.fromEntries(Object.entries(consumers).map(([k, c]) => [k, c.lambda.fn])),
      failureQueues: Object.fromEntries(entriesOf(this.data.failureQueues)),
      alarms: allAlarms,
      auditDomain: this.auditDomain?.domain,
    });

    this.addOutputs(streams, tables);
  }

  /**
   * The first three zones of the region as `Fn::GetAZs` picks. CDK would look the zones up through
   * the account for an environment-specific stack, which needs credentials at synth time; these
   * resolve at deploy time, in any account and region with three zones.
   */
  override get availabilityZones(): string[] {
    return [0, 1, 2].map((i) => Fn.select(i, Fn.getAzs()));
  }

  /**
   * Lets a principal put events: `kinesis:PutRecord(s)` on the events stream and
   * `kms:GenerateDataKey` on its key through Kinesis. Producers outside this app attach the
   * `EventsProducerPolicyArn` output's managed policy instead.
   */
  grantPutEvents(grantee: IGrantable): void {
    this.access.grantPutEvents(grantee);
  }

  private addOutputs(
    streams: Readonly<Record<StreamKey, { stream: IStream; key: IKey }>>,
    tables: Readonly<Record<TableKey, { table: ITable; key: IKey }>>,
  ): void {
    const { keys } = this.data;
    const values: Partial<Record<StackOutputKey, string>> = {
      EventsStreamName: streams.events.stream.streamName,
      DecisionsStreamName: streams.decisions.stream.streamName,
      StateTableName: tables.state.table.tableName,
      ConfigTableName: tables.config.table.tableName,
      DecisionsTableName: tables.decisions.table.tableName,
      QuarantineTableName: tables.quarantine.table.tableName,
      AlertsTableName: tables.alerts.table.tableName,
      LabelsTableName: tables.labels.table.tableName,
      CasesTableName: tables.cases.table.tableName,
      AlertTopicArn: this.alerts.topic.topicArn,
      OperationsTopicArn: this.operations.topic.topicArn,
      PersonalDataKeyArn: keys.personalData.keyArn,
      DataKeyArn: keys.data.keyArn,
      OperationsKeyArn: keys.operations.keyArn,
      PseudonymKeySecretArn: this.pseudonymKey.secret.secretArn,
      ScoreFailureQueueUrl: this.data.failureQueue("score").queueUrl,
      AlertFailureQueueUrl: this.data.failureQueue("alert").queueUrl,
      ArchiveBucketName: this.archive.bucket.bucketName,
      BacktestStateMachineArn: this.backtest.stateMachine.stateMachineArn,
      ArchiveFailureQueueUrl: this.data.failureQueue("archive").queueUrl,
      OperatorRoleArn: this.access.operator.roleArn,
      EventsProducerPolicyArn: this.access.producerPolicy.managedPolicyArn,
      DashboardName: this.dashboard.dashboard.dashboardName,
    };
    if (this.auditDomain) {
      values.AuditEndpoint = this.auditDomain.endpoint;
      values.AuditIndexPrefix = this.auditDomain.indexPrefix;
      values.AuditFailureQueueUrl = this.data.failureQueue("audit").queueUrl;
    }
    if (this.access.auditReader) values.AuditReaderRoleArn = this.access.auditReader.roleArn;
    for (const [key, value] of entriesOf(values)) {
      new CfnOutput(this, key, { value, description: STACK_OUTPUTS[key].description });
    }
  }
}
