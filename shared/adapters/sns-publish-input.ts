import type { MessageAttributeValue } from "@aws-sdk/client-sns";
import { type AlertNotification, notificationAttributes } from "#shared/domain/alerts/alert-notification";

/** The SNS `Publish` input of a notification, as sent to SNS and as written to the local outbox. */
export interface SnsPublishInput {
  readonly TopicArn: string;
  readonly Message: string;
  readonly Subject?: string;
  readonly MessageAttributes: Record<string, MessageAttributeValue>;
}

/** The `Publish` input for a notification: text, subject (email) and the routing attributes. */
export function snsPublishInput(topicArn: string, n: AlertNotification): SnsPublishInput {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(notificationAttributes(n)))
    attributes[name] = { DataType: "String", StringValue: value };
  return {
    TopicArn: topicArn,
    Message: n.text,
    ...(n.subject !== undefined ? { Subject: n.subject } : {}),
    MessageAttributes: attributes,
  };
}
