/**
 * The Outputs of a deployed Vigil stack, by output key, and the environment variable each one
 * stands for. `infra/` writes these outputs; the CLI (`--stack` or `VIGIL_STACK`) reads them with
 * DescribeStacks and sets the variables, so operators never copy generated names by hand. Pure data.
 */
import { ENV, STREAMS, TABLES } from "#shared/resources";

/** One stack output: what it names and the variable the CLI sets from it (null: none). */
export interface StackOutputDefinition {
  readonly description: string;
  readonly envVar: string | null;
}

/** Every output of the Vigil stack, by output key (CloudFormation logical id of the output). */
export const STACK_OUTPUTS = {
  EventsStreamName: { description: "Events stream (producers put here)", envVar: STREAMS.events.envVar },
  DecisionsStreamName: { description: "Decisions stream", envVar: STREAMS.decisions.envVar },
  StateTableName: { description: "Windowed state table", envVar: TABLES.state.envVar },
  ConfigTableName: { description: "Configuration table", envVar: TABLES.config.envVar },
  DecisionsTableName: { description: "Decisions table", envVar: TABLES.decisions.envVar },
  QuarantineTableName: { description: "Quarantine table", envVar: TABLES.quarantine.envVar },
  AlertsTableName: { description: "Alert ledger table", envVar: TABLES.alerts.envVar },
  LabelsTableName: { description: "Labels table (fraud/legit outcomes)", envVar: TABLES.labels.envVar },
  CasesTableName: { description: "Review cases table", envVar: TABLES.cases.envVar },
  AlertTopicArn: { description: "Fraud alert topic", envVar: ENV.alertTopicArn },
  OperationsTopicArn: { description: "Operations topic (every alarm)", envVar: null },
  AuditEndpoint: { description: "Audit domain endpoint (https://...)", envVar: ENV.openSearchEndpoint },
  AuditIndexPrefix: { description: "Prefix of the daily audit indices", envVar: ENV.auditIndexPrefix },
  PersonalDataKeyArn: { description: "KMS key of personal data as received", envVar: null },
  DataKeyArn: { description: "KMS key of pseudonymous and operational data", envVar: null },
  OperationsKeyArn: { description: "KMS key of log groups and the operations topic", envVar: null },
  PseudonymKeySecretArn: { description: "Secret holding the pseudonymization key", envVar: null },
  ScoreFailureQueueUrl: { description: "Failure queue of the score mapping", envVar: null },
  AlertFailureQueueUrl: { description: "Failure queue of the alert mapping", envVar: null },
  ArchiveBucketName: { description: "Event archive bucket (backtests read it)", envVar: ENV.archiveBucket },
  BacktestStateMachineArn: {
    description: "State machine of distributed backtests (vigil backtest --distributed)",
    envVar: ENV.backtestStateMachineArn,
  },
  ArchiveFailureQueueUrl: { description: "Failure queue of the archive mapping", envVar: null },
  AuditFailureQueueUrl: { description: "Failure queue of the audit mapping", envVar: null },
  OperatorRoleArn: { description: "Role for operators running the vigil CLI", envVar: null },
  AuditReaderRoleArn: { description: "Read-only role for people reading the audit trail", envVar: null },
  EventsProducerPolicyArn: { description: "Managed policy to attach to event producers", envVar: null },
  DashboardName: { description: "CloudWatch operations dashboard", envVar: null },
} as const satisfies Record<string, StackOutputDefinition>;

/** An output key of the Vigil stack. */
export type StackOutputKey = keyof typeof STACK_OUTPUTS;

/** Environment variable naming the stack the CLI works on (the same as its `--stack` option). */
export const STACK_ENV_VAR = "VIGIL_STACK";
