import { Duration } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/** Properties of {@link StreamConsumerAlarms}. */
export interface StreamConsumerAlarmsProps {
  /** The function its event source mapping invokes. */
  readonly fn: IFunction;
  /** The mapping's on-failure destination. */
  readonly failureQueue: IQueue;
  /**
   * Age of the newest processed record above which the consumer counts as lagging.
   * @default Duration.minutes(1)
   */
  readonly iteratorAgeThreshold?: Duration;
  /**
   * Consecutive one-minute periods the iterator age must stay above the threshold before alarming,
   * so a single slow batch (cold start, retry) does not page anyone.
   * @default 5
   */
  readonly iteratorAgeEvaluationPeriods?: number;
}

/**
 * The four signals that a Kinesis consumer is unhealthy: it is falling behind the stream (iterator
 * age), its invocations fail as a whole instead of reporting item failures (errors), Lambda cannot
 * get concurrency for it (throttles), or Lambda gave up on a batch and sent it to the failure queue
 * (records were skipped). The stack gives every alarm the operations topic as its action.
 */
export class StreamConsumerAlarms extends Construct {
  /** Iterator age above the threshold: decisions are being made late. */
  readonly iteratorAge: Alarm;
  /** Any invocation error: a handler threw instead of reporting partial batch failures. */
  readonly errors: Alarm;
  /** Throttled invocations in three consecutive 5-minute periods: the shards wait for concurrency. */
  readonly throttles: Alarm;
  /** Any message in the failure queue: Lambda skipped records after retries or record age ran out. */
  readonly failedBatches: Alarm;

  constructor(scope: Construct, id: string, props: StreamConsumerAlarmsProps) {
    super(scope, id);
    const threshold = props.iteratorAgeThreshold ?? Duration.minutes(1);
    const periods = props.iteratorAgeEvaluationPeriods ?? 5;

    this.iteratorAge = new Alarm(this, "IteratorAge", {
      alarmDescription: `Records wait longer than ${threshold.toHumanString()} before processing`,
      metric: props.fn.metric("IteratorAge", { statistic: Stats.MAXIMUM, period: Duration.minutes(1) }),
      threshold: threshold.toMilliseconds(),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.errors = new Alarm(this, "Errors", {
      alarmDescription: "Invocations failed as a whole (handler error, timeout or out of memory)",
      metric: props.fn.metricErrors({ statistic: Stats.SUM, period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.throttles = new Alarm(this, "Throttles", {
      alarmDescription:
        "Invocations throttled for 15 minutes: the consumer waits for concurrency and falls behind",
      metric: props.fn.metricThrottles({ statistic: Stats.SUM, period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.failedBatches = new Alarm(this, "FailedBatches", {
      alarmDescription: "Lambda gave up on records and sent their batch to the failure queue",
      metric: props.failureQueue.metricApproximateNumberOfMessagesVisible({
        statistic: Stats.MAXIMUM,
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
