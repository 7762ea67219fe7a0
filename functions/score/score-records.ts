import type { KinesisStreamBatchResponse, KinesisStreamRecord } from "aws-lambda";
import type { DecisionRecord, DecisionStore } from "#shared/ports/decision-store";

/** The slice of a logger the use case needs. */
export interface ScoreLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
}

export interface ScoreDependencies {
  readonly store: DecisionStore;
  readonly now: () => Date;
  readonly logger: ScoreLogger;
}

/** Counts of what one batch produced. */
export interface ScoreBatchResult {
  readonly response: KinesisStreamBatchResponse;
  readonly decided: number;
  readonly duplicates: number;
  readonly failed: number;
}

interface MinimalEvent {
  readonly eventId: string;
  readonly type: string;
  readonly occurredAt?: string;
}

function decodeMinimal(data: string): MinimalEvent | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(data, "base64").toString("utf8"));
    if (typeof value !== "object" || value === null) return undefined;
    const { eventId, type, occurredAt } = value as Record<string, unknown>;
    if (typeof eventId !== "string" || eventId === "" || typeof type !== "string") return undefined;
    return { eventId, type, ...(typeof occurredAt === "string" ? { occurredAt } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * Decides every record of a Kinesis batch and stores one decision per eventId. Records that
 * cannot be decoded are reported as batch item failures, so the event source mapping retries
 * them and finally hands them to its on-failure destination: nothing is dropped.
 */
export async function scoreRecords(
  records: readonly KinesisStreamRecord[],
  deps: ScoreDependencies,
): Promise<ScoreBatchResult> {
  const failures: string[] = [];
  let decided = 0;
  let duplicates = 0;
  const decidedAt = deps.now().toISOString();
  for (const record of records) {
    const event = decodeMinimal(record.kinesis.data);
    if (!event) {
      deps.logger.warn("undecodable record", { sequenceNumber: record.kinesis.sequenceNumber });
      failures.push(record.kinesis.sequenceNumber);
      continue;
    }
    const decision: DecisionRecord = {
      eventId: event.eventId,
      type: event.type,
      action: "pass",
      reasons: ["NO_RULES_CONFIGURED"],
      ...(event.occurredAt ? { occurredAt: event.occurredAt } : {}),
      decidedAt,
      source: { shardId: record.eventID.split(":")[0] ?? "", sequenceNumber: record.kinesis.sequenceNumber },
    };
    const outcome = await deps.store.putIfAbsent(decision);
    if (outcome === "stored") decided++;
    else duplicates++;
  }
  deps.logger.info("batch scored", { records: records.length, decided, duplicates, failed: failures.length });
  return {
    response: { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) },
    decided,
    duplicates,
    failed: failures.length,
  };
}
