import { type Severity, severityRank } from "#shared/domain/decision/action";
import type { DecisionMessage } from "#shared/domain/decision-message/index";

/**
 * The audit document of a decision: the decision message as it is (pseudonyms only, no raw PII),
 * plus fields derived for search and aggregation. One document per eventId (`_id`), in the daily
 * index of the event's own date, so every delivery of a decision lands on the same `_index`/`_id`.
 */

/** Default prefix of the audit indices. */
export const DEFAULT_AUDIT_INDEX_PREFIX = "vigil-decisions";

/** Index prefixes: lower case, as OpenSearch requires, and no wildcard characters. */
export const AUDIT_INDEX_PREFIX_PATTERN = /^[a-z][a-z0-9-]{0,60}$/;

/** A decision message with the fields derived for the audit index. */
export type AuditDocument = DecisionMessage & {
  /** decidedAt, the field dashboards and the report filter on. */
  readonly "@timestamp": string;
  /** Ids of the active rules that hit. */
  readonly activeRules: readonly string[];
  /** Ids of the shadow rules that hit. */
  readonly shadowRules: readonly string[];
  /** Highest severity among active rule hits, null when none hit. */
  readonly severity: Severity | null;
};

/** The audit document of a decision message. */
export function toAuditDocument(message: DecisionMessage): AuditDocument {
  let severity: Severity | null = null;
  for (const h of message.ruleHits)
    if (!h.shadow && (severity === null || severityRank(h.severity) > severityRank(severity)))
      severity = h.severity;
  return {
    ...message,
    "@timestamp": message.decidedAt,
    activeRules: message.ruleHits.filter((h) => !h.shadow).map((h) => h.id),
    shadowRules: message.ruleHits.filter((h) => h.shadow).map((h) => h.id),
    severity,
  };
}

/**
 * The index of a decision: `<prefix>-YYYY.MM.DD` of its occurredAt (UTC). Event time, not
 * decision time, so that a re-published or re-indexed decision always names the same index.
 */
export function auditIndexName(prefix: string, message: Pick<DecisionMessage, "occurredAt">): string {
  const day = message.occurredAt.slice(0, 10).replaceAll("-", ".");
  return `${prefix}-${day}`;
}

/** The pattern matching every audit index of a prefix. */
export function auditIndexPattern(prefix: string): string {
  return `${prefix}-*`;
}
