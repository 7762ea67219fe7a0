import { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Node } from "constructs";
import { z } from "zod";
import type { VigilLogLevel } from "#infra/constructs/vigil-function";
import {
  type AuditSink,
  PROFILE_NAMES,
  PROFILES,
  type ProfileName,
  type StreamMode,
  type TableBilling,
} from "#infra/profiles";
import { entriesOf, mapRecord } from "#infra/records";
import { type StreamConsumerKey, streamConsumerEntries } from "#infra/stream-consumers";
import { type AlertPolicy, parseAlertPolicy } from "#shared/domain/alerts/alert-policy";
import { SEVERITIES, type Severity } from "#shared/domain/decision/action";
import { STREAMS, type StreamKey } from "#shared/resources";

/** Context keys the Vigil app reads (`cdk deploy -c vigil:profile=prod`, or `context` in cdk.json). */
export const CONTEXT_KEYS = {
  /** Deployment profile: `dev` (default) or `prod` (`infra/profiles.ts`). */
  profile: "vigil:profile",
  stackName: "vigil:stackName",
  /** Account to deploy to; wins over the profile's pinned environment and the CLI's credentials. */
  account: "vigil:account",
  /** Region to deploy to; wins over the profile's pinned environment and the CLI's region. */
  region: "vigil:region",
  /** Pinned account and region per profile, JSON: `{"prod": {"account": "…", "region": "eu-central-1"}}`. */
  environments: "vigil:environments",
  /** Cost-allocation tags on top of the defaults, JSON object or `key=value,key=value`. */
  tags: "vigil:tags",
  /** CloudWatch namespace the functions publish metrics to; default `Vigil/<stack name>`. */
  metricsNamespace: "vigil:metricsNamespace",
  logRetentionDays: "vigil:logRetentionDays",
  logLevel: "vigil:logLevel",
  decisionRetentionDays: "vigil:decisionRetentionDays",
  /** Whether stateful resources survive `cdk destroy` (RETAIN) or go with the stack (DESTROY). */
  retainData: "vigil:retainData",
  tableDeletionProtection: "vigil:tableDeletionProtection",
  pointInTimeRecovery: "vigil:pointInTimeRecovery",
  /** `onDemand` or `provisioned`. */
  streamMode: "vigil:streamMode",
  eventsShards: "vigil:eventsShards",
  decisionsShards: "vigil:decisionsShards",
  streamRetentionHours: "vigil:streamRetentionHours",
  /** `onDemand` or `provisioned` (with auto scaling from the units below to ten times them). */
  tableBilling: "vigil:tableBilling",
  tableReadUnits: "vigil:tableReadUnits",
  tableWriteUnits: "vigil:tableWriteUnits",
  scoreMemoryMiB: "vigil:scoreMemoryMiB",
  alertMemoryMiB: "vigil:alertMemoryMiB",
  auditMemoryMiB: "vigil:auditMemoryMiB",
  scoreBatchSize: "vigil:scoreBatchSize",
  alertBatchSize: "vigil:alertBatchSize",
  auditBatchSize: "vigil:auditBatchSize",
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
  /** Where the audit trail goes: `opensearch` or `none`. */
  audit: "vigil:audit",
  /** OpenSearch data node instance type. */
  auditInstanceType: "vigil:auditInstanceType",
  /** OpenSearch data nodes; 2 or more turn on zone awareness and one replica. */
  auditDataNodes: "vigil:auditDataNodes",
  /** Dedicated master nodes: 0, 3 or 5. */
  auditMasterNodes: "vigil:auditMasterNodes",
  auditMasterInstanceType: "vigil:auditMasterInstanceType",
  /** EBS gp3 volume per data node, GiB. */
  auditVolumeGiB: "vigil:auditVolumeGiB",
  /** Whether the domain lives in a VPC of the stack. */
  auditVpc: "vigil:auditVpc",
  /** Availability zones the data nodes spread over (1, 2 or 3). */
  auditAvailabilityZones: "vigil:auditAvailabilityZones",
  /** Days an audit index is kept (ISM). */
  auditRetentionDays: "vigil:auditRetentionDays",
  /** Comma-separated IAM role ARNs allowed to read the audit indices (reports, analysts). */
  auditReaderRoleArns: "vigil:auditReaderRoleArns",
  /** Comma-separated email addresses subscribed to the operations topic (every alarm). */
  opsEmails: "vigil:opsEmails",
  /** Comma-separated E.164 phone numbers subscribed to the operations topic. */
  opsPhones: "vigil:opsPhones",
  /** The account's SNS SMS monthly spend limit in USD (`aws sns set-sms-attributes`); alarmed at 80%. */
  smsMonthlySpendLimitUSD: "vigil:smsMonthlySpendLimitUSD",
  /** Percent of received events quarantined over 15 minutes above which the quarantine alarm fires. */
  quarantineRateAlarmPercent: "vigil:quarantineRateAlarmPercent",
  /** Comma-separated IAM ARNs that administer the KMS keys; default the account (IAM decides). */
  keyAdminArns: "vigil:keyAdminArns",
  /** Comma-separated IAM ARNs allowed to assume the operator and audit reader roles; default the account. */
  operatorPrincipalArns: "vigil:operatorPrincipalArns",
} as const;

/** Resolved tuning of one stream consumer (profile overlay on its `FUNCTIONS` definition). */
export interface ConsumerSettings {
  readonly memoryMiB: number;
  readonly batchSize: number;
  /** The definition's maximum record age, capped at the source stream's retention. */
  readonly maxRecordAgeSeconds: number;
}

/** Deployment settings of the Vigil app: the profile with every context override applied, validated. */
export interface VigilSettings {
  readonly profile: ProfileName;
  /** CloudFormation stack name. */
  readonly stackName: string;
  /** Pinned account and region (either may be undefined: the CLI's credentials decide). */
  readonly env: { readonly account?: string; readonly region?: string };
  /** Tags on the stack, which CloudFormation propagates to every resource that takes tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** CloudWatch namespace of the functions' metrics. */
  readonly metricsNamespace: string;
  /** Retention of every log group. */
  readonly logRetention: RetentionDays;
  /** Lowest level every function logs. */
  readonly logLevel: VigilLogLevel;
  /** Days a decision item lives before DynamoDB TTL may delete it. */
  readonly decisionRetentionDays: number;
  readonly data: {
    readonly retain: boolean;
    readonly tableDeletionProtection: boolean;
    readonly pointInTimeRecovery: boolean;
  };
  readonly streams: {
    readonly mode: StreamMode;
    readonly shards: Readonly<Record<StreamKey, number>>;
    readonly retentionHours: number;
  };
  readonly tables: {
    readonly billing: TableBilling;
    readonly readUnits: number;
    readonly writeUnits: number;
  };
  /** Stream consumers that are deployed (audit only with an audit domain), with their tuning. */
  readonly consumers: Readonly<Partial<Record<StreamConsumerKey, ConsumerSettings>>>;
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
  /** The audit trail. */
  readonly audit: {
    readonly sink: AuditSink;
    readonly instanceType: string;
    readonly dataNodes: number;
    readonly masterNodes: number;
    readonly masterInstanceType: string;
    readonly volumeGiB: number;
    readonly vpc: boolean;
    readonly availabilityZones: 1 | 2 | 3;
    readonly retentionDays: number;
    readonly readerRoleArns: readonly string[];
  };
  /** The operations topic and the thresholds of the business alarms. */
  readonly operations: {
    readonly emails: readonly string[];
    readonly phones: readonly string[];
    readonly smsMonthlySpendLimitUSD: number;
    readonly quarantineRateAlarmPercent: number;
  };
  /** Who administers the keys and who may assume the human roles (undefined: the account). */
  readonly access: {
    readonly keyAdminArns: readonly string[];
    readonly operatorPrincipalArns: readonly string[];
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
const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** A JSON object given as JSON text (`-c`) or as an object (cdk.json). */
const jsonObject = z.union([
  z.record(z.string(), z.unknown()),
  z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "not valid JSON" });
      return z.NEVER;
    }
  }),
]);

const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;
const E164 = /^\+[1-9][0-9]{6,14}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]+$/;
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+)$/;
const ACCOUNT = /^[0-9]{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]$/;
const INSTANCE_TYPE = /^[a-z0-9]+\.[a-z0-9]+\.search$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

const environment = z.object({
  account: z.string().regex(ACCOUNT, "a 12-digit account id").optional(),
  region: z.string().regex(REGION, "a region like eu-central-1").optional(),
});

const tags = z
  .union([
    z.record(z.string(), z.string()),
    z.string().transform((text, ctx) => {
      const trimmed = text.trim();
      if (trimmed.startsWith("{")) {
        try {
          return JSON.parse(trimmed) as unknown;
        } catch {
          ctx.addIssue({ code: "custom", message: "not valid JSON" });
          return z.NEVER;
        }
      }
      const out: Record<string, string> = {};
      for (const pair of trimmed.split(",").filter((p) => p.trim() !== "")) {
        const at = pair.indexOf("=");
        if (at <= 0) {
          ctx.addIssue({ code: "custom", message: `"${pair}" is not key=value` });
          return z.NEVER;
        }
        out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
      }
      return out;
    }),
  ])
  .pipe(
    z.record(
      z.string().regex(TAG_KEY, "a tag key (letters, digits, spaces and _.:/=+-@)"),
      z.string().regex(TAG_VALUE, "a tag value"),
    ),
  );

/** Every key optional: what is absent comes from the profile. */
const schema = z.object({
  [CONTEXT_KEYS.profile]: z.enum(PROFILE_NAMES).default("dev"),
  [CONTEXT_KEYS.stackName]: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, "letters, digits and hyphens, starting with a letter")
    .default("Vigil"),
  [CONTEXT_KEYS.account]: z.coerce.string().regex(ACCOUNT, "a 12-digit account id").optional(),
  [CONTEXT_KEYS.region]: z.string().regex(REGION, "a region like eu-central-1").optional(),
  [CONTEXT_KEYS.environments]: jsonObject
    .pipe(z.partialRecord(z.enum(PROFILE_NAMES), environment))
    .optional(),
  [CONTEXT_KEYS.tags]: tags.optional(),
  [CONTEXT_KEYS.metricsNamespace]: z
    .string()
    .regex(/^[A-Za-z0-9.\-_/#:]{1,255}$/, "a CloudWatch namespace (letters, digits and .-_/#:)")
    .refine((ns) => !ns.startsWith("AWS/"), "the AWS/ prefix is reserved")
    .optional(),
  [CONTEXT_KEYS.logRetentionDays]: z.coerce
    .number()
    .int()
    .refine(
      (days) => RETENTION_DAYS.has(days),
      "a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ...)",
    )
    .optional(),
  [CONTEXT_KEYS.logLevel]: z.enum(["DEBUG", "INFO", "WARN", "ERROR"]).default("INFO"),
  // The score function accepts at most ten years (functions/score/config.ts).
  [CONTEXT_KEYS.decisionRetentionDays]: integer(1, 3650).default(90),
  [CONTEXT_KEYS.retainData]: booleanLike.optional(),
  [CONTEXT_KEYS.tableDeletionProtection]: booleanLike.optional(),
  [CONTEXT_KEYS.pointInTimeRecovery]: booleanLike.optional(),
  [CONTEXT_KEYS.streamMode]: z.enum(["onDemand", "provisioned"]).optional(),
  [CONTEXT_KEYS.eventsShards]: integer(1, 500).optional(),
  [CONTEXT_KEYS.decisionsShards]: integer(1, 500).optional(),
  // Kinesis keeps records 24 hours to 365 days.
  [CONTEXT_KEYS.streamRetentionHours]: integer(24, 8760).optional(),
  [CONTEXT_KEYS.tableBilling]: z.enum(["onDemand", "provisioned"]).optional(),
  [CONTEXT_KEYS.tableReadUnits]: integer(1, 40_000).optional(),
  [CONTEXT_KEYS.tableWriteUnits]: integer(1, 40_000).optional(),
  // Lambda memory: 128 MB to 10 GB.
  [CONTEXT_KEYS.scoreMemoryMiB]: integer(128, 10_240).optional(),
  [CONTEXT_KEYS.alertMemoryMiB]: integer(128, 10_240).optional(),
  [CONTEXT_KEYS.auditMemoryMiB]: integer(128, 10_240).optional(),
  // Kinesis event source mappings take 1 to 10,000 records a batch.
  [CONTEXT_KEYS.scoreBatchSize]: integer(1, 10_000).optional(),
  [CONTEXT_KEYS.alertBatchSize]: integer(1, 10_000).optional(),
  [CONTEXT_KEYS.auditBatchSize]: integer(1, 10_000).optional(),
  [CONTEXT_KEYS.alertEmails]: list(EMAIL, "an email address").default([]),
  [CONTEXT_KEYS.alertPhones]: list(E164, "an E.164 phone number (+ and digits)").default([]),
  [CONTEXT_KEYS.alertSmsSeverities]: severities.default(["critical"]),
  [CONTEXT_KEYS.alertEmailSeverities]: severities.default(["high", "critical"]),
  [CONTEXT_KEYS.alertPolicy]: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .transform((v) => (typeof v === "string" ? v : JSON.stringify(v)))
    .optional(),
  [CONTEXT_KEYS.audit]: z.enum(["opensearch", "none"]).optional(),
  [CONTEXT_KEYS.auditInstanceType]: z
    .string()
    .regex(INSTANCE_TYPE, "an OpenSearch instance type like r7g.large.search")
    .optional(),
  [CONTEXT_KEYS.auditDataNodes]: integer(1, 80).optional(),
  [CONTEXT_KEYS.auditMasterNodes]: z.coerce
    .number()
    .int()
    .refine((n) => n === 0 || n === 3 || n === 5, "0, 3 or 5 (an odd quorum)")
    .optional(),
  [CONTEXT_KEYS.auditMasterInstanceType]: z
    .string()
    .regex(INSTANCE_TYPE, "an OpenSearch instance type like m7g.large.search")
    .optional(),
  [CONTEXT_KEYS.auditVolumeGiB]: integer(10, 16_384).optional(),
  [CONTEXT_KEYS.auditVpc]: booleanLike.optional(),
  [CONTEXT_KEYS.auditAvailabilityZones]: z.coerce
    .number()
    .int()
    .refine((n): n is 1 | 2 | 3 => n === 1 || n === 2 || n === 3, "1, 2 or 3")
    .optional(),
  [CONTEXT_KEYS.auditRetentionDays]: integer(1, 3650).default(90),
  [CONTEXT_KEYS.auditReaderRoleArns]: list(ROLE_ARN, "an IAM role ARN").default([]),
  [CONTEXT_KEYS.opsEmails]: list(EMAIL, "an email address").default([]),
  [CONTEXT_KEYS.opsPhones]: list(E164, "an E.164 phone number (+ and digits)").default([]),
  [CONTEXT_KEYS.smsMonthlySpendLimitUSD]: z.coerce.number().positive().max(1_000_000).default(1),
  [CONTEXT_KEYS.quarantineRateAlarmPercent]: z.coerce.number().positive().max(100).default(5),
  [CONTEXT_KEYS.keyAdminArns]: list(PRINCIPAL_ARN, "an IAM account, role or user ARN").default([]),
  [CONTEXT_KEYS.operatorPrincipalArns]: list(PRINCIPAL_ARN, "an IAM account, role or user ARN").default([]),
});

type Parsed = z.infer<typeof schema>;

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
  const settings = resolve(parsed.data);
  const problems = inconsistencies(settings);
  if (problems.length > 0) throw new Error(`invalid Vigil context: ${problems.join("; ")}`);
  return settings;
}

/** The profile named by the context with every given override applied. */
function resolve(s: Parsed): VigilSettings {
  const profileName = s[CONTEXT_KEYS.profile];
  const profile = PROFILES[profileName];
  const stackName = s[CONTEXT_KEYS.stackName];
  const pinned = s[CONTEXT_KEYS.environments]?.[profileName] ?? {};
  const retentionHours = s[CONTEXT_KEYS.streamRetentionHours] ?? profile.streams.retentionHours;
  const audit = s[CONTEXT_KEYS.audit] ?? profile.audit.sink;

  const shardOverride: Record<StreamKey, number | undefined> = {
    events: s[CONTEXT_KEYS.eventsShards],
    decisions: s[CONTEXT_KEYS.decisionsShards],
  };
  const consumerOverride: Record<StreamConsumerKey, { memoryMiB?: number; batchSize?: number }> = {
    score: { memoryMiB: s[CONTEXT_KEYS.scoreMemoryMiB], batchSize: s[CONTEXT_KEYS.scoreBatchSize] },
    alert: { memoryMiB: s[CONTEXT_KEYS.alertMemoryMiB], batchSize: s[CONTEXT_KEYS.alertBatchSize] },
    audit: { memoryMiB: s[CONTEXT_KEYS.auditMemoryMiB], batchSize: s[CONTEXT_KEYS.auditBatchSize] },
    archive: {},
  };
  const consumers: Partial<Record<StreamConsumerKey, ConsumerSettings>> = {};
  for (const [key, definition] of streamConsumerEntries()) {
    if (key === "audit" && audit === "none") continue;
    const source = definition.eventSource;
    consumers[key] = {
      memoryMiB: consumerOverride[key].memoryMiB ?? profile.functions[key]?.memoryMiB ?? definition.memoryMiB,
      batchSize: consumerOverride[key].batchSize ?? profile.functions[key]?.batchSize ?? source.batchSize,
      // A record older than its stream's retention is gone: a longer maximum age would only hide that.
      maxRecordAgeSeconds: Math.min(source.maxRecordAgeSeconds, retentionHours * 3600),
    };
  }

  return {
    profile: profileName,
    stackName,
    env: {
      account: s[CONTEXT_KEYS.account] ?? pinned.account,
      region: s[CONTEXT_KEYS.region] ?? pinned.region,
    },
    tags: {
      project: "vigil",
      environment: profileName,
      "vigil-stack": stackName,
      ...s[CONTEXT_KEYS.tags],
    },
    metricsNamespace: s[CONTEXT_KEYS.metricsNamespace] ?? `Vigil/${stackName}`,
    // RETENTION_DAYS holds only RetentionDays members, checked above; the profiles use such values.
    logRetention: (s[CONTEXT_KEYS.logRetentionDays] ?? profile.logRetentionDays) as RetentionDays,
    logLevel: s[CONTEXT_KEYS.logLevel],
    decisionRetentionDays: s[CONTEXT_KEYS.decisionRetentionDays],
    data: {
      retain: s[CONTEXT_KEYS.retainData] ?? profile.retainData,
      tableDeletionProtection: s[CONTEXT_KEYS.tableDeletionProtection] ?? profile.tableDeletionProtection,
      pointInTimeRecovery: s[CONTEXT_KEYS.pointInTimeRecovery] ?? profile.pointInTimeRecovery,
    },
    streams: {
      mode: s[CONTEXT_KEYS.streamMode] ?? profile.streams.mode,
      shards: mapRecord(
        STREAMS,
        (definition, key) => shardOverride[key] ?? profile.streams.shards[key] ?? definition.shardCount,
      ),
      retentionHours,
    },
    tables: {
      billing: s[CONTEXT_KEYS.tableBilling] ?? profile.tables.billing,
      readUnits: s[CONTEXT_KEYS.tableReadUnits] ?? profile.tables.readUnits,
      writeUnits: s[CONTEXT_KEYS.tableWriteUnits] ?? profile.tables.writeUnits,
    },
    consumers,
    alerts: {
      emails: s[CONTEXT_KEYS.alertEmails],
      phones: s[CONTEXT_KEYS.alertPhones],
      smsSeverities: s[CONTEXT_KEYS.alertSmsSeverities],
      emailSeverities: s[CONTEXT_KEYS.alertEmailSeverities],
      policyJson: s[CONTEXT_KEYS.alertPolicy],
      policy: alertPolicy(s[CONTEXT_KEYS.alertPolicy]),
    },
    audit: {
      sink: audit,
      instanceType: s[CONTEXT_KEYS.auditInstanceType] ?? profile.audit.instanceType,
      dataNodes: s[CONTEXT_KEYS.auditDataNodes] ?? profile.audit.dataNodes,
      masterNodes: s[CONTEXT_KEYS.auditMasterNodes] ?? profile.audit.masterNodes,
      masterInstanceType: s[CONTEXT_KEYS.auditMasterInstanceType] ?? profile.audit.masterInstanceType,
      volumeGiB: s[CONTEXT_KEYS.auditVolumeGiB] ?? profile.audit.volumeGiB,
      vpc: s[CONTEXT_KEYS.auditVpc] ?? profile.audit.vpc,
      availabilityZones:
        (s[CONTEXT_KEYS.auditAvailabilityZones] as 1 | 2 | 3 | undefined) ?? profile.audit.availabilityZones,
      retentionDays: s[CONTEXT_KEYS.auditRetentionDays],
      readerRoleArns: s[CONTEXT_KEYS.auditReaderRoleArns],
    },
    operations: {
      emails: s[CONTEXT_KEYS.opsEmails],
      phones: s[CONTEXT_KEYS.opsPhones],
      smsMonthlySpendLimitUSD: s[CONTEXT_KEYS.smsMonthlySpendLimitUSD],
      quarantineRateAlarmPercent: s[CONTEXT_KEYS.quarantineRateAlarmPercent],
    },
    access: {
      keyAdminArns: s[CONTEXT_KEYS.keyAdminArns],
      operatorPrincipalArns: s[CONTEXT_KEYS.operatorPrincipalArns],
    },
  };
}

/** Combinations that each value alone allows but that cannot deploy together. */
function inconsistencies(s: VigilSettings): string[] {
  const problems: string[] = [];
  const { audit } = s;
  if (audit.sink === "opensearch") {
    if (audit.availabilityZones > 1 && audit.dataNodes % audit.availabilityZones !== 0)
      problems.push(
        `${CONTEXT_KEYS.auditDataNodes}: ${audit.dataNodes} data nodes cannot spread evenly over ${audit.availabilityZones} zones`,
      );
    if (audit.availabilityZones > 1 && audit.dataNodes < 2)
      problems.push(`${CONTEXT_KEYS.auditAvailabilityZones}: zone awareness needs at least 2 data nodes`);
    if (audit.vpc && audit.availabilityZones === 1 && audit.dataNodes > 1)
      problems.push(
        `${CONTEXT_KEYS.auditAvailabilityZones}: several data nodes in a VPC should spread over zones`,
      );
  } else if (audit.readerRoleArns.length > 0) {
    problems.push(
      `${CONTEXT_KEYS.auditReaderRoleArns}: there is no audit domain to read (${CONTEXT_KEYS.audit}=none)`,
    );
  }
  for (const [key, consumer] of entriesOf(s.consumers)) {
    if (consumer.maxRecordAgeSeconds < 60)
      problems.push(`${key}: maximum record age below Lambda's minimum of 60 seconds`);
  }
  return problems;
}

/** The alert policy from context, validated at synth so a bad policy never deploys. */
function alertPolicy(json: string | undefined): AlertPolicy {
  try {
    return parseAlertPolicy(json);
  } catch (error) {
    throw new Error(`invalid Vigil context: ${CONTEXT_KEYS.alertPolicy}: ${(error as Error).message}`);
  }
}
