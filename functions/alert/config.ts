import * as z from "zod";
import { type AlertPolicy, parseAlertPolicy } from "#shared/domain/alerts/alert-policy";
import { ENV, TABLES } from "#shared/resources";

const schema = z.object({
  [TABLES.alerts.envVar]: z.string().min(1),
  [ENV.alertTopicArn]: z.string().startsWith("arn:").optional(),
  [ENV.alertOutboxDir]: z.string().min(1).optional(),
  [ENV.alertPolicy]: z.string().optional(),
});

/** Where alerts go: an SNS topic (AWS, LocalStack) or the local outbox directory. */
export type AlertTarget =
  | { readonly kind: "sns"; readonly topicArn: string }
  | { readonly kind: "outbox"; readonly dir: string };

/** What the alert function needs from its environment, validated once at cold start. */
export interface AlertConfig {
  readonly alertsTable: string;
  readonly target: AlertTarget;
  readonly policy: AlertPolicy;
  /** TTL of delivery items: the policy's maximum alert age plus a day. */
  readonly deliveryRetentionSeconds: number;
}

/** Reads and validates the alert function's configuration; throws naming every bad variable. */
export function loadAlertConfig(env: Readonly<Record<string, string | undefined>>): AlertConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`alert function configuration is invalid: ${problems}`);
  }
  const c = parsed.data;
  const topicArn = c[ENV.alertTopicArn];
  const dir = c[ENV.alertOutboxDir];
  if ((topicArn === undefined) === (dir === undefined))
    throw new Error(
      `alert function configuration is invalid: set exactly one of ${ENV.alertTopicArn} and ${ENV.alertOutboxDir}`,
    );
  const policy = parseAlertPolicy(c[ENV.alertPolicy]);
  return {
    alertsTable: c[TABLES.alerts.envVar],
    target: topicArn !== undefined ? { kind: "sns", topicArn } : { kind: "outbox", dir: dir as string },
    policy,
    deliveryRetentionSeconds: policy.maxAgeSeconds + 86_400,
  };
}
