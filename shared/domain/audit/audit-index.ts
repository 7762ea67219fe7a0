import { AUDIT_INDEX_PREFIX_PATTERN, auditIndexPattern } from "#shared/domain/audit/audit-document";

/**
 * What the audit index needs installed in OpenSearch, as data: the composable index template with
 * explicit mappings, the ISM retention policy, and the fine-grained-access-control roles of the
 * writer (audit function) and readers (reports). The setup custom resource PUTs these; tests check
 * that documents fit the mappings.
 */

const keyword = { type: "keyword" } as const;
const double = { type: "double" } as const;
const integer = { type: "integer" } as const;
const long = { type: "long" } as const;
const bool = { type: "boolean" } as const;
const date = { type: "date", format: "strict_date_optional_time" } as const;

/**
 * Explicit mappings of the audit document. `dynamic: strict` at the root: a field the mapping does
 * not know is a mapping error (quarantined by the audit function) rather than a silently guessed
 * type. Feature values are the one open map: any `features.<id>` is a double.
 */
export const AUDIT_MAPPINGS = {
  dynamic: "strict",
  dynamic_templates: [{ features_as_double: { path_match: "features.*", mapping: double } }],
  properties: {
    "@timestamp": date,
    messageVersion: integer,
    eventId: keyword,
    type: keyword,
    action: keyword,
    decidedBy: keyword,
    score: double,
    band: { properties: { minScore: double, action: keyword, reason: keyword } },
    ruleHits: {
      type: "nested",
      properties: {
        id: keyword,
        version: integer,
        action: keyword,
        severity: keyword,
        reason: keyword,
        shadow: bool,
      },
    },
    ruleErrors: { type: "nested", properties: { id: keyword, version: integer, shadow: bool } },
    reasons: keyword,
    contributions: {
      type: "nested",
      properties: {
        term: keyword,
        input: keyword,
        // Numbers and strings (categories, pseudonyms): a keyword holds both.
        value: keyword,
        transformed: double,
        weight: double,
        contribution: double,
        reason: keyword,
      },
    },
    listHits: { type: "nested", properties: { list: keyword, kind: keyword, entry: keyword } },
    shadow: { properties: { action: keyword, score: double, reasons: keyword } },
    features: { type: "object", dynamic: true },
    versions: {
      properties: { rules: long, lists: long, model: keyword, shadowModel: keyword, features: keyword },
    },
    occurredAt: date,
    decidedAt: date,
    country: keyword,
    // A decimal string in the message; OpenSearch coerces it for range queries and sums.
    amount: double,
    currency: keyword,
    campaignId: keyword,
    couponId: keyword,
    entities: {
      properties: {
        user: keyword,
        device: keyword,
        ip: keyword,
        card: keyword,
        phone: keyword,
        email: keyword,
        emailDomain: keyword,
      },
    },
    activeRules: keyword,
    shadowRules: keyword,
    severity: keyword,
  },
} as const;

/** Settings of the audit index setup. */
export interface AuditIndexSettings {
  /** Index prefix (`<prefix>-YYYY.MM.DD`). */
  readonly prefix: string;
  /** Days an audit index is kept before ISM deletes it. */
  readonly retentionDays: number;
  /** Replicas per shard: 0 on a one-node domain, 1 or more with zone awareness. */
  readonly replicas: number;
  /** Primary shards per daily index; one is plenty below ~30 GB a day. */
  readonly shards: number;
}

/** The checks {@link auditIndexTemplate} and {@link auditIsmPolicy} rely on. */
export function validateAuditIndexSettings(s: AuditIndexSettings): void {
  if (!AUDIT_INDEX_PREFIX_PATTERN.test(s.prefix))
    throw new Error(`audit index prefix '${s.prefix}' is invalid`);
  if (!Number.isInteger(s.retentionDays) || s.retentionDays < 1)
    throw new Error("retentionDays must be >= 1");
  if (!Number.isInteger(s.replicas) || s.replicas < 0) throw new Error("replicas must be >= 0");
  if (!Number.isInteger(s.shards) || s.shards < 1) throw new Error("shards must be >= 1");
}

/** Name of the index template (`PUT _index_template/<name>`). */
export const templateName = (prefix: string) => `${prefix}-template`;
/** Id of the ISM policy (`PUT _plugins/_ism/policies/<id>`). */
export const ismPolicyId = (prefix: string) => `${prefix}-retention`;

/** The composable index template for the daily audit indices. */
export function auditIndexTemplate(s: AuditIndexSettings) {
  validateAuditIndexSettings(s);
  return {
    index_patterns: [auditIndexPattern(s.prefix)],
    priority: 100,
    template: {
      settings: {
        number_of_shards: s.shards,
        number_of_replicas: s.replicas,
        // The audit trail is written by one writer in small bulks; a second is fresh enough.
        refresh_interval: "1s",
        "mapping.total_fields.limit": 2000,
      },
      mappings: AUDIT_MAPPINGS,
    },
    _meta: { managedBy: "vigil", description: "Vigil decision audit trail (pseudonymized)" },
  };
}

/**
 * The ISM policy: indices stay `hot` until `retentionDays` after creation, then are deleted. The
 * `ism_template` attaches the policy to every new audit index automatically.
 */
export function auditIsmPolicy(s: AuditIndexSettings) {
  validateAuditIndexSettings(s);
  return {
    policy: {
      description: `Vigil audit trail: delete ${s.prefix} indices ${s.retentionDays} days after creation`,
      default_state: "hot",
      states: [
        {
          name: "hot",
          actions: [],
          transitions: [{ state_name: "delete", conditions: { min_index_age: `${s.retentionDays}d` } }],
        },
        { name: "delete", actions: [{ delete: {} }], transitions: [] },
      ],
      ism_template: [{ index_patterns: [auditIndexPattern(s.prefix)], priority: 100 }],
    },
  };
}

/** Name of the FGAC writer role. */
export const writerRoleName = (prefix: string) => `${prefix}-writer`;
/** Name of the FGAC reader role. */
export const readerRoleName = (prefix: string) => `${prefix}-reader`;

/** The writer role: create and write documents in the audit indices, nothing else. */
export function auditWriterRole(prefix: string) {
  return {
    cluster_permissions: ["cluster_composite_ops"],
    index_permissions: [
      {
        index_patterns: [auditIndexPattern(prefix)],
        allowed_actions: [
          "create_index",
          "indices:data/write/bulk*",
          "indices:data/write/index",
          "indices:admin/mapping/put",
        ],
      },
    ],
  };
}

/** The reader role: search and aggregate the audit indices (reports, dashboards). */
export function auditReaderRole(prefix: string) {
  return {
    cluster_permissions: ["cluster_composite_ops_ro"],
    index_permissions: [{ index_patterns: [auditIndexPattern(prefix)], allowed_actions: ["read"] }],
  };
}
