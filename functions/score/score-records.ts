import type { KinesisStreamBatchResponse, KinesisStreamRecord } from "aws-lambda";
import {
  type CleanEvent,
  type DecodeLimits,
  decodeRecord,
  type QuarantineReason,
} from "#shared/domain/event/index";
import type { DecisionRecord, DecisionStore } from "#shared/ports/decision-store";
import type { QuarantineEntry, QuarantineStore } from "#shared/ports/quarantine-store";

/** The slice of a logger the use case needs (Powertools' Logger fits). */
export interface ScoreLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

export interface ScoreDependencies {
  readonly decisions: DecisionStore;
  readonly quarantine: QuarantineStore;
  readonly limits?: Partial<DecodeLimits>;
  readonly now: () => Date;
  readonly logger: ScoreLogger;
}

/**
 * What became of each record of a batch. Every record is exactly one of: decided, quarantined,
 * duplicate (a re-sent eventId whose first decision stands), redelivered (this very record was
 * handled by an earlier delivery: a retry, a bisected batch, a restart), or failed (an I/O error:
 * reported back to the event source mapping for retry).
 * `received` counts first deliveries: received = decided + quarantined + duplicates.
 */
export interface ScoreBatchCounts {
  readonly received: number;
  readonly decided: number;
  readonly quarantined: number;
  readonly quarantinedByReason: Readonly<Partial<Record<QuarantineReason, number>>>;
  readonly duplicates: number;
  readonly redelivered: number;
  readonly failed: number;
}

export interface ScoreBatchResult {
  readonly response: KinesisStreamBatchResponse;
  readonly counts: ScoreBatchCounts;
}

type Outcome =
  | { readonly kind: "decided" | "duplicate" | "redelivered" }
  | { readonly kind: "quarantined"; readonly reason: QuarantineReason }
  | { readonly kind: "failed"; readonly error: unknown };

interface Located {
  readonly record: KinesisStreamRecord;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

function locate(record: KinesisStreamRecord): Located {
  // eventID is "<shardId>:<sequenceNumber>" on Lambda's Kinesis events.
  const shardId = record.eventID.slice(0, record.eventID.lastIndexOf(":"));
  return { record, shardId, sequenceNumber: record.kinesis.sequenceNumber };
}

const sameSource = (a: DecisionRecord["source"], b: Located) =>
  a.shardId === b.shardId && a.sequenceNumber === b.sequenceNumber;

/** The decision for a clean event. Real scoring (features, rules, model) replaces the constant. */
function decide(event: CleanEvent, at: Located, decidedAt: string): DecisionRecord {
  return {
    eventId: event.eventId,
    type: event.type,
    action: "pass",
    reasons: ["NO_RULES_CONFIGURED"],
    occurredAt: event.occurredAt,
    decidedAt,
    source: { shardId: at.shardId, sequenceNumber: at.sequenceNumber },
  };
}

/**
 * Decides every record of a Kinesis batch: bad records go to quarantine with a reason, good
 * ones get exactly one decision per eventId. Never throws for a bad record; I/O errors are
 * reported as batch item failures so only those records (and, as Lambda does, the ones after
 * them) are retried, and every write is idempotent so a retry cannot double anything.
 */
export async function scoreRecords(
  records: readonly KinesisStreamRecord[],
  deps: ScoreDependencies,
): Promise<ScoreBatchResult> {
  const now = deps.now();
  const decidedAt = now.toISOString();
  const located = records.map(locate);
  const outcomes = new Map<string, Outcome>();
  const good: Array<{ at: Located; event: CleanEvent }> = [];

  await Promise.all(
    located.map(async (at) => {
      const { record } = at;
      const arrivalTime = new Date(record.kinesis.approximateArrivalTimestamp * 1000);
      const decoded = decodeRecord(Buffer.from(record.kinesis.data, "base64"), {
        arrivalTime,
        ...(deps.limits ? { limits: deps.limits } : {}),
      });
      if (decoded.ok) {
        good.push({ at, event: decoded.event });
        return;
      }
      const entry: QuarantineEntry = {
        id: record.eventID,
        reason: decoded.reason,
        message: decoded.message,
        ...(decoded.eventId ? { eventId: decoded.eventId } : {}),
        data: record.kinesis.data,
        partitionKey: record.kinesis.partitionKey,
        shardId: at.shardId,
        sequenceNumber: at.sequenceNumber,
        streamArn: record.eventSourceARN,
        arrivalTime: arrivalTime.toISOString(),
        receivedAt: decidedAt,
      };
      try {
        const stored = await deps.quarantine.putIfAbsent(entry);
        outcomes.set(
          record.eventID,
          stored === "stored" ? { kind: "quarantined", reason: decoded.reason } : { kind: "redelivered" },
        );
      } catch (error) {
        outcomes.set(record.eventID, { kind: "failed", error });
      }
    }),
  );

  // Within a batch the first record of an eventId (in stream order) is the original.
  good.sort((a, b) => records.indexOf(a.at.record) - records.indexOf(b.at.record));
  const originals = new Map<string, { at: Located; event: CleanEvent }>();
  const resent: Array<{ at: Located; event: CleanEvent }> = [];
  for (const item of good) {
    if (originals.has(item.event.eventId)) resent.push(item);
    else originals.set(item.event.eventId, item);
  }

  let prior: ReadonlyMap<string, DecisionRecord> | undefined;
  try {
    prior = await deps.decisions.getMany([...originals.keys()]);
  } catch (error) {
    for (const { at } of good) outcomes.set(at.record.eventID, { kind: "failed", error });
  }

  const duplicate = async (at: Located, eventId: string): Promise<Outcome> => {
    const noted = await deps.decisions.recordDuplicate(
      eventId,
      { shardId: at.shardId, sequenceNumber: at.sequenceNumber },
      decidedAt,
    );
    return { kind: noted === "stored" ? "duplicate" : "redelivered" };
  };
  const settle = async (at: Located, work: () => Promise<Outcome>) => {
    try {
      outcomes.set(at.record.eventID, await work());
    } catch (error) {
      outcomes.set(at.record.eventID, { kind: "failed", error });
    }
  };

  if (prior) {
    const known = prior;
    await Promise.all(
      [...originals.values()].map(({ at, event }) =>
        settle(at, async (): Promise<Outcome> => {
          const existing = known.get(event.eventId);
          if (existing)
            return sameSource(existing.source, at) ? { kind: "redelivered" } : duplicate(at, event.eventId);
          if ((await deps.decisions.putIfAbsent(decide(event, at, decidedAt))) === "stored")
            return { kind: "decided" };
          // Lost a race with another delivery of the same eventId: the stored decision says which.
          const winner = await deps.decisions.get(event.eventId);
          return winner && sameSource(winner.source, at)
            ? { kind: "redelivered" }
            : duplicate(at, event.eventId);
        }),
      ),
    );
    // A re-sent copy inside the batch is a duplicate once its original is settled; if the original
    // failed it is retried with it, so it is judged again on the retry.
    await Promise.all(
      resent.map(({ at, event }) => {
        const original = originals.get(event.eventId);
        const failed = original && outcomes.get(original.at.record.eventID)?.kind === "failed";
        return failed
          ? Promise.resolve(
              outcomes.set(at.record.eventID, {
                kind: "failed",
                error: new Error("original of this re-sent event failed"),
              }),
            )
          : settle(at, () => duplicate(at, event.eventId));
      }),
    );
  }

  const counts = {
    decided: 0,
    quarantined: 0,
    duplicates: 0,
    redelivered: 0,
    failed: 0,
    quarantinedByReason: {} as Partial<Record<QuarantineReason, number>>,
  };
  const failures: string[] = [];
  for (const { record } of located) {
    const outcome = outcomes.get(record.eventID);
    if (!outcome) throw new Error(`record ${record.eventID} has no outcome`); // a bug, never input
    switch (outcome.kind) {
      case "decided":
        counts.decided++;
        break;
      case "duplicate":
        counts.duplicates++;
        break;
      case "redelivered":
        counts.redelivered++;
        break;
      case "quarantined":
        counts.quarantined++;
        counts.quarantinedByReason[outcome.reason] = (counts.quarantinedByReason[outcome.reason] ?? 0) + 1;
        deps.logger.warn("record quarantined", { id: record.eventID, reason: outcome.reason });
        break;
      case "failed":
        counts.failed++;
        failures.push(record.kinesis.sequenceNumber);
        deps.logger.error("record failed, will be retried", {
          id: record.eventID,
          error: outcome.error instanceof Error ? outcome.error.name : String(outcome.error),
        });
        break;
    }
  }
  const result = { ...counts, received: counts.decided + counts.quarantined + counts.duplicates };
  deps.logger.info("batch scored", { records: records.length, ...result });
  return {
    response: { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) },
    counts: result,
  };
}
