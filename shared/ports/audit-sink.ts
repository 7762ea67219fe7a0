import type { AuditDocument } from "#shared/domain/audit/audit-document";

/** One document to index. */
export interface AuditItem {
  readonly index: string;
  /** The document id: the decision's eventId. */
  readonly id: string;
  readonly document: AuditDocument;
}

/** What became of one item. */
export type AuditOutcome =
  /** Written now (`created`) or by an earlier delivery (`exists`: same `_index`/`_id`). */
  | { readonly ok: true; readonly result: "created" | "exists" }
  | {
      readonly ok: false;
      /** 429 and 5xx that outlasted the retries: retry the record later. */
      readonly retryable: boolean;
      readonly status: number;
      /** OpenSearch's error type, e.g. `mapper_parsing_exception`. */
      readonly errorType: string;
      readonly reason: string;
    };

/** Where audit documents go (OpenSearch on AWS, `_bulk` NDJSON files locally). */
export interface AuditSink {
  /**
   * Writes each item once (create, never overwrite: the first document of an id stands), retrying
   * transient failures within a bounded budget. One outcome per item, in order. Throws only when
   * no outcome is known (the request itself is refused, e.g. 403).
   */
  write(items: readonly AuditItem[]): Promise<AuditOutcome[]>;
}
