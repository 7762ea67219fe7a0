import type { KinesisStreamBatchResponse, KinesisStreamRecord } from "aws-lambda";
import { storedEventFields } from "#shared/domain/decision/model/model-event-fields";
import {
  type CleanEvent,
  type DecodeLimits,
  decodeRecord,
  type QuarantineReason,
} from "#shared/domain/event/index";
import type { FeatureRecord, FeatureVector, RecordSource } from "#shared/domain/features/index";
import { challengeOutcomeLabel } from "#shared/domain/labels/index";
import type { DecidedEvent, DecisionPublisher } from "#shared/ports/decision-publisher";
import type { DecisionContent, DecisionRecord, DecisionStore } from "#shared/ports/decision-store";
import type { LabelStore } from "#shared/ports/label-store";
import type { QuarantineEntry, QuarantineStore } from "#shared/ports/quarantine-store";
import type { FeatureStateStore } from "#shared/ports/state-store";

/** The slice of a logger the use case needs (Powertools' Logger fits). */
export interface ScoreLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

/** Decides one clean event from its features: the rules engine and model (issue 5) plug in here. */
export type Decide = (event: CleanEvent, features: FeatureVector) => DecisionContent;

export interface ScoreDependencies {
  readonly decisions: DecisionStore;
  /** The decisions stream; every stored decision is published at least once. */
  readonly publisher: DecisionPublisher;
  readonly quarantine: QuarantineStore;
  /** Where a challenge outcome's label goes (docs/labels.md). */
  readonly labels: Pick<LabelStore, "put">;
  readonly features: FeatureStateStore;
  readonly decide: Decide;
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
  /** Decisions stored by this invocation, in stream order (for publishing and metrics). */
  readonly decided: readonly DecisionRecord[];
}

type Outcome =
  | { readonly kind: "decided"; readonly decision: DecisionRecord }
  | { readonly kind: "duplicate" | "redelivered" }
  | { readonly kind: "quarantined"; readonly reason: QuarantineReason }
  | { readonly kind: "failed"; readonly error: unknown };

/** A good record: where it came from and its clean event. */
type Located = FeatureRecord & { readonly record: KinesisStreamRecord };

const shardOf = (record: KinesisStreamRecord) => record.eventID.slice(0, record.eventID.lastIndexOf(":"));
const sameSource = (a: RecordSource, b: RecordSource) =>
  a.shardId === b.shardId && a.sequenceNumber === b.sequenceNumber;
const sourceOf = (r: Located): RecordSource => ({ shardId: r.shardId, sequenceNumber: r.sequenceNumber });

/**
 * Decides every record of a Kinesis batch (one shard's records, in order).
 *
 * 1. Decode: bad records go to quarantine with a reason (written once per record).
 * 2. Look up which eventIds already have a decision (re-sent events, redeliveries).
 * 3. Read the windowed features of every undecided event (`prepare`, nothing written).
 * 4. Decide and store one decision per new eventId, with the exact feature values used.
 * 5. Commit the batch's feature contributions, one write per entity (`commit`).
 *
 * Never throws for a bad record. I/O errors are reported as batch item failures so only the
 * records from the first failure on are retried; every step is idempotent per record, so a
 * retry cannot count or decide anything twice.
 */
export async function scoreRecords(
  records: readonly KinesisStreamRecord[],
  deps: ScoreDependencies,
): Promise<ScoreBatchResult> {
  const decidedAt = deps.now().toISOString();
  const outcomes = new Map<string, Outcome>();
  /** Sequence numbers to report for retry besides failed records (state not committed). */
  const retry = new Set<string>();
  /**
   * Decisions to publish: the ones stored now, and stored ones whose record is redelivered (the
   * earlier delivery may have stopped before publishing; consumers are idempotent per eventId).
   */
  const toPublish: Array<DecidedEvent & { readonly sequenceNumber: string }> = [];
  const settle = async (record: KinesisStreamRecord, work: () => Promise<Outcome>) => {
    try {
      outcomes.set(record.eventID, await work());
    } catch (error) {
      outcomes.set(record.eventID, { kind: "failed", error });
    }
  };

  // 1. Decode; quarantine what does not decode.
  const good: Located[] = [];
  const quarantining: Promise<void>[] = [];
  for (const record of records) {
    const arrivalTime = new Date(record.kinesis.approximateArrivalTimestamp * 1000);
    const decoded = decodeRecord(Buffer.from(record.kinesis.data, "base64"), {
      arrivalTime,
      ...(deps.limits ? { limits: deps.limits } : {}),
    });
    if (decoded.ok) {
      good.push({
        record,
        event: decoded.event,
        shardId: shardOf(record),
        sequenceNumber: record.kinesis.sequenceNumber,
      });
      continue;
    }
    const entry: QuarantineEntry = {
      id: record.eventID,
      reason: decoded.reason,
      message: decoded.message,
      ...(decoded.eventId ? { eventId: decoded.eventId } : {}),
      data: record.kinesis.data,
      partitionKey: record.kinesis.partitionKey,
      shardId: shardOf(record),
      sequenceNumber: record.kinesis.sequenceNumber,
      streamArn: record.eventSourceARN,
      arrivalTime: arrivalTime.toISOString(),
      receivedAt: decidedAt,
    };
    quarantining.push(
      settle(record, async () =>
        (await deps.quarantine.putIfAbsent(entry)) === "stored"
          ? { kind: "quarantined", reason: decoded.reason }
          : { kind: "redelivered" },
      ),
    );
  }

  const duplicate = async (at: Located): Promise<Outcome> => {
    const noted = await deps.decisions.recordDuplicate(at.event.eventId, sourceOf(at), decidedAt);
    return { kind: noted === "stored" ? "duplicate" : "redelivered" };
  };

  // 2–5. Decide the good ones.
  const deciding = (async () => {
    if (good.length === 0) return;
    let prior: ReadonlyMap<string, DecisionRecord>;
    let pass: Awaited<ReturnType<FeatureStateStore["prepare"]>>;
    try {
      prior = await deps.decisions.getMany(good.map((g) => g.event.eventId));
      pass = await deps.features.prepare(
        good,
        new Map([...prior].map(([eventId, decision]) => [eventId, decision.source])),
      );
    } catch (error) {
      for (const g of good) outcomes.set(g.record.eventID, { kind: "failed", error });
      return;
    }

    const firstOf = new Map<string, Located>();
    const failedSources: RecordSource[] = [];
    const lostRaces: RecordSource[] = [];
    // Decisions are independent writes: issue them together, then judge the in-batch copies.
    const writes: Promise<void>[] = [];
    for (const at of good) {
      const { eventId } = at.event;
      if (firstOf.has(eventId)) continue; // re-sent within the batch: judged once its original is settled
      firstOf.set(eventId, at);
      const existing = prior.get(eventId);
      if (existing) {
        writes.push(
          settle(at.record, async () =>
            sameSource(existing.source, at) ? { kind: "redelivered" } : duplicate(at),
          ),
        );
        continue;
      }
      const vector = pass.vectors.get(eventId);
      if (!vector) {
        outcomes.set(at.record.eventID, {
          kind: "failed",
          error: new Error("no feature vector for a new event"),
        });
        failedSources.push(sourceOf(at));
        continue;
      }
      const decision: DecisionRecord = {
        ...deps.decide(at.event, vector),
        eventId,
        type: at.event.type,
        occurredAt: at.event.occurredAt,
        decidedAt,
        features: vector,
        eventFields: storedEventFields(at.event),
        source: sourceOf(at),
      };
      // A challenge outcome's label is written before its decision: put is idempotent, so if the
      // decision write fails the retry writes the label again, and a stored decision means it is there.
      const label = at.event.type === "challenge_outcome" ? challengeOutcomeLabel(at.event) : undefined;
      writes.push(
        settle(at.record, async () => {
          if (label !== undefined) await deps.labels.put([label]);
          if ((await deps.decisions.putIfAbsent(decision)) === "stored") return { kind: "decided", decision };
          lostRaces.push(sourceOf(at));
          // Another delivery of this eventId won; the stored decision says which.
          const winner = await deps.decisions.get(eventId);
          return winner && sameSource(winner.source, at) ? { kind: "redelivered" } : duplicate(at);
        }).then(() => {
          if (outcomes.get(at.record.eventID)?.kind === "failed") failedSources.push(sourceOf(at));
        }),
      );
    }
    await Promise.all(writes);

    // Re-sent copies inside the batch: duplicates, unless their original failed (then retried with it).
    await Promise.all(
      good.map(async (at) => {
        const first = firstOf.get(at.event.eventId);
        if (!first || first === at) return;
        if (outcomes.get(first.record.eventID)?.kind === "failed") {
          outcomes.set(at.record.eventID, {
            kind: "failed",
            error: new Error("the original of this re-sent event failed"),
          });
        } else {
          await settle(at.record, () => duplicate(at));
        }
      }),
    );

    const committed = await pass.commit({ failed: failedSources, duplicates: lostRaces });
    for (const error of committed.errors) deps.logger.error("feature state write failed", { ...error });
    // The store names the first record whose contribution is not applied: the batch is retried from
    // it. What was stored is counted now; on the retry those records are redeliveries.
    for (const retryFrom of committed.failed) retry.add(retryFrom.sequenceNumber);

    for (const at of good) {
      const outcome = outcomes.get(at.record.eventID);
      if (outcome?.kind === "decided") {
        toPublish.push({ event: at.event, decision: outcome.decision, sequenceNumber: at.sequenceNumber });
      }
    }
    try {
      await deps.publisher.publish(toPublish);
    } catch (error) {
      // Decisions are stored; the retry finds them and publishes again (at least once).
      deps.logger.error("publishing decisions failed; the batch will be retried", {
        error: error instanceof Error ? error.name : String(error),
      });
      for (const p of toPublish) retry.add(p.sequenceNumber);
    }
  })();

  await Promise.all([...quarantining, deciding]);
  return summarize(records, outcomes, retry, deps.logger);
}

function summarize(
  records: readonly KinesisStreamRecord[],
  outcomes: ReadonlyMap<string, Outcome>,
  retry: ReadonlySet<string>,
  logger: ScoreLogger,
): ScoreBatchResult {
  const counts = {
    decided: 0,
    quarantined: 0,
    duplicates: 0,
    redelivered: 0,
    failed: 0,
    quarantinedByReason: {} as Partial<Record<QuarantineReason, number>>,
  };
  const decided: DecisionRecord[] = [];
  const failures: string[] = [];
  for (const record of records) {
    const outcome = outcomes.get(record.eventID);
    if (!outcome) throw new Error(`record ${record.eventID} has no outcome`); // a bug, never input
    switch (outcome.kind) {
      case "decided":
        counts.decided++;
        decided.push(outcome.decision);
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
        logger.warn("record quarantined", { id: record.eventID, reason: outcome.reason });
        break;
      case "failed":
        counts.failed++;
        failures.push(record.kinesis.sequenceNumber);
        logger.error("record failed, will be retried", {
          id: record.eventID,
          error: outcome.error instanceof Error ? outcome.error.name : String(outcome.error),
        });
        break;
    }
  }
  for (const sequenceNumber of retry) if (!failures.includes(sequenceNumber)) failures.push(sequenceNumber);
  const result = { ...counts, received: counts.decided + counts.quarantined + counts.duplicates };
  logger.info("batch scored", { records: records.length, ...result });
  return {
    response: { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) },
    counts: result,
    decided,
  };
}
