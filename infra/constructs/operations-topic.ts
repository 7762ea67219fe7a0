import { Stack } from "aws-cdk-lib";
import { Effect, PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { SubscriptionProtocol, Topic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { subscribeByIndex } from "#infra/constructs/topic-subscriptions";

/** Properties of {@link OperationsTopic}. */
export interface OperationsTopicProps {
  /** Key of the topic; its policy must let `cloudwatch.amazonaws.com` use it (`VigilKeys.operations`). */
  readonly encryptionKey: IKey;
  /**
   * Email addresses subscribed to every alarm.
   * @default - none
   */
  readonly emails?: readonly string[];
  /**
   * E.164 phone numbers subscribed to every alarm (SMS).
   * @default - none
   */
  readonly phones?: readonly string[];
}

/**
 * The operations topic, separate from the fraud alert topic: every alarm of the stack notifies it
 * (on ALARM and on OK). KMS-encrypted with the operations key, publishing only over TLS; its policy
 * lets CloudWatch alarms of this account publish. Subscriptions are named by position, never by
 * address.
 */
export class OperationsTopic extends Construct {
  /** The topic. */
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: OperationsTopicProps) {
    super(scope, id);
    this.topic = new Topic(this, "Topic", {
      displayName: "Vigil operations",
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: "CloudWatchAlarms",
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { "aws:SourceAccount": Stack.of(this).account } },
      }),
    );
    subscribeByIndex(this, this.topic, SubscriptionProtocol.EMAIL, props.emails ?? []);
    subscribeByIndex(this, this.topic, SubscriptionProtocol.SMS, props.phones ?? []);
  }
}
