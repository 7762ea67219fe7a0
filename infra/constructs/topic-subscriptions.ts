import {
  type ITopic,
  Subscription,
  type SubscriptionFilter,
  SubscriptionProtocol,
} from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";

/** Options of {@link subscribeByIndex}. */
export interface SubscribeOptions {
  /** Message-attribute filter policy of every subscription. */
  readonly filterPolicy?: Readonly<Record<string, SubscriptionFilter>>;
}

/**
 * Subscribes each endpoint (email address or E.164 phone number) to a topic, naming the subscription
 * by protocol and position (`Email0`, `Sms1`): CDK's `EmailSubscription`/`SmsSubscription` would put
 * the address or number into the logical id, and so into templates, change sets and CloudTrail.
 */
export function subscribeByIndex(
  scope: Construct,
  topic: ITopic,
  protocol: SubscriptionProtocol.EMAIL | SubscriptionProtocol.SMS,
  endpoints: readonly string[],
  options: SubscribeOptions = {},
): Subscription[] {
  const prefix = protocol === SubscriptionProtocol.EMAIL ? "Email" : "Sms";
  return endpoints.map(
    (endpoint, index) =>
      new Subscription(scope, `${prefix}${index}`, {
        topic,
        protocol,
        endpoint,
        ...(options.filterPolicy ? { filterPolicy: { ...options.filterPolicy } } : {}),
      }),
  );
}
