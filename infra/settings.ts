import { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Node } from "constructs";
import { z } from "zod";
import type { VigilLogLevel } from "#infra/constructs/vigil-function";

/** Context keys the Vigil app reads (`cdk deploy -c vigil:logLevel=DEBUG`, or `context` in cdk.json). */
export const CONTEXT_KEYS = {
  stackName: "vigil:stackName",
  logRetentionDays: "vigil:logRetentionDays",
  logLevel: "vigil:logLevel",
  decisionRetentionDays: "vigil:decisionRetentionDays",
  tableDeletionProtection: "vigil:tableDeletionProtection",
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
}

const RETENTION_DAYS = new Set<number>(
  Object.values(RetentionDays).filter((v): v is number => typeof v === "number"),
);

// Context from `-c key=value` arrives as a string, from cdk.json as JSON: accept both.
const booleanLike = z.union([z.boolean(), z.enum(["true", "false"]).transform((s) => s === "true")]);

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
  };
}
