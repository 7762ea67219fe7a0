import { Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { AlertTopic } from "#infra/constructs/alert-topic";
import { AuditDomain } from "#infra/constructs/audit-domain";
import { DistributedBacktest, EventArchive } from "#infra/constructs/event-archive";
import { PseudonymKey } from "#infra/constructs/pseudonym-key";
import { StreamConsumerFunction } from "#infra/constructs/stream-consumer-function";
import { VigilData } from "#infra/constructs/vigil-data";
import type { VigilSettings } from "#infra/settings";
import { ENV, FUNCTIONS } from "#shared/resources";

/** Properties of {@link VigilStack}. */
export interface VigilStackProps extends StackProps {
  /** Validated deployment settings (from context). */
  readonly settings: VigilSettings;
}

/** OpenSearch domain names: 3 to 28 characters, lower case, starting with a letter. */
function auditDomainName(stackName: string): string {
  return `${stackName.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`
    .slice(0, 22)
    .replace(/-+$/, "")
    .concat("-audit");
}

/**
 * The whole Vigil deployment in one stack. Stateful, all retained: `Data` (key, streams, tables,
 * failure queues), `PseudonymKey` (the HMAC key secret), `Alerts` (the SNS topic and its
 * subscriptions), `AuditDomain` (OpenSearch, with its index setup). Stateless, built on them:
 * `Score` (events in, decisions and windowed state out, decisions stream), `Alert` (decisions in,
 * SNS out), `Audit` (decisions in, OpenSearch out). One stack keeps deploys atomic and avoids
 * CloudFormation exports between data and compute; the subtrees stay separate, so splitting them
 * into stacks later is mechanical.
 */
export class VigilStack extends Stack {
  /** The stateful layer. */
  readonly data: VigilData;
  /** The pseudonymization key (read by score only). */
  readonly pseudonymKey: PseudonymKey;
  /** The alert topic. */
  readonly alerts: AlertTopic;
  /** The audit trail's OpenSearch domain. */
  readonly auditDomain: AuditDomain;
  /** The score function: events stream in, decisions and windowed state out. */
  readonly score: StreamConsumerFunction;
  /** The alert function: decisions stream in, SNS out. */
  readonly alert: StreamConsumerFunction;
  /** The audit function: decisions stream in, OpenSearch out. */
  readonly audit: StreamConsumerFunction;
  /** The event archive: its bucket and the function writing every events-stream record to it. */
  readonly archive: EventArchive;
  /** Stored-vector backtests over the archive, spread over Lambda by a Step Functions distributed map. */
  readonly backtest: DistributedBacktest;

  constructor(scope: Construct, id: string, props: VigilStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const logs = { logRetention: settings.logRetention, logLevel: settings.logLevel };

    this.data = new VigilData(this, "Data", {
      tableDeletionProtection: settings.tableDeletionProtection,
    });
    this.pseudonymKey = new PseudonymKey(this, "PseudonymKey", { encryptionKey: this.data.key });
    this.alerts = new AlertTopic(this, "Alerts", {
      encryptionKey: this.data.key,
      emails: settings.alerts.emails,
      phones: settings.alerts.phones,
      emailSeverities: settings.alerts.emailSeverities,
      smsSeverities: settings.alerts.smsSeverities,
    });
    this.auditDomain = new AuditDomain(this, "AuditDomain", {
      encryptionKey: this.data.key,
      domainName: auditDomainName(settings.stackName),
      instanceType: settings.audit.instanceType,
      dataNodes: settings.audit.dataNodes,
      volumeGiB: settings.audit.volumeGiB,
      retentionDays: settings.audit.retentionDays,
      readerRoleArns: settings.audit.readerRoleArns,
      ...logs,
    });

    this.score = new StreamConsumerFunction(this, "Score", {
      definition: FUNCTIONS.score,
      streams: this.data.streams,
      tables: this.data.tables,
      failureQueue: this.data.failureQueues.score,
      environment: {
        [ENV.decisionRetentionDays]: String(settings.decisionRetentionDays),
        [ENV.pseudonymKeySecret]: this.pseudonymKey.secret.secretArn,
      },
      ...logs,
    });
    this.pseudonymKey.grantRead(this.score.lambda.fn);

    this.alert = new StreamConsumerFunction(this, "Alert", {
      definition: FUNCTIONS.alert,
      streams: this.data.streams,
      tables: this.data.tables,
      failureQueue: this.data.failureQueues.alert,
      environment: {
        [ENV.alertTopicArn]: this.alerts.topic.topicArn,
        ...(settings.alerts.policyJson !== undefined
          ? { [ENV.alertPolicy]: settings.alerts.policyJson }
          : {}),
      },
      ...logs,
    });
    this.alerts.topic.grantPublish(this.alert.lambda.fn);

    this.audit = new StreamConsumerFunction(this, "Audit", {
      definition: FUNCTIONS.audit,
      streams: this.data.streams,
      tables: this.data.tables,
      failureQueue: this.data.failureQueues.audit,
      environment: {
        [ENV.openSearchEndpoint]: this.auditDomain.endpoint,
        [ENV.auditIndexPrefix]: this.auditDomain.indexPrefix,
      },
      ...logs,
    });
    this.auditDomain.grantWrite(this.audit.lambda.role);

    this.archive = new EventArchive(this, "Archive", {
      encryptionKey: this.data.key,
      streams: this.data.streams,
      tables: this.data.tables,
      failureQueue: this.data.failureQueues.archive,
      ...logs,
    });
    this.backtest = new DistributedBacktest(this, "Backtest", {
      archive: this.archive,
      decisionsTable: this.data.tables.decisions,
      ...logs,
    });
  }
}
