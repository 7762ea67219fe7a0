import * as z from "zod";
import { AUDIT_INDEX_PREFIX_PATTERN, DEFAULT_AUDIT_INDEX_PREFIX } from "#shared/domain/audit/audit-document";
import { ENV, TABLES } from "#shared/resources";

const schema = z.object({
  [TABLES.quarantine.envVar]: z.string().min(1),
  [ENV.quarantineRetentionDays]: z.coerce.number().int().positive().max(365).default(14),
  [ENV.openSearchEndpoint]: z.url({ protocol: /^https?$/ }).optional(),
  [ENV.auditDir]: z.string().min(1).optional(),
  [ENV.auditIndexPrefix]: z.string().regex(AUDIT_INDEX_PREFIX_PATTERN).default(DEFAULT_AUDIT_INDEX_PREFIX),
  AWS_REGION: z.string().min(1).optional(),
});

/** Where audit documents go: an OpenSearch domain (AWS, LocalStack) or local `_bulk` NDJSON files. */
export type AuditTarget =
  | { readonly kind: "opensearch"; readonly endpoint: string; readonly region: string }
  | { readonly kind: "files"; readonly dir: string };

/** What the audit function needs from its environment, validated once at cold start. */
export interface AuditConfig {
  readonly quarantineTable: string;
  readonly quarantineRetentionSeconds: number;
  readonly target: AuditTarget;
  readonly indexPrefix: string;
}

/** Reads and validates the audit function's configuration; throws naming every bad variable. */
export function loadAuditConfig(env: Readonly<Record<string, string | undefined>>): AuditConfig {
  const parsed = schema.safeParse(env);
  const invalid = (problems: string) => new Error(`audit function configuration is invalid: ${problems}`);
  if (!parsed.success)
    throw invalid(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const c = parsed.data;
  const endpoint = c[ENV.openSearchEndpoint];
  const dir = c[ENV.auditDir];
  if ((endpoint === undefined) === (dir === undefined))
    throw invalid(`set exactly one of ${ENV.openSearchEndpoint} and ${ENV.auditDir}`);
  let target: AuditTarget;
  if (endpoint !== undefined) {
    if (!c.AWS_REGION) throw invalid("AWS_REGION is needed to sign OpenSearch requests");
    target = { kind: "opensearch", endpoint, region: c.AWS_REGION };
  } else target = { kind: "files", dir: dir as string };
  return {
    quarantineTable: c[TABLES.quarantine.envVar],
    quarantineRetentionSeconds: c[ENV.quarantineRetentionDays] * 86_400,
    target,
    indexPrefix: c[ENV.auditIndexPrefix],
  };
}
