import { Duration } from "aws-cdk-lib";
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Stats,
  TextWidget,
} from "aws-cdk-lib/aws-cloudwatch";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IStream } from "aws-cdk-lib/aws-kinesis";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { Domain } from "aws-cdk-lib/aws-opensearchservice";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { VigilMetrics } from "#infra/constructs/operations-alarms";
import { entriesOf } from "#infra/records";
import {
  ALERT_METRICS,
  AUDIT_METRICS,
  CONFIG_LOAD_ERRORS_METRIC,
  METRIC_SERVICES,
  RULE_METRICS,
  SCORE_METRICS,
} from "#shared/metrics";
import type { StreamKey, TableKey } from "#shared/resources";

const FIVE_MINUTES = Duration.minutes(5);

/** Properties of {@link OperationsDashboard}. */
export interface OperationsDashboardProps {
  readonly stackName: string;
  readonly metrics: VigilMetrics;
  readonly streams: Readonly<Record<StreamKey, IStream>>;
  readonly tables: Readonly<Record<TableKey, ITable>>;
  /** Every function by name (stream consumers and custom resource providers). */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Stream consumers by name: their iterator age is the pipeline's lag. */
  readonly consumers: Readonly<Record<string, IFunction>>;
  readonly failureQueues: Readonly<Record<string, IQueue>>;
  readonly alarms: readonly Alarm[];
  readonly auditDomain?: Domain;
}

/**
 * One CloudWatch dashboard, `<stack>-operations`: the alarms' states; throughput (events in, decided,
 * quarantined, published, alerted, indexed); latency (iterator age of each consumer, put-to-decision
 * percentiles); actions by scenario and the block rate; rule hits; quarantine reasons; errors
 * (function errors, records reported for retry, rule errors, configuration refused, failure queues);
 * throttles (Lambda, Kinesis, DynamoDB); and the audit domain's health when there is one.
 */
export class OperationsDashboard extends Construct {
  /** The dashboard. */
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const { metrics } = props;
    const graph = (title: string, left: IMetric[], options: { stacked?: boolean; width?: number } = {}) =>
      new GraphWidget({
        title,
        left,
        width: options.width ?? 12,
        height: 6,
        stacked: options.stacked ?? false,
      });
    const search = (label: string, query: string, statistic: string) =>
      new MathExpression({
        expression: `SEARCH('{${query}', '${statistic}', 300)`,
        usingMetrics: {},
        label,
        period: FIVE_MINUTES,
      });
    const ns = metrics.namespace;
    const score = METRIC_SERVICES.score;

    this.dashboard = new Dashboard(this, "Dashboard", {
      dashboardName: `${props.stackName}-operations`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# ${props.stackName}\nVigil operations: every alarm below notifies the operations topic. Metrics namespace \`${ns}\`.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: "Alarms", alarms: [...props.alarms], width: 24 }),
    );
    this.dashboard.addWidgets(
      graph("Throughput: events (5 min)", [
        props.streams.events.metricIncomingRecords({
          statistic: Stats.SUM,
          period: FIVE_MINUTES,
          label: "put",
        }),
        metrics.score(SCORE_METRICS.received).with({ label: "received" }),
        metrics.score(SCORE_METRICS.decided).with({ label: "decided" }),
        metrics.score(SCORE_METRICS.quarantined).with({ label: "quarantined" }),
        metrics.score(SCORE_METRICS.duplicates).with({ label: "duplicates" }),
      ]),
      graph("Throughput: decisions out (5 min)", [
        props.streams.decisions.metricIncomingRecords({
          statistic: Stats.SUM,
          period: FIVE_MINUTES,
          label: "published",
        }),
        metrics.metric(ALERT_METRICS.sent, METRIC_SERVICES.alert, {}).with({ label: "alerts sent" }),
        metrics
          .metric(ALERT_METRICS.suppressed, METRIC_SERVICES.alert, {})
          .with({ label: "alerts suppressed" }),
        metrics.metric(AUDIT_METRICS.indexed, METRIC_SERVICES.audit, {}).with({ label: "audit indexed" }),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        "Latency: iterator age (max, ms)",
        Object.entries(props.consumers).map(([name, fn]) =>
          fn.metric("IteratorAge", { statistic: Stats.MAXIMUM, period: Duration.minutes(1), label: name }),
        ),
      ),
      graph(
        "Latency: put to decision (ms)",
        ["p50", "p95", "p99"].map((p) =>
          metrics.score(SCORE_METRICS.putToDecisionLatency, p).with({ label: p }),
        ),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        "Actions by scenario (5 min)",
        [
          search(
            "",
            `${ns},action,scenario,service} MetricName="${SCORE_METRICS.decisions}" service="${score}"`,
            "Sum",
          ),
        ],
        { stacked: true },
      ),
      graph("Block rate (%)", [metrics.blockRate()]),
    );
    this.dashboard.addWidgets(
      graph("Rule hits (5 min)", [
        search("", `${ns},mode,rule,service} MetricName="${RULE_METRICS.hits}" service="${score}"`, "Sum"),
      ]),
      graph("Quarantine reasons (5 min)", [
        search(
          "",
          `${ns},reason,service} MetricName="${SCORE_METRICS.quarantined}" service="${score}"`,
          "Sum",
        ),
      ]),
    );
    this.dashboard.addWidgets(
      graph("Errors", [
        ...Object.entries(props.functions).map(([name, fn]) =>
          fn.metricErrors({ statistic: Stats.SUM, period: FIVE_MINUTES, label: `${name} errors` }),
        ),
        metrics.score(SCORE_METRICS.failed).with({ label: "score records for retry" }),
        metrics
          .metric(ALERT_METRICS.failed, METRIC_SERVICES.alert, {})
          .with({ label: "alert records for retry" }),
        metrics
          .metric(AUDIT_METRICS.failed, METRIC_SERVICES.audit, {})
          .with({ label: "audit records for retry" }),
        ...Object.entries(props.failureQueues).map(([name, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({
            statistic: Stats.MAXIMUM,
            period: FIVE_MINUTES,
            label: `${name} failure queue`,
          }),
        ),
      ]),
      graph("Rule errors and configuration refused (5 min)", [
        search("", `${ns},mode,rule,service} MetricName="${RULE_METRICS.errors}"`, "Sum"),
        search("", `${ns},kind,service} MetricName="${CONFIG_LOAD_ERRORS_METRIC}"`, "Sum"),
        metrics
          .score(SCORE_METRICS.withoutConfiguredRules)
          .with({ label: "decided without configured rules" }),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        "Throttles",
        [
          ...Object.entries(props.functions).map(([name, fn]) =>
            fn.metricThrottles({ statistic: Stats.SUM, period: FIVE_MINUTES, label: `${name} Lambda` }),
          ),
          ...entriesOf(props.streams).flatMap(([key, stream]) => [
            stream.metricWriteProvisionedThroughputExceeded({
              statistic: Stats.SUM,
              period: FIVE_MINUTES,
              label: `${key} stream writes`,
            }),
            stream.metricReadProvisionedThroughputExceeded({
              statistic: Stats.SUM,
              period: FIVE_MINUTES,
              label: `${key} stream reads`,
            }),
          ]),
        ],
        { width: 12 },
      ),
      graph(
        "DynamoDB throttle events",
        entriesOf(props.tables).flatMap(([key, table]) => [
          table.metric("ReadThrottleEvents", {
            statistic: Stats.SUM,
            period: FIVE_MINUTES,
            label: `${key} reads`,
          }),
          table.metric("WriteThrottleEvents", {
            statistic: Stats.SUM,
            period: FIVE_MINUTES,
            label: `${key} writes`,
          }),
        ]),
      ),
    );
    const domain = props.auditDomain;
    if (domain) {
      this.dashboard.addWidgets(
        graph("Audit domain: cluster status", [
          domain.metricClusterStatusRed({
            statistic: Stats.MAXIMUM,
            period: Duration.minutes(1),
            label: "red",
          }),
          domain.metricClusterStatusYellow({
            statistic: Stats.MAXIMUM,
            period: Duration.minutes(1),
            label: "yellow",
          }),
          domain.metricClusterIndexWritesBlocked({
            statistic: Stats.MAXIMUM,
            period: Duration.minutes(1),
            label: "writes blocked",
          }),
        ]),
        graph("Audit domain: free storage (MiB, min) and JVM pressure (%)", [
          domain.metricFreeStorageSpace({
            statistic: Stats.MINIMUM,
            period: FIVE_MINUTES,
            label: "free storage",
          }),
          domain.metricJVMMemoryPressure({
            statistic: Stats.MAXIMUM,
            period: FIVE_MINUTES,
            label: "JVM pressure",
          }),
        ]),
      );
    }
  }
}
