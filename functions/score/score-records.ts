import type { KinesisStreamBatchResponse, KinesisStreamRecord } from "aws-lambda";
import { storedEventFields } from "#shared/domain/decision/model/model-event-fields";
import {
  type Pseudonymizer,
  type StoredDecisionContent,
  toStoredDecisionContent,
} from "#shared/domain/decision-message/index";
import {
  type CleanEvent,
  type DecodeLimits,
  decodeRecord,
  type QuarantineReason,
} from "#shared/domain/event/index";
import {
  compareSequenceNumbers,
  type FeatureRecord,
  type FeatureVector,
  type RecordSource,
} from "#shared/domain/features/index";
import { challengeOutcomeLabel } from "#shared/domain/labels/index";
import { errorFields, errorNameOf } from "#shared/error-fields";
import type { DecidedEvent, DecisionPublisher } from "#shared/ports/decision-publisher";
import type { DecisionContent, DecisionRecord, DecisionStore } from "#shared/ports/decision-store";
import type { LabelStore } from "#shared/ports/label-store";
import type { QuarantineEntry, QuarantineStore } from "#shared/ports/quarantine-store";
import type { ReceiptLedger, SettledOutcome, SettledRecord, ShardRef } from "#shared/ports/receipt-ledger";
import type { Stage as ProbedStage, StageProbe } from "#shared/ports/stage-probe";
import type { CommitResult, FeaturePass, FeatureStateStore } from "#shared/ports/state-store";

/** The slice of a logger the use case needs (Powertools' Logger fits). */
export interface ScoreLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

/** Decides one clean event from its features: the rules engine and model plug in here. */
export type Decide = (event: CleanEvent, features: FeatureVector) => DecisionContent;

/** What the score use case needs; every I/O dependency is a port. */
export interface ScoreDependencies {
  readonly decisions: DecisionStore;
  /** The decisions stream; every stored decision is published at least once. */
  readonly publisher: DecisionPublisher;
  readonly quarantine: QuarantineStore;
  /** Where a challenge outcome's label goes (docs/labels.md). */
  readonly labels: Pick<LabelStore, "put">;
  readonly features: FeatureStateStore;
  /** Counts records received and outcomes settled, once each (docs/data-quality.md). */
  readonly receipts: ReceiptLedger;
  readonly decide: Decide;
  /**
   * The keyed pseudonymizer of the decisions stream, for list entries in stored decisions. Asked
   * only for a batch with list hits.
   */
  readonly pseudonymizer: () => Promise<Pseudonymizer>;
  readonly limits?: Partial<DecodeLimits>;
  readonly now: () => Date;
  readonly logger: ScoreLogger;
  /**
   * Crash-test instrumentation (docs/crash-test.md): told when stages 5 to 8 are done. Absent in
   * production.
   */
  readonly probe?: StageProbe;
}

/**
 * What one invocation did with its records. Per invocation every record is exactly one of
 * decided, quarantined, duplicate, redelivered or failed:
 * - decided / quarantined / duplicate: its outcome stands and is counted now, for the first time
 *   (the receipt ledger's settled mark moved over it);
 * - redelivered: its outcome stands and was counted by an earlier delivery (a retry, a bisected
 *   batch, a restart, an overlapping invocation);
 * - failed: reported back for retry (an I/O call failed for it or for an earlier record of its
 *   shard); a later delivery counts it.
 * `received` counts first deliveries (the receipt mark), independently of outcomes: summed over a
 * run whose retries have settled, received = decided + quarantined + duplicates, and a record
 * lost on the way makes that equation false.
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

/** The partial batch response for Lambda, the counts, and the decisions counted now. */
export interface ScoreBatchResult {
  readonly response: KinesisStreamBatchResponse;
  readonly counts: ScoreBatchCounts;
  /** The decisions counted as decided by this invocation (one entry per decision over a run), in stream order. */
  readonly decided: readonly DecisionRecord[];
  /** Per entry of `decided`: milliseconds from the record's arrival on the stream to its `decidedAt`. */
  readonly putToDecisionMs: readonly number[];
}

/** A record that decoded: its stream position and clean event. */
export type Located = FeatureRecord & { readonly record: KinesisStreamRecord; readonly shard: ShardRef };

/** A record that did not decode, with the quarantine entry it gets. */
interface Rejected {
  readonly record: KinesisStreamRecord;
  readonly shard: ShardRef;
  readonly entry: QuarantineEntry;
}

/** A batch after decoding, records in batch order. */
interface DecodedBatch {
  readonly records: readonly KinesisStreamRecord[];
  readonly good: readonly Located[];
  readonly rejected: readonly Rejected[];
  readonly shards: ReadonlyMap<string, ShardRef>;
}

/** Pipeline steps, named in failure logs. */
type Stage =
  | "receive"
  | "label"
  | "lookup"
  | "prepare"
  | "decide"
  | "store"
  | "quarantine"
  | "commit"
  | "publish"
  | "settle";

/** Where a record stands after this invocation's writes. */
type Outcome =
  | {
      /** This record's own decision stands (stored now, or found from an earlier delivery). */
      readonly kind: "decided";
      readonly decision: DecisionRecord;
      readonly event: CleanEvent;
    }
  | { readonly kind: "duplicate" }
  | { readonly kind: "quarantined"; readonly reason: QuarantineReason }
  | { readonly kind: "failed"; readonly stage: Stage; readonly error: unknown };

/** How a decoded record relates to the decisions that existed before this invocation wrote any. */
type Role =
  /** No decision for its eventId; the first record of it in the batch: decide it. */
  | "new"
  /** A decision from this very record stands: an earlier delivery decided it. */
  | "own"
  /** A decision from another record stands: a re-sent event. */
  | "resent"
  /** A later record of an eventId that is `new` earlier in this batch: follows its original. */
  | "copy";

const shardKey = (s: { readonly stream?: string; readonly shardId: string }) =>
  `${s.stream ?? ""}#${s.shardId}`;
const sameSource = (a: RecordSource, b: RecordSource) =>
  a.shardId === b.shardId && a.sequenceNumber === b.sequenceNumber;
const sourceOf = (r: Located): RecordSource => ({ shardId: r.shardId, sequenceNumber: r.sequenceNumber });

/**
 * Decides every record of a Kinesis batch (normally one shard's records, in order), so that every
 * record ends exactly once as decided, quarantined or duplicate, every stored decision is published
 * at least once, and every decided event's contribution is committed exactly once, whatever fails
 * and whenever (docs/data-quality.md). Stages, each below with what it guarantees:
 *
 * 1. {@link decodeBatch}: every record decodes or gets a quarantine reason (pure).
 * 2. {@link receiveBatch}: first deliveries are counted before anything is written.
 * 3. {@link lookUpPrior} and {@link classify}: each decoded record's role from the stored decisions.
 * 4. {@link prepareFeatures}: the feature vectors of new events (nothing written).
 * 5. {@link quarantineRejected}, {@link decideAndStore}, {@link settleCopies}: every record's
 *    outcome is written (or its failure noted).
 * 6. {@link commitContributions}: the contributions of records decided from themselves.
 * 7. {@link publishDecisions}: this record's own decision, for every record up to the retry point.
 * 8. {@link settleOutcomes}: outcomes counted once, on the receipt ledger.
 * 9. {@link summarize}: counts, logs and the partial batch response.
 *
 * Never throws for a bad record. An I/O failure fails its record, and every later record of its
 * shard is reported for retry with it (the event source mapping redelivers from the lowest
 * reported sequence number anyway); every step is idempotent per record, so a retry, a bisected
 * batch or an overlapping invocation cannot decide, count or commit anything twice.
 */
export async function scoreRecords(
  records: readonly KinesisStreamRecord[],
  deps: ScoreDependencies,
): Promise<ScoreBatchResult> {
  const now = deps.now();
  const batch = decodeBatch(records, now, deps.limits);
  const outcomes = new Map<KinesisStreamRecord, Outcome>();
  const retry = new RetryPoints();

  // Reads and the receipt go together; nothing is written before the receipt is counted.
  const lookingUp = lookUpAndPrepare(batch.good, deps);
  const receipt = await receiveBatch(batch, deps.receipts, now).then(
    (received) => ({ ok: true as const, received }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (!receipt.ok) {
    await lookingUp;
    for (const record of records)
      outcomes.set(record, { kind: "failed", stage: "receive", error: receipt.error });
    return summarize(batch, outcomes, retryAll(batch, retry), new Set(), new Set(), deps.logger);
  }

  const quarantining = quarantineRejected(batch.rejected, deps.quarantine, outcomes);
  const lookup = await lookingUp;
  if (!lookup.ok) {
    for (const at of batch.good)
      outcomes.set(at.record, { kind: "failed", stage: lookup.stage, error: lookup.error });
  } else {
    const stored = await decideAndStore(batch.good, lookup, deps, now, outcomes);
    await settleCopies(batch.good, lookup.roles, deps.decisions, now, outcomes);
    noteFailures(outcomes, retry);
    probe(deps.probe, "stored", batch, stored.decisions);
    const written = await commitContributions(batch, lookup.pass, stored.lostRaces, retry, deps.logger);
    probe(deps.probe, "committed", batch, written);
  }
  await quarantining;
  noteFailures(outcomes, retry);

  const published = await publishDecisions(batch, outcomes, retry, deps.publisher, deps.logger);
  probe(deps.probe, "published", batch, published);
  const counted = await settleOutcomes(batch, outcomes, retry, deps.receipts, now, deps.logger);
  probe(deps.probe, "settled", batch, counted.size);
  return summarize(batch, outcomes, retry, receipt.received, counted, deps.logger);
}

/** Tells the crash-test probe, if any, that `stage` is done for each shard of the batch. */
function probe(target: StageProbe | undefined, stage: ProbedStage, batch: DecodedBatch, count: number): void {
  if (!target) return;
  for (const shard of batch.shards.values()) {
    const sequenceNumbers = ascending(
      batch.records.filter(
        (r) => shardKey({ stream: streamOf(r), shardId: shardIdOf(r) }) === shardKey(shard),
      ),
    );
    const first = sequenceNumbers[0];
    const last = sequenceNumbers.at(-1);
    if (first === undefined || last === undefined) continue;
    target.reached({ stage, shardId: shard.shardId, first, last, records: sequenceNumbers.length, count });
  }
}

/** Every failed record moves its shard's retry point to itself. */
function noteFailures(outcomes: ReadonlyMap<KinesisStreamRecord, Outcome>, retry: RetryPoints): void {
  for (const [record, outcome] of outcomes) if (outcome.kind === "failed") retry.failAt(record);
}

/** Stages 3 and 4 in order; never rejects (a failure is returned with its stage). */
async function lookUpAndPrepare(
  good: readonly Located[],
  deps: ScoreDependencies,
): Promise<
  | {
      readonly ok: true;
      readonly prior: ReadonlyMap<string, DecisionRecord>;
      readonly roles: ReadonlyMap<Located, Role>;
      readonly pass: FeaturePass;
    }
  | { readonly ok: false; readonly stage: Stage; readonly error: unknown }
> {
  let prior: ReadonlyMap<string, DecisionRecord>;
  try {
    prior = await lookUpPrior(good, deps.decisions);
  } catch (error) {
    return { ok: false, stage: "lookup", error };
  }
  const roles = classify(good, prior);
  try {
    return { ok: true, prior, roles, pass: await prepareFeatures(good, prior, deps.features) };
  } catch (error) {
    return { ok: false, stage: "prepare", error };
  }
}

/**
 * Per shard, the lowest sequence number to be retried: every record at or above it is reported
 * as a batch item failure, every record below it has its outcome standing, committed and published.
 */
class RetryPoints {
  private readonly points = new Map<string, string>();

  /** Retry from `record` (or from an earlier point already set). */
  failAt(record: KinesisStreamRecord): void {
    this.failFrom({ shardId: shardIdOf(record), sequenceNumber: record.kinesis.sequenceNumber }, record);
  }

  /** Retry from `source` of the shard `record` belongs to. */
  failFrom(source: RecordSource, record: KinesisStreamRecord): void {
    const key = shardKey({ stream: streamOf(record), shardId: source.shardId });
    const current = this.points.get(key);
    if (current === undefined || compareSequenceNumbers(source.sequenceNumber, current) < 0) {
      this.points.set(key, source.sequenceNumber);
    }
  }

  /** Whether `record` is at or after its shard's retry point. */
  retries(record: KinesisStreamRecord): boolean {
    const point = this.points.get(shardKey({ stream: streamOf(record), shardId: shardIdOf(record) }));
    return point !== undefined && compareSequenceNumbers(record.kinesis.sequenceNumber, point) >= 0;
  }
}

function retryAll(batch: DecodedBatch, retry: RetryPoints): RetryPoints {
  for (const record of batch.records) retry.failAt(record);
  return retry;
}

/** The stream name of a record, from its event source ARN (`arn:aws:kinesis:…:stream/<name>`). */
export function streamOf(record: KinesisStreamRecord): string {
  const arn = record.eventSourceARN;
  const at = arn.indexOf(":stream/");
  return at < 0 ? arn : arn.slice(at + ":stream/".length);
}

/** The shard id of a record, from its Kinesis `eventID` (`<shardId>:<sequenceNumber>`). */
function shardIdOf(record: KinesisStreamRecord): string {
  return record.eventID.slice(0, record.eventID.lastIndexOf(":"));
}

/**
 * The one place a decoded record becomes a FeatureRecord: its clean event and stream position.
 * (Fields the state store needs from the record, such as arrival time or stream, go here.)
 */
function locate(record: KinesisStreamRecord, event: CleanEvent, shard: ShardRef): Located {
  return {
    record,
    shard,
    event,
    // High-water marks are kept per stream and shard (docs/features.md, section 7).
    stream: record.eventSourceARN,
    shardId: shard.shardId,
    sequenceNumber: record.kinesis.sequenceNumber,
  };
}

/**
 * Stage 1, decode (pure): every record either decodes into a clean event or gets the quarantine
 * entry it will be stored as, with its reason. Never throws for any bytes.
 */
function decodeBatch(
  records: readonly KinesisStreamRecord[],
  now: Date,
  limits?: Partial<DecodeLimits>,
): DecodedBatch {
  const good: Located[] = [];
  const rejected: Rejected[] = [];
  const shards = new Map<string, ShardRef>();
  for (const record of records) {
    const shard = { stream: streamOf(record), shardId: shardIdOf(record) };
    if (!shards.has(shardKey(shard))) shards.set(shardKey(shard), shard);
    const arrivalTime = arrivalOf(record);
    const decoded = decodeRecord(Buffer.from(record.kinesis.data, "base64"), {
      arrivalTime,
      ...(limits ? { limits } : {}),
    });
    if (decoded.ok) {
      good.push(locate(record, decoded.event, shard));
      continue;
    }
    rejected.push({
      record,
      shard,
      entry: {
        id: record.eventID,
        reason: decoded.reason,
        message: decoded.message,
        ...(decoded.eventId ? { eventId: decoded.eventId } : {}),
        data: record.kinesis.data,
        partitionKey: record.kinesis.partitionKey,
        shardId: shard.shardId,
        sequenceNumber: record.kinesis.sequenceNumber,
        streamArn: record.eventSourceARN,
        arrivalTime: arrivalTime.toISOString(),
        receivedAt: now.toISOString(),
      },
    });
  }
  return { records, good, rejected, shards };
}

function arrivalOf(record: KinesisStreamRecord): Date {
  return new Date(record.kinesis.approximateArrivalTimestamp * 1000);
}

/**
 * Stage 2, receive: counts the batch's first deliveries on the receipt ledger, per shard, before
 * anything is written for them. Throws if the ledger cannot be written: the whole batch is then
 * retried, and counted by the retry.
 */
async function receiveBatch(batch: DecodedBatch, receipts: ReceiptLedger, now: Date): Promise<Set<string>> {
  const received = new Set<string>();
  await Promise.all(
    [...batch.shards.values()].map(async (shard) => {
      const records = batch.records.filter(
        (r) => shardKey({ stream: streamOf(r), shardId: shardIdOf(r) }) === shardKey(shard),
      );
      const counted = await receipts.receive(shard, ascending(records), now);
      for (const r of records) if (counted.has(r.kinesis.sequenceNumber)) received.add(r.eventID);
    }),
  );
  return received;
}

/** Sequence numbers of one shard's records, ascending (batch order, as Kinesis delivers them). */
function ascending(records: readonly KinesisStreamRecord[]): string[] {
  return records.map((r) => r.kinesis.sequenceNumber).sort(compareSequenceNumbers);
}

/** Stage 3a, look up: the stored decisions of the batch's eventIds (consistent reads). Writes nothing. */
function lookUpPrior(
  good: readonly Located[],
  decisions: DecisionStore,
): Promise<ReadonlyMap<string, DecisionRecord>> {
  if (good.length === 0) return Promise.resolve(new Map());
  return decisions.getMany(good.map((g) => g.event.eventId));
}

/**
 * Stage 3b, classify (pure): each decoded record's {@link Role}. A decision whose source is the
 * record itself makes it `own`, whatever other records of the batch carry the eventId.
 */
function classify(good: readonly Located[], prior: ReadonlyMap<string, DecisionRecord>): Map<Located, Role> {
  const roles = new Map<Located, Role>();
  const seen = new Set<string>();
  for (const at of good) {
    const existing = prior.get(at.event.eventId);
    if (existing) {
      roles.set(at, sameSource(existing.source, at) ? "own" : "resent");
    } else {
      roles.set(at, seen.has(at.event.eventId) ? "copy" : "new");
      seen.add(at.event.eventId);
    }
  }
  return roles;
}

/**
 * Stage 4, prepare: reads the state of every entity the batch touches and computes the vector of
 * each new event (stored state plus the batch's earlier events). Writes nothing.
 */
function prepareFeatures(
  good: readonly Located[],
  prior: ReadonlyMap<string, DecisionRecord>,
  features: FeatureStateStore,
): Promise<FeaturePass> {
  return features.prepare(good, new Map([...prior].map(([eventId, d]) => [eventId, d.source])));
}

/**
 * Stage 5a, quarantine: one entry per rejected record, written once (a redelivery finds it). A
 * failed write fails the record.
 */
function quarantineRejected(
  rejected: readonly Rejected[],
  quarantine: QuarantineStore,
  outcomes: Map<KinesisStreamRecord, Outcome>,
): Promise<void> {
  return Promise.all(
    rejected.map(async ({ record, entry }) => {
      try {
        await quarantine.putIfAbsent(entry);
        outcomes.set(record, { kind: "quarantined", reason: entry.reason });
      } catch (error) {
        outcomes.set(record, { kind: "failed", stage: "quarantine", error });
      }
    }),
  ).then(() => undefined);
}

/**
 * Stage 5b, decide and store: every `new` record is decided with its vector and its decision put
 * if absent; every `own` record takes its standing decision; every `resent` record gets its
 * duplicate marker. A put answered "exists" reads the standing decision and checks its source
 * first: if it came from this very record (the SDK retried a write that had gone through, or an
 * overlapping invocation of this batch wrote it) it is this record's decision; only one from
 * another record makes this record a duplicate, whose contribution must then not be committed
 * (returned as lost races). `copy` records are left to {@link settleCopies}. Also returns how
 * many decisions this call stored.
 */
async function decideAndStore(
  good: readonly Located[],
  lookup: {
    readonly prior: ReadonlyMap<string, DecisionRecord>;
    readonly roles: ReadonlyMap<Located, Role>;
    readonly pass: FeaturePass;
  },
  deps: ScoreDependencies,
  now: Date,
  outcomes: Map<KinesisStreamRecord, Outcome>,
): Promise<{ readonly lostRaces: RecordSource[]; readonly decisions: number }> {
  const lostRaces: RecordSource[] = [];
  let stored = 0;
  const decidedAt = now.toISOString();
  let pseudonymizer: Promise<Pseudonymizer> | undefined;
  const protect = async (content: DecisionContent): Promise<StoredDecisionContent> => {
    if (content.listHits.length === 0) return toStoredDecisionContent(content, unusedPseudonymizer);
    pseudonymizer ??= deps.pseudonymizer();
    return toStoredDecisionContent(content, await pseudonymizer);
  };
  const markDuplicate = async (at: Located): Promise<Outcome> => {
    await deps.decisions.recordDuplicate(at.event.eventId, sourceOf(at), decidedAt);
    return { kind: "duplicate" };
  };

  await Promise.all(
    good.map(async (at) => {
      const role = lookup.roles.get(at);
      let stage: Stage = "store";
      try {
        if (role === "own") {
          const decision = lookup.prior.get(at.event.eventId) as DecisionRecord;
          outcomes.set(at.record, { kind: "decided", decision, event: at.event });
        } else if (role === "resent") {
          outcomes.set(at.record, await markDuplicate(at));
        } else if (role === "new") {
          stage = "decide";
          const vector = lookup.pass.vectors.get(at.event.eventId);
          if (!vector) throw new Error("no feature vector for a new event");
          const decision: DecisionRecord = {
            ...(await protect(deps.decide(at.event, vector))),
            eventId: at.event.eventId,
            type: at.event.type,
            occurredAt: at.event.occurredAt,
            decidedAt,
            features: vector,
            eventFields: storedEventFields(at.event),
            source: sourceOf(at),
          };
          // A challenge outcome's label is written before its decision: the put is idempotent (the
          // label's id derives from its content), so a stored decision means its label is there.
          const label = at.event.type === "challenge_outcome" ? challengeOutcomeLabel(at.event) : undefined;
          if (label !== undefined) {
            stage = "label";
            await deps.labels.put([label]);
          }
          stage = "store";
          if ((await deps.decisions.putIfAbsent(decision)) === "stored") {
            stored++;
            outcomes.set(at.record, { kind: "decided", decision, event: at.event });
            return;
          }
          const standing = await deps.decisions.get(at.event.eventId);
          if (!standing) throw new Error("a decision was reported to exist but cannot be read");
          if (sameSource(standing.source, at)) {
            outcomes.set(at.record, { kind: "decided", decision: standing, event: at.event });
          } else {
            lostRaces.push(sourceOf(at));
            outcomes.set(at.record, await markDuplicate(at));
          }
        }
      } catch (error) {
        outcomes.set(at.record, { kind: "failed", stage, error });
      }
    }),
  );
  return { lostRaces, decisions: stored };
}

/** Never called: decisions without list hits have nothing to pseudonymize. */
const unusedPseudonymizer: Pseudonymizer = () => {
  throw new Error("no list hit to pseudonymize");
};

/**
 * Stage 5c, copies: a re-sent event inside the batch follows its original. A copy of an original
 * that failed fails too (it is judged again with it on the retry); otherwise it is a duplicate
 * and gets its marker.
 */
async function settleCopies(
  good: readonly Located[],
  roles: ReadonlyMap<Located, Role>,
  decisions: DecisionStore,
  now: Date,
  outcomes: Map<KinesisStreamRecord, Outcome>,
): Promise<void> {
  const originals = new Map<string, Located>();
  for (const at of good) if (roles.get(at) === "new") originals.set(at.event.eventId, at);
  await Promise.all(
    good.map(async (at) => {
      if (roles.get(at) !== "copy") return;
      const original = originals.get(at.event.eventId);
      const first = original ? outcomes.get(original.record) : undefined;
      if (!first || first.kind === "failed") {
        outcomes.set(at.record, {
          kind: "failed",
          stage: first?.kind === "failed" ? first.stage : "decide",
          error: new Error("the original of this re-sent event failed"),
        });
        return;
      }
      try {
        await decisions.recordDuplicate(at.event.eventId, sourceOf(at), now.toISOString());
        outcomes.set(at.record, { kind: "duplicate" });
      } catch (error) {
        outcomes.set(at.record, { kind: "failed", stage: "store", error });
      }
    }),
  );
}

/**
 * Stage 6, commit: writes the batch's contributions, each entity once. Applied: every record
 * decided from itself (new ones, and own ones whose contribution may still be missing) below its
 * shard's retry point; not applied: lost races (decided from another record) and copies. The
 * store's high-water marks make a contribution already applied (by an earlier delivery or an
 * overlapping invocation) a no-op. A write that fails moves the retry point to the first record
 * whose contribution it holds; a commit that throws moves it to the shard's first decoded record.
 * Returns the number of entity items written.
 */
async function commitContributions(
  batch: DecodedBatch,
  pass: FeaturePass,
  lostRaces: readonly RecordSource[],
  retry: RetryPoints,
  logger: ScoreLogger,
): Promise<number> {
  const failed: RecordSource[] = [];
  for (const record of batch.records) {
    if (retry.retries(record))
      failed.push({ shardId: shardIdOf(record), sequenceNumber: record.kinesis.sequenceNumber });
  }
  let committed: CommitResult;
  try {
    committed = await pass.commit({ failed, duplicates: lostRaces });
  } catch (error) {
    logger.error(
      "feature state commit failed; the batch is retried from its first event",
      errorFields(error),
    );
    for (const at of batch.good) retry.failAt(at.record);
    return 0;
  }
  for (const e of committed.errors) {
    logger.error("feature state write failed", { entityType: e.entityType, error: errorNameOf(e.error) });
  }
  for (const source of committed.failed) {
    const record = batch.records.find((r) => shardIdOf(r) === source.shardId);
    if (record) retry.failFrom(source, record);
  }
  return committed.written;
}

/**
 * Stage 7, publish: the decision of every record decided from itself and below its shard's retry
 * point, whether stored now or by an earlier delivery (which may have stopped before publishing;
 * consumers are idempotent per eventId). If publishing fails, every one of them is retried.
 * Returns the number of decisions published.
 */
async function publishDecisions(
  batch: DecodedBatch,
  outcomes: ReadonlyMap<KinesisStreamRecord, Outcome>,
  retry: RetryPoints,
  publisher: DecisionPublisher,
  logger: ScoreLogger,
): Promise<number> {
  const toPublish: Array<DecidedEvent & { readonly record: KinesisStreamRecord }> = [];
  for (const record of batch.records) {
    const outcome = outcomes.get(record);
    if (outcome?.kind === "decided" && !retry.retries(record)) {
      toPublish.push({ event: outcome.event, decision: outcome.decision, record });
    }
  }
  if (toPublish.length === 0) return 0;
  try {
    await publisher.publish(toPublish.map(({ event, decision }) => ({ event, decision })));
    return toPublish.length;
  } catch (error) {
    logger.error("publishing decisions failed; they are retried", errorFields(error));
    for (const p of toPublish) retry.failAt(p.record);
    return 0;
  }
}

/**
 * Stage 8, settle: counts, on the receipt ledger, the outcomes of every record below its shard's
 * retry point (their outcomes stand, their contributions are committed and their decisions
 * published). Returns the eventIDs counted now; the rest of them were counted by an earlier
 * delivery. If the ledger cannot be written, the shard's records are retried (and counted then).
 */
async function settleOutcomes(
  batch: DecodedBatch,
  outcomes: ReadonlyMap<KinesisStreamRecord, Outcome>,
  retry: RetryPoints,
  receipts: ReceiptLedger,
  now: Date,
  logger: ScoreLogger,
): Promise<Set<string>> {
  const counted = new Set<string>();
  await Promise.all(
    [...batch.shards.values()].map(async (shard) => {
      const records = batch.records
        .filter((r) => shardKey({ stream: streamOf(r), shardId: shardIdOf(r) }) === shardKey(shard))
        .sort((a, b) => compareSequenceNumbers(a.kinesis.sequenceNumber, b.kinesis.sequenceNumber));
      const settled: SettledRecord[] = [];
      for (const record of records) {
        if (retry.retries(record)) break;
        const outcome = settledOutcome(outcomes.get(record));
        if (!outcome) throw new Error(`record ${record.eventID} has no outcome`); // a bug, never input
        settled.push({ sequenceNumber: record.kinesis.sequenceNumber, outcome });
      }
      if (settled.length === 0) return;
      try {
        const countedNow = await receipts.settle(shard, settled, now);
        for (const r of records) if (countedNow.has(r.kinesis.sequenceNumber)) counted.add(r.eventID);
      } catch (error) {
        logger.error("counting outcomes failed; the shard's records are retried", errorFields(error));
        for (const r of records) retry.failAt(r);
      }
    }),
  );
  return counted;
}

function settledOutcome(outcome: Outcome | undefined): SettledOutcome | undefined {
  if (!outcome || outcome.kind === "failed") return undefined;
  return outcome.kind;
}

/**
 * Stage 9, summarize: each record's kind for this invocation (see {@link ScoreBatchCounts}), one
 * log line per failed record naming its stage and error (name and code only), and the partial
 * batch response listing every record at or after its shard's retry point.
 */
function summarize(
  batch: DecodedBatch,
  outcomes: ReadonlyMap<KinesisStreamRecord, Outcome>,
  retry: RetryPoints,
  received: ReadonlySet<string>,
  counted: ReadonlySet<string>,
  logger: ScoreLogger,
): ScoreBatchResult {
  const counts = {
    received: 0,
    decided: 0,
    quarantined: 0,
    duplicates: 0,
    redelivered: 0,
    failed: 0,
    quarantinedByReason: {} as Partial<Record<QuarantineReason, number>>,
  };
  const decided: DecisionRecord[] = [];
  const putToDecisionMs: number[] = [];
  const failures: string[] = [];
  // One line per cause (a table outage fails every record with the same error).
  const causes = new Map<unknown, { stage: Stage; records: number; first: string }>();
  for (const record of batch.records) {
    if (received.has(record.eventID)) counts.received++;
    const outcome = outcomes.get(record);
    if (outcome?.kind === "failed") {
      const cause = causes.get(outcome.error) ?? { stage: outcome.stage, records: 0, first: record.eventID };
      cause.records++;
      causes.set(outcome.error, cause);
    }
    if (retry.retries(record)) {
      counts.failed++;
      failures.push(record.kinesis.sequenceNumber);
      continue;
    }
    if (!counted.has(record.eventID)) {
      counts.redelivered++;
      continue;
    }
    switch (outcome?.kind) {
      case "decided":
        counts.decided++;
        decided.push(outcome.decision);
        putToDecisionMs.push(
          Math.max(0, Date.parse(outcome.decision.decidedAt) - arrivalOf(record).getTime()),
        );
        break;
      case "duplicate":
        counts.duplicates++;
        break;
      case "quarantined":
        counts.quarantined++;
        counts.quarantinedByReason[outcome.reason] = (counts.quarantinedByReason[outcome.reason] ?? 0) + 1;
        logger.warn("record quarantined", { id: record.eventID, reason: outcome.reason });
        break;
      default:
        throw new Error(`record ${record.eventID} was counted without an outcome`); // a bug, never input
    }
  }
  for (const [error, cause] of causes) {
    logger.error("records failed, will be retried", { ...cause, ...errorFields(error) });
  }
  logger.info("batch scored", { records: batch.records.length, ...counts });
  return {
    response: { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) },
    counts,
    decided,
    putToDecisionMs,
  };
}
