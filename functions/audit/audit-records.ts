import type { KinesisStreamBatchResponse, KinesisStreamRecord } from "aws-lambda";
import { auditIndexName, toAuditDocument } from "#shared/domain/audit/audit-document";
import { decodeDecisionMessage } from "#shared/domain/decision-message/index";
import type { AuditQuarantine, AuditQuarantineReason } from "#shared/ports/audit-quarantine";
import type { AuditItem, AuditSink } from "#shared/ports/audit-sink";

/** The slice of a logger the use case needs (Powertools' Logger fits). */
export interface AuditLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

/** What the audit use case needs: a sink, the quarantine, the index prefix, a clock and a logger. */
export interface AuditDependencies {
  readonly sink: AuditSink;
  readonly quarantine: AuditQuarantine;
  /** Prefix of the daily audit indices. */
  readonly indexPrefix: string;
  readonly now: () => Date;
  readonly logger: AuditLogger;
}

/** What became of one batch. */
export interface AuditBatchCounts {
  readonly records: number;
  /** Documents created. */
  readonly indexed: number;
  /** Documents an earlier delivery had created (redelivery, re-published decision). */
  readonly existing: number;
  readonly quarantined: Readonly<Partial<Record<AuditQuarantineReason, number>>>;
  /** Records reported back for retry (OpenSearch throttling or faults that outlasted the retries). */
  readonly failed: number;
}

/** The partial batch response for Lambda, and the counts for metrics. */
export interface AuditBatchResult {
  readonly response: KinesisStreamBatchResponse;
  readonly counts: AuditBatchCounts;
}

/**
 * Writes a batch of decisions to the audit trail. Every record ends as exactly one of: indexed
 * (or found indexed), quarantined with a reason (not a decision message; or a document OpenSearch
 * refuses with a 4xx, typically a mapping error, which no retry can fix), or failed and reported
 * for retry (429, 5xx, network, after the sink's own retries). Quarantine rather than the
 * function's failure path for refusals: the on-failure destination only records where the batch
 * was, and the stream forgets the record after its retention, so that would lose the decision.
 */
export async function auditRecords(
  records: readonly KinesisStreamRecord[],
  deps: AuditDependencies,
): Promise<AuditBatchResult> {
  const receivedAt = deps.now().toISOString();
  const counts = { records: records.length, indexed: 0, existing: 0, failed: 0 };
  const quarantined: Partial<Record<AuditQuarantineReason, number>> = {};
  const failed = new Set<KinesisStreamRecord>();

  const quarantine = async (
    record: KinesisStreamRecord,
    reason: AuditQuarantineReason,
    message: string,
    eventId?: string,
  ) => {
    const shardId = record.eventID.slice(0, record.eventID.lastIndexOf(":"));
    try {
      const stored = await deps.quarantine.putIfAbsent({
        id: `audit:${record.eventID}`,
        reason,
        message,
        ...(eventId ? { eventId } : {}),
        data: record.kinesis.data,
        partitionKey: record.kinesis.partitionKey,
        shardId,
        sequenceNumber: record.kinesis.sequenceNumber,
        streamArn: record.eventSourceARN,
        arrivalTime: new Date(record.kinesis.approximateArrivalTimestamp * 1000).toISOString(),
        receivedAt,
      });
      if (stored === "stored") quarantined[reason] = (quarantined[reason] ?? 0) + 1;
      deps.logger.warn("decision record quarantined", { id: record.eventID, eventId, reason, message });
    } catch (error) {
      failed.add(record);
      deps.logger.error("quarantine write failed, will be retried", {
        id: record.eventID,
        error: errorName(error),
      });
    }
  };

  const items: Array<{ record: KinesisStreamRecord; item: AuditItem }> = [];
  for (const record of records) {
    const decoded = decodeDecisionMessage(Buffer.from(record.kinesis.data, "base64"));
    if (!decoded.ok) {
      await quarantine(record, "AUDIT_UNREADABLE", decoded.error);
      continue;
    }
    const message = decoded.message;
    items.push({
      record,
      item: {
        index: auditIndexName(deps.indexPrefix, message),
        id: message.eventId,
        document: toAuditDocument(message),
      },
    });
  }

  if (items.length > 0) {
    let outcomes: Awaited<ReturnType<AuditSink["write"]>> | undefined;
    try {
      outcomes = await deps.sink.write(items.map((i) => i.item));
    } catch (error) {
      for (const { record } of items) failed.add(record);
      deps.logger.error("audit sink refused the request, batch will be retried", { error: errorName(error) });
    }
    if (outcomes) {
      const done = outcomes;
      await Promise.all(
        items.map(async ({ record, item }, i) => {
          const outcome = done[i];
          if (outcome?.ok) {
            if (outcome.result === "created") counts.indexed++;
            else counts.existing++;
            return;
          }
          if (!outcome || outcome.retryable) {
            failed.add(record);
            deps.logger.error("audit document not indexed, will be retried", {
              eventId: item.id,
              status: outcome?.status,
              errorType: outcome?.errorType,
            });
            return;
          }
          await quarantine(
            record,
            "AUDIT_REJECTED",
            `${outcome.status} ${outcome.errorType}: ${outcome.reason}`,
            item.id,
          );
        }),
      );
    }
  }

  counts.failed = failed.size;
  const result = { ...counts, quarantined };
  deps.logger.info("batch audited", { ...result });
  return {
    response: {
      batchItemFailures: records
        .filter((r) => failed.has(r))
        .map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber })),
    },
    counts: result,
  };
}

/** Errors are logged by name only: client messages can quote request content. */
function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
