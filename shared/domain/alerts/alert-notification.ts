import type { AlertChannel } from "#shared/domain/alerts/alert-policy";
import { formatEmailBody, formatEmailSubject, formatSms } from "#shared/domain/alerts/format-alert";
import type { Action, Severity } from "#shared/domain/decision/action";
import type { DecisionMessage } from "#shared/domain/decision-message/index";
import type { EventType } from "#shared/domain/event/index";

/** One alert message on one channel: what the publisher sends, and its routing attributes. */
export interface AlertNotification {
  /** `<eventId>:<channel>`: one notification per decision and channel. */
  readonly id: string;
  readonly eventId: string;
  readonly channel: AlertChannel;
  readonly severity: Severity;
  readonly action: Action;
  /** The event type whose policy decided. */
  readonly scenario: EventType;
  /** Email only. */
  readonly subject?: string;
  readonly text: string;
}

/** The id of the notification of a decision on a channel. */
export function notificationId(eventId: string, channel: AlertChannel): string {
  return `${eventId}:${channel}`;
}

/** The notification of a decision on a channel. */
export function buildNotification(
  message: DecisionMessage,
  channel: AlertChannel,
  severity: Severity,
  suppressedBefore: number,
): AlertNotification {
  const content = { message, severity, suppressedBefore };
  const common = {
    id: notificationId(message.eventId, channel),
    eventId: message.eventId,
    channel,
    severity,
    action: message.action,
    scenario: message.type,
  };
  return channel === "sms"
    ? { ...common, text: formatSms(content) }
    : { ...common, subject: formatEmailSubject(content), text: formatEmailBody(content) };
}

/**
 * The attributes subscriptions filter on (SNS message attributes, all strings): `severity`,
 * `action`, `scenario`, `channel`. The CDK subscriptions filter on `channel` and `severity`.
 */
export function notificationAttributes(n: AlertNotification): Readonly<Record<string, string>> {
  return { severity: n.severity, action: n.action, scenario: n.scenario, channel: n.channel };
}
