/** Why the audit function set a decisions-stream record aside. */
export const AUDIT_QUARANTINE_REASONS = ["AUDIT_UNREADABLE", "AUDIT_REJECTED"] as const;
/** One of AUDIT_QUARANTINE_REASONS. */
export type AuditQuarantineReason = (typeof AUDIT_QUARANTINE_REASONS)[number];

/** Descriptions for `vigil quarantine` and reports. */
export const AUDIT_REASON_DESCRIPTIONS: Readonly<Record<AuditQuarantineReason, string>> = {
  AUDIT_UNREADABLE: "A decisions-stream record is not a decision message the audit function can read.",
  AUDIT_REJECTED:
    "OpenSearch refused the audit document with a client error (a mapping error, for example); retrying cannot help.",
};

/**
 * A decisions-stream record the audit trail could not take, kept whole in the quarantine table
 * (next to the events score quarantined, with the same fields) so it can be re-indexed after a fix
 * with `vigil audit reindex`. Never dropped.
 */
export interface AuditQuarantineEntry {
  /** `audit:<shardId>:<sequenceNumber>`: one entry per decisions-stream record. */
  readonly id: string;
  readonly reason: AuditQuarantineReason;
  /** Status and OpenSearch error type and reason; the document holds no raw PII to quote. */
  readonly message: string;
  readonly eventId?: string;
  /** The record's bytes, base64. */
  readonly data: string;
  readonly partitionKey: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly streamArn: string;
  readonly arrivalTime: string;
  readonly receivedAt: string;
  readonly replayedAt?: string;
  readonly replayedAs?: string;
}

/** Audit quarantine storage: one entry per record, written once. */
export interface AuditQuarantine {
  putIfAbsent(entry: AuditQuarantineEntry): Promise<"stored" | "exists">;
  /** Entries of the audit reasons, newest first. */
  list(filter?: { readonly reason?: AuditQuarantineReason }): Promise<AuditQuarantineEntry[]>;
  markReplayed(id: string, at: string, replayedAs: string): Promise<void>;
}
