/**
 * The one catalogue of the CloudWatch metrics Vigil's functions emit (EMF, through Powertools
 * Metrics), read by the functions that emit them and by `infra/` for alarms and the dashboard, so
 * a renamed metric fails type checking instead of leaving an alarm on a metric nobody writes.
 *
 * Every metric carries Powertools' default `service` dimension (`vigil-score`, `vigil-alert`,
 * `vigil-audit`: {@link METRIC_SERVICES}) plus the extra dimensions listed here; CloudWatch
 * identifies a metric by its full dimension set, so an alarm names them all. Pure data.
 */

/** The `service` dimension value of each emitting function (Powertools `serviceName`). */
export const METRIC_SERVICES = {
  score: "vigil-score",
  alert: "vigil-alert",
  audit: "vigil-audit",
  archive: "vigil-archive",
} as const;

/** Metrics of the score function. Counts per batch unless said otherwise. */
export const SCORE_METRICS = {
  /** Records seen for the first time (by stream, shard and sequence number), whatever became of them. */
  received: "EventsReceived",
  /** Records decided (one new decision stored). */
  decided: "EventsDecided",
  /** Records quarantined; also with a `reason` dimension. */
  quarantined: "EventsQuarantined",
  /** Re-sent events (an eventId already decided from another record). */
  duplicates: "DuplicateEvents",
  /** Records handled by an earlier delivery (retry, bisect, restart). */
  redelivered: "RedeliveredRecords",
  /** Records reported back for retry (an I/O call failed). */
  failed: "RecordsFailed",
  /** Decisions by `scenario` (event type) and `action` dimensions. */
  decisions: "Decisions",
  /**
   * Decisions made with the shipped default rules because no configured rules version was in
   * force (none applied, or none compiles). Alarmed: a deployment should decide with its own rules.
   */
  withoutConfiguredRules: "DecisionsWithoutConfiguredRules",
  /** Decisions for which at least one feature the event needed was too late (docs/features.md). */
  lateEvents: "LateEventDecisions",
  /** Milliseconds from a record's arrival on the events stream to its decision (one value per decision). */
  putToDecisionLatency: "PutToDecisionLatency",
} as const;

/** Per-rule metrics of the score function, with `rule` and `mode` (active | shadow) dimensions. */
export const RULE_METRICS = {
  /** Events the rule was evaluated for (its scenarios): the denominator of its hit rate. */
  evaluations: "RuleEvaluations",
  hits: "RuleHits",
  /** Evaluations that failed; the rule's `onError` decided what the failure meant. */
  errors: "RuleErrors",
} as const;

/** Configuration load problems of the score function, with a `kind` dimension. */
export const CONFIG_LOAD_ERRORS_METRIC = "ConfigLoadErrors";

/** Metrics of the alert function. */
export const ALERT_METRICS = {
  sent: "AlertsSent",
  suppressed: "AlertsSuppressed",
  duplicates: "DuplicateAlerts",
  stale: "StaleDecisions",
  unreadable: "UnreadableDecisions",
  failed: "RecordsFailed",
} as const;

/** Metrics of the audit function. */
export const AUDIT_METRICS = {
  indexed: "AuditDocumentsIndexed",
  existing: "AuditDocumentsExisting",
  quarantined: "AuditRecordsQuarantined",
  failed: "RecordsFailed",
} as const;

/** Metrics of the archive function. */
export const ARCHIVE_METRICS = {
  /** Records written to the archive (a retried batch counts again: the archive is at least once). */
  archived: "RecordsArchived",
  /** Objects written (one per batch and arrival date). */
  objects: "ArchiveObjectsWritten",
  /** Records reported back for retry (an object could not be written). */
  failed: "RecordsFailed",
} as const;
