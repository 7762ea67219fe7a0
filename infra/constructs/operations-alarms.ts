import { Duration } from "aws-cdk-lib";
import {
  Alarm,
  AnomalyDetectionAlarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IStream } from "aws-cdk-lib/aws-kinesis";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { Domain } from "aws-cdk-lib/aws-opensearchservice";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { entriesOf } from "#infra/records";
import { EVENT_TYPES } from "#shared/domain/event/schema";
import {
  AUDIT_METRICS,
  CONFIG_LOAD_ERRORS_METRIC,
  METRIC_SERVICES,
  RULE_METRICS,
  SCORE_METRICS,
} from "#shared/metrics";
import type { StreamKey, TableKey } from "#shared/resources";

const FIVE_MINUTES = Duration.minutes(5);

/** The custom metrics of Vigil's functions in one namespace, with the `service` dimension they carry. */
export class VigilMetrics {
  constructor(
    /** CloudWatch namespace the functions publish to. */
    readonly namespace: string,
  ) {}

  /** A score metric without extra dimensions. */
  score(name: string, statistic: string = Stats.SUM): Metric {
    return this.metric(name, METRIC_SERVICES.score, {}, statistic);
  }

  /** A metric of one service with extra dimensions. */
  metric(
    name: string,
    service: string,
    dimensions: Record<string, string>,
    statistic: string = Stats.SUM,
  ): Metric {
    return new Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap: { service, ...dimensions },
      statistic,
      period: FIVE_MINUTES,
    });
  }

  /** Decisions with action `block`, summed over every scenario. */
  blocks(): MathExpression {
    const usingMetrics: Record<string, IMetric> = {};
    for (const [i, scenario] of EVENT_TYPES.entries())
      usingMetrics[`b${i}`] = this.metric(SCORE_METRICS.decisions, METRIC_SERVICES.score, {
        action: "block",
        scenario,
      });
    return new MathExpression({
      expression: Object.keys(usingMetrics)
        .map((id) => `FILL(${id}, 0)`)
        .join(" + "),
      usingMetrics,
      label: "block decisions",
      period: FIVE_MINUTES,
    });
  }

  /** Percent of decisions that block (empty when nothing was decided). */
  blockRate(): MathExpression {
    return new MathExpression({
      expression: "IF(decided > 0, 100 * blocks / decided)",
      usingMetrics: { blocks: this.blocks(), decided: this.score(SCORE_METRICS.decided) },
      label: "block rate (%)",
      period: FIVE_MINUTES,
    });
  }

  /**
   * A Metrics Insights query summing one metric over every value of its dynamic dimensions (rule
   * ids, config kinds), which a plain alarm cannot name in advance.
   */
  insightsSum(name: string, service: string, dimensions: readonly string[]): MathExpression {
    const schema = [`"${this.namespace}"`, ...dimensions, "service"].join(", ");
    return new MathExpression({
      expression: `SELECT SUM(${name}) FROM SCHEMA(${schema}) WHERE service = '${service}'`,
      usingMetrics: {},
      label: name,
      period: FIVE_MINUTES,
    });
  }
}

/** Properties of {@link OperationsAlarms}. */
export interface OperationsAlarmsProps {
  /** The functions' metrics. */
  readonly metrics: VigilMetrics;
  /** Every stream of the stack. */
  readonly streams: Readonly<Record<StreamKey, IStream>>;
  /** Every table of the stack. */
  readonly tables: Readonly<Record<TableKey, ITable>>;
  /** Functions that are not stream consumers (those have their own alarms): errors only. */
  readonly otherFunctions: Readonly<Record<string, IFunction>>;
  /** Topics whose failed deliveries alarm. */
  readonly topics: Readonly<Record<string, ITopic>>;
  /** The account's SMS monthly spend limit in USD; the alarm fires at 80% of it. */
  readonly smsMonthlySpendLimitUSD: number;
  /** Percent of received events quarantined (over 15 minutes) that alarms. */
  readonly quarantineRateAlarmPercent: number;
  /** The audit domain, when there is one. */
  readonly auditDomain?: {
    readonly domain: Domain;
    readonly volumeGiB: number;
    readonly masterNodes: number;
  };
}

/**
 * The alarms that are not per stream consumer: Kinesis throughput exceeded, DynamoDB throttles, SNS
 * delivery failures and SMS spend, errors of the custom resource providers, the audit domain's
 * health, and the business: block rate spiking or collapsing (an anomaly detection band on the
 * rate), decisions stopping while events flow, the quarantine rate, rule errors, configuration
 * refused, decisions made without configured rules, documents the audit trail refused.
 */
export class OperationsAlarms extends Construct {
  /** Every alarm created here, by logical name. */
  readonly alarms: Readonly<Record<string, Alarm>>;

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    const alarms: Record<string, Alarm> = {};
    const { metrics } = props;
    const threshold = (
      name: string,
      description: string,
      metric: IMetric,
      value: number,
      periods = 1,
      comparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) => {
      alarms[name] = new Alarm(this, name, {
        alarmDescription: description,
        metric,
        threshold: value,
        comparisonOperator,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    };

    for (const [key, stream] of entriesOf(props.streams)) {
      const name = key[0]?.toUpperCase() + key.slice(1);
      threshold(
        `${name}StreamWriteThrottled`,
        `Puts on the ${key} stream were throttled for 15 minutes (WriteProvisionedThroughputExceeded): add shards or use on-demand`,
        stream.metricWriteProvisionedThroughputExceeded({ statistic: Stats.SUM, period: FIVE_MINUTES }),
        1,
        3,
      );
      threshold(
        `${name}StreamReadThrottled`,
        `Reads of the ${key} stream were throttled for 15 minutes (ReadProvisionedThroughputExceeded): consumers lag`,
        stream.metricReadProvisionedThroughputExceeded({ statistic: Stats.SUM, period: FIVE_MINUTES }),
        1,
        3,
      );
    }

    for (const [key, table] of entriesOf(props.tables)) {
      const name = key[0]?.toUpperCase() + key.slice(1);
      threshold(
        `${name}TableThrottled`,
        `Requests to the ${key} table were throttled for 15 minutes (read or write throttle events)`,
        new MathExpression({
          expression: "FILL(r, 0) + FILL(w, 0)",
          usingMetrics: {
            r: table.metric("ReadThrottleEvents", { statistic: Stats.SUM, period: FIVE_MINUTES }),
            w: table.metric("WriteThrottleEvents", { statistic: Stats.SUM, period: FIVE_MINUTES }),
          },
          period: FIVE_MINUTES,
        }),
        1,
        3,
      );
    }

    for (const [name, fn] of Object.entries(props.otherFunctions)) {
      threshold(
        `${name}Errors`,
        `The ${name} function failed (a deployment step did not complete)`,
        fn.metricErrors({ statistic: Stats.SUM, period: FIVE_MINUTES }),
        1,
      );
    }

    for (const [name, topic] of Object.entries(props.topics)) {
      threshold(
        `${name}DeliveryFailures`,
        `SNS could not deliver notifications of the ${name} topic (email bounce, SMS refused or spend limit reached)`,
        topic.metricNumberOfNotificationsFailed({ statistic: Stats.SUM, period: FIVE_MINUTES }),
        1,
      );
    }
    threshold(
      "SmsSpend",
      `SMS spend this month reached 80% of the account's limit of ${props.smsMonthlySpendLimitUSD} USD: SNS stops sending SMS at the limit`,
      new Metric({
        namespace: "AWS/SNS",
        metricName: "SMSMonthToDateSpentUSD",
        statistic: Stats.MAXIMUM,
        period: FIVE_MINUTES,
      }),
      Math.round(props.smsMonthlySpendLimitUSD * 80) / 100,
    );

    // Business signals from the score function's metrics (shared/metrics.ts).
    const blockRate = metrics.blockRate();
    for (const [name, comparisonOperator, what] of [
      ["BlockRateSpike", ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD, "above"],
      ["BlockRateCollapse", ComparisonOperator.LESS_THAN_LOWER_THRESHOLD, "below"],
    ] as const) {
      alarms[name] = new AnomalyDetectionAlarm(this, name, {
        alarmDescription: `The share of block decisions is ${what} its expected band for 15 minutes (an attack, a bad rule or list, or rules that stopped working)`,
        metric: blockRate,
        stdDevs: 3,
        comparisonOperator,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
    threshold(
      "DecisionsStopped",
      "Events arrive on the events stream but no decision was made for 15 minutes",
      new MathExpression({
        expression: "IF((FILL(incoming, 0) + FILL(received, 0)) > 0 AND FILL(decided, 0) == 0, 1, 0)",
        usingMetrics: {
          incoming: props.streams.events.metricIncomingRecords({
            statistic: Stats.SUM,
            period: FIVE_MINUTES,
          }),
          received: metrics.score(SCORE_METRICS.received),
          decided: metrics.score(SCORE_METRICS.decided),
        },
        period: FIVE_MINUTES,
      }),
      1,
      3,
    );
    threshold(
      "QuarantineRate",
      `More than ${props.quarantineRateAlarmPercent}% of received events were quarantined for 15 minutes (a producer sends bad events)`,
      new MathExpression({
        expression: "IF(received > 0, 100 * FILL(quarantined, 0) / received, 0)",
        usingMetrics: {
          received: metrics.score(SCORE_METRICS.received),
          quarantined: metrics.score(SCORE_METRICS.quarantined),
        },
        period: FIVE_MINUTES,
      }),
      props.quarantineRateAlarmPercent,
      3,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    threshold(
      "RuleErrors",
      "Rules failed to evaluate (their onError decided what the failure meant); see RuleErrors by rule",
      metrics.insightsSum(RULE_METRICS.errors, METRIC_SERVICES.score, ["mode", "rule"]),
      1,
    );
    threshold(
      "ConfigRefused",
      "A configuration version was refused or unreadable at load time; the last good one stays in force",
      metrics.insightsSum(CONFIG_LOAD_ERRORS_METRIC, METRIC_SERVICES.score, ["kind"]),
      1,
    );
    threshold(
      "DecisionsWithoutConfiguredRules",
      "Decisions were made with the shipped default rules because no configured rules version is in force",
      metrics.score(SCORE_METRICS.withoutConfiguredRules),
      1,
    );
    threshold(
      "AuditRefusals",
      "The audit trail refused decision documents; they are in the quarantine table (vigil audit quarantine)",
      metrics.metric(AUDIT_METRICS.quarantined, METRIC_SERVICES.audit, {}),
      1,
    );

    const audit = props.auditDomain;
    if (audit) {
      const { domain } = audit;
      const oneMinute = Duration.minutes(1);
      threshold(
        "AuditClusterRed",
        "The audit domain is red: at least one primary shard is unassigned, writes to it fail",
        domain.metricClusterStatusRed({ statistic: Stats.MAXIMUM, period: oneMinute }),
        1,
      );
      threshold(
        "AuditClusterYellow",
        "The audit domain has been yellow for 30 minutes: replica shards are unassigned",
        domain.metricClusterStatusYellow({ statistic: Stats.MAXIMUM, period: Duration.minutes(10) }),
        1,
        3,
      );
      // FreeStorageSpace is in MiB per node; the minimum is the fullest node.
      threshold(
        "AuditFreeStorageLow",
        "A node of the audit domain has less than 25% of its volume free: indices are blocked at 5%",
        domain.metricFreeStorageSpace({ statistic: Stats.MINIMUM, period: FIVE_MINUTES }),
        Math.floor(audit.volumeGiB * 1024 * 0.25),
        1,
        ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      );
      threshold(
        "AuditWritesBlocked",
        "The audit domain blocks writes (ClusterIndexWritesBlocked): documents wait on the decisions stream",
        domain.metricClusterIndexWritesBlocked({ statistic: Stats.MAXIMUM, period: FIVE_MINUTES }),
        1,
      );
      threshold(
        "AuditJvmPressure",
        "JVM memory pressure of the audit domain's data nodes above 80% for 15 minutes",
        domain.metricJVMMemoryPressure({ statistic: Stats.MAXIMUM, period: FIVE_MINUTES }),
        80,
        3,
      );
      if (audit.masterNodes > 0)
        threshold(
          "AuditMasterJvmPressure",
          "JVM memory pressure of the audit domain's dedicated masters above 80% for 15 minutes",
          domain.metric("MasterJVMMemoryPressure", { statistic: Stats.MAXIMUM, period: FIVE_MINUTES }),
          80,
          3,
        );
      threshold(
        "AuditKeyInaccessible",
        "The audit domain cannot use its KMS key: the domain stops serving until the key is usable again",
        domain.metric("KMSKeyInaccessible", { statistic: Stats.MAXIMUM, period: oneMinute }),
        1,
      );
    }
    this.alarms = alarms;
  }
}
