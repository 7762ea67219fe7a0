import type { IKey } from "aws-cdk-lib/aws-kms";
import { SubscriptionFilter, Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription, SmsSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import type { AlertChannel } from "#shared/domain/alerts/alert-policy";
import type { Severity } from "#shared/domain/decision/action";

/** Properties of {@link AlertTopic}. */
export interface AlertTopicProps {
  /** Customer-managed key the topic is encrypted with (publishers need encrypt on it). */
  readonly encryptionKey: IKey;
  /**
   * Email addresses to subscribe (each confirms by the link SNS mails).
   * @default - none
   */
  readonly emails?: readonly string[];
  /**
   * Phone numbers (E.164) to subscribe for SMS.
   * @default - none
   */
  readonly phones?: readonly string[];
  /**
   * Severities email subscriptions receive.
   * @default ["high", "critical"]
   */
  readonly emailSeverities?: readonly Severity[];
  /**
   * Severities SMS subscriptions receive.
   * @default ["critical"]
   */
  readonly smsSeverities?: readonly Severity[];
}

/**
 * The alert topic: one SNS topic, KMS-encrypted, publishing only over TLS, that the alert function
 * publishes every notification to with `channel`, `severity`, `action` and `scenario` message
 * attributes. Email subscriptions take `channel = email` notifications of their severities, SMS
 * subscriptions `channel = sms` of theirs (subscription filter policies on message attributes), so
 * each subscriber gets one text in the form made for it and only the severities meant for it.
 */
export class AlertTopic extends Construct {
  /** The topic. */
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    this.topic = new Topic(this, "Topic", {
      displayName: "Vigil alerts",
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    const filter = (channel: AlertChannel, severities: readonly Severity[]) => ({
      channel: SubscriptionFilter.stringFilter({ allowlist: [channel] }),
      severity: SubscriptionFilter.stringFilter({ allowlist: [...severities] }),
    });
    const emailFilter = filter("email", props.emailSeverities ?? ["high", "critical"]);
    const smsFilter = filter("sms", props.smsSeverities ?? ["critical"]);
    for (const email of props.emails ?? [])
      this.topic.addSubscription(new EmailSubscription(email, { filterPolicy: emailFilter }));
    for (const phone of props.phones ?? [])
      this.topic.addSubscription(new SmsSubscription(phone, { filterPolicy: smsFilter }));
  }
}
