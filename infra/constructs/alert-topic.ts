import type { IKey } from "aws-cdk-lib/aws-kms";
import { SubscriptionFilter, SubscriptionProtocol, Topic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { subscribeByIndex } from "#infra/constructs/topic-subscriptions";
import type { AlertChannel } from "#shared/domain/alerts/alert-policy";
import type { Severity } from "#shared/domain/decision/action";

/** Properties of {@link AlertTopic}. */
export interface AlertTopicProps {
  /** Customer-managed key the topic is encrypted with (publishers need it through SNS). */
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
 * Subscriptions are named by position (`Email0`, `Sms0`), never by address, so no phone number or
 * email address appears in a logical id.
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
    subscribeByIndex(this, this.topic, SubscriptionProtocol.EMAIL, props.emails ?? [], {
      filterPolicy: filter("email", props.emailSeverities ?? ["high", "critical"]),
    });
    subscribeByIndex(this, this.topic, SubscriptionProtocol.SMS, props.phones ?? [], {
      filterPolicy: filter("sms", props.smsSeverities ?? ["critical"]),
    });
  }
}
