import { Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { StreamConsumerFunction } from "#infra/constructs/stream-consumer-function";
import { VigilData } from "#infra/constructs/vigil-data";
import type { VigilSettings } from "#infra/settings";
import { ENV, FUNCTIONS } from "#shared/resources";

/** Properties of {@link VigilStack}. */
export interface VigilStackProps extends StackProps {
  /** Validated deployment settings (from context). */
  readonly settings: VigilSettings;
}

/**
 * The whole Vigil deployment in one stack: the stateful layer (`Data`: key, streams, tables, failure
 * queues) and the stateless consumers built on it (`Score`: function, event source mapping, alarms).
 * One stack keeps deploys atomic and avoids CloudFormation exports between data and compute; the
 * two layers stay separate construct subtrees, so splitting them into stacks later is mechanical.
 */
export class VigilStack extends Stack {
  /** The stateful layer. */
  readonly data: VigilData;
  /** The score function: events stream in, decisions and windowed state out. */
  readonly score: StreamConsumerFunction;

  constructor(scope: Construct, id: string, props: VigilStackProps) {
    super(scope, id, props);
    const { settings } = props;

    this.data = new VigilData(this, "Data", {
      tableDeletionProtection: settings.tableDeletionProtection,
    });

    this.score = new StreamConsumerFunction(this, "Score", {
      definition: FUNCTIONS.score,
      streams: this.data.streams,
      tables: this.data.tables,
      failureQueue: this.data.failureQueues.score,
      environment: { [ENV.decisionRetentionDays]: String(settings.decisionRetentionDays) },
      logRetention: settings.logRetention,
      logLevel: settings.logLevel,
    });
  }
}
