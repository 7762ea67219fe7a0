import { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Node } from "constructs";
import { z } from "zod";
import type { VigilLogLevel } from "#infra/constructs/vigil-function";
import { type AlertPolicy, parseAlertPolicy } from "#shared/domain/alerts/alert-policy";
import { SEVERITIES, type Severity } from "#shared/domain/decision/action";

/** Context keys the Vigil app reads (`cdk deploy -c vigil:logLevel=DEBUG`, or `context` in cdk.json). */
export const CONTEXT_KEYS = {
  stackName: "vigil:stackName",
  logRetentionDays: "vigil:logRetentionDays",
  logLevel: "vigil:logLevel",
  decisionRetentionDays: "vigil:decisionRetentionDays",
  tableDeletionProtection: "vigil:tableDeletionProtection",
  /** Comma-separated email addresses subscribed to alerts (`-c alertEmails=a@x.com,b@y.com`). */
  alertEmails: "alertEmails",
  /** Comma-separated E.164 phone numbers subscribed to SMS alerts (`-c alertPhones=+15550100`). */
  alertPhones: "alertPhones",
  /** Severities SMS subscriptions receive (comma-separated). */
  alertSmsSeverities: "vigil:alertSmsSeverities",
  /** Severities email subscriptions receive (comma-separated). */
  alertEmailSeverities: "vigil:alertEmailSeverities",
  /** The alert policy as JSON (docs/alerts.md); default: block critical, challenge_face high. */
  alertPolicy: "vigil:alertPolicy",
  /** OpenSearch data node instance type. */
  auditInstanceType: "vigil:auditInstanceType",
  /** OpenSearch data nodes; 2 or more turns on zone awareness and one replica. */
  auditDataNodes: "vigil:auditDataNodes",
  /** EBS gp3 volume per data node, GiB. */
  auditVolumeGiB: "vigil:auditVolumeGiB",
  /** Days an audit index is kept (ISM). */
  auditRetentionDays: "vigil:auditRetentionDays",
  /** Comma-separated IAM role ARNs allowed to read the audit indices (reports, analysts). */
  auditReaderRoleArns: "vigil:auditReaderRoleArns",
} as const;

/** Deployment settings of the Vigil app, validated. */
export interface VigilSettings {
  /** CloudFormation stack name. */
  readonly stackName: string;
  /** Retention of every function's log group. */
  readonly logRetention: RetentionDays;
  /** Lowest level every function logs. */
  readonly logLevel: VigilLogLevel;
  /** Days a decision item lives before DynamoDB TTL may delete it. */
  readonly decisionRetentionDays: number;
  /** Whether DynamoDB refuses to delete the tables. */
  readonly tableDeletionProtection: boolean;
  /** Alert subscriptions and routing. */
  readonly alerts: {
    readonly emails: readonly string[];
    readonly phones: readonly string[];
    readonly smsSeverities: readonly Severity[];
    readonly emailSeverities: readonly Severity[];
    /** The policy's JSON text as given (validated), or undefined for the default policy. */
    readonly policyJson: string | undefined;
    readonly policy: AlertPolicy;
  };
  /** The OpenSearch audit domain. */
  readonly audit: {
    readonly instanceType: string;
    readonly dataNodes: number;
    readonly volumeGiB: number;
    readonly retentionDays: number;
    readonly readerRoleArns: readonly string[];
  };
}

const RETENTION_DAYS = new Set<number>(
  Object.values(RetentionDays).filter((v): v is number => typeof v === "number"),
);

// Context from `-c key=value` arrives as a string, from cdk.json as JSON: accept both.
const booleanLike = z.union([z.boolean(), z.enum(["true", "false"]).transform((s) => s === "true")]);

/** A comma-separated context value as a list (empty entries dropped). */
const entries = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(",")).map((s) => s.trim()).filter((s) => s !== ""));
const list = (pattern: RegExp, what: string) => entries.pipe(z.array(z.string().regex(pattern, what)));
const severities = entries.pipe(z.array(z.enum(SEVERITIES)).min(1));

const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;
const E164 = /^\+[1-9][0-9]{6,14}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]+$/;

const schema = z.object({
  [CONTEXT_KEYS.stackName]: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, "letters, digits and hyphens, starting with a letter")
    .default("Vigil"),
  [CONTEXT_KEYS.logRetentionDays]: z.coerce
    .number()
    .int()
    .refine(
      (days) => RETENTION_DAYS.has(days),
      "a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ...)",
    )
    .default(30),
  [CONTEXT_KEYS.logLevel]: z.enum(["DEBUG", "INFO", "WARN", "ERROR"]).default("INFO"),
  // The score function accepts at most ten years (functions/score/config.ts).
  [CONTEXT_KEYS.decisionRetentionDays]: z.coerce.number().int().positive().max(3650).default(90),
  [CONTEXT_KEYS.tableDeletionProtection]: booleanLike.default(true),
  [CONTEXT_KEYS.alertEmails]: list(EMAIL, "an email address").default([]),
  [CONTEXT_KEYS.alertPhones]: list(E164, "an E.164 phone number (+ and digits)").default([]),
  [CONTEXT_KEYS.alertSmsSeverities]: severities.default(["critical"]),
  [CONTEXT_KEYS.alertEmailSeverities]: severities.default(["high", "critical"]),
  [CONTEXT_KEYS.alertPolicy]: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .transform((v) => (typeof v === "string" ? v : JSON.stringify(v)))
    .optional(),
  [CONTEXT_KEYS.auditInstanceType]: z
    .string()
    .regex(/^[a-z0-9]+\.[a-z0-9]+\.search$/, "an OpenSearch instance type like r7g.large.search")
    .default("t3.small.search"),
  [CONTEXT_KEYS.auditDataNodes]: z.coerce.number().int().min(1).max(80).default(1),
  [CONTEXT_KEYS.auditVolumeGiB]: z.coerce.number().int().min(10).max(16_384).default(10),
  [CONTEXT_KEYS.auditRetentionDays]: z.coerce.number().int().min(1).max(3650).default(90),
  [CONTEXT_KEYS.auditReaderRoleArns]: list(ROLE_ARN, "an IAM role ARN").default([]),
});

/** Reads the Vigil context keys from a construct's node; throws naming every invalid value. */
export function readSettings(node: Node): VigilSettings {
  const raw = Object.fromEntries(
    Object.values(CONTEXT_KEYS).map((key) => [key, node.tryGetContext(key) ?? undefined]),
  );
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid Vigil context: ${problems}`);
  }
  const s = parsed.data;
  return {
    stackName: s[CONTEXT_KEYS.stackName],
    // RETENTION_DAYS holds only RetentionDays members, checked above.
    logRetention: s[CONTEXT_KEYS.logRetentionDays] as RetentionDays,
    logLevel: s[CONTEXT_KEYS.logLevel],
    decisionRetentionDays: s[CONTEXT_KEYS.decisionRetentionDays],
    tableDeletionProtection: s[CONTEXT_KEYS.tableDeletionProtection],
    alerts: {
      emails: s[CONTEXT_KEYS.alertEmails],
      phones: s[CONTEXT_KEYS.alertPhones],
      smsSeverities: s[CONTEXT_KEYS.alertSmsSeverities],
      emailSeverities: s[CONTEXT_KEYS.alertEmailSeverities],
      policyJson: s[CONTEXT_KEYS.alertPolicy],
      policy: alertPolicy(s[CONTEXT_KEYS.alertPolicy]),
    },
    audit: {
      instanceType: s[CONTEXT_KEYS.auditInstanceType],
      dataNodes: s[CONTEXT_KEYS.auditDataNodes],
      volumeGiB: s[CONTEXT_KEYS.auditVolumeGiB],
      retentionDays: s[CONTEXT_KEYS.auditRetentionDays],
      readerRoleArns: s[CONTEXT_KEYS.auditReaderRoleArns],
    },
  };
}

/** The alert policy from context, validated at synth so a bad policy never deploys. */
function alertPolicy(json: string | undefined): AlertPolicy {
  try {
    return parseAlertPolicy(json);
  } catch (error) {
    throw new Error(`invalid Vigil context: ${CONTEXT_KEYS.alertPolicy}: ${(error as Error).message}`);
  }
}
