import { createHash } from "node:crypto";
import type { CleanEvent } from "#shared/domain/event/index";
import type { CompiledFeatureSet, EntityGroup } from "#shared/domain/features/definition";
import { entityPk, eventKeyValues } from "#shared/domain/features/entity-key";
import { applyEvent, type EntityState, type FeatureReading } from "#shared/domain/features/entity-state";
import type { FeatureVector } from "#shared/domain/features/feature-vector";
import { compareSequenceNumbers, isSequenceNumber } from "#shared/domain/features/sequence-number";
import type { LatenessAllowance } from "#shared/domain/features/window";

/**
 * Planning and folding of one batch of stream records into entity states: which records
 * contribute, which entities each touches, the exactly-once filter (per-shard high-water marks)
 * and the values each event reads. Pure; the state store does the I/O around it.
 */

/** A clean event with the stream position it was read from. */
export interface FeatureRecord {
  readonly event: CleanEvent;
  /**
   * The stream the record was read from: its ARN, as in the record's `eventSourceARN`. Shard ids
   * are only unique within a stream (a stream created again, or a second stream feeding the same
   * table, reuses `shardId-000000000000`), so high-water marks are kept per stream and shard.
   */
  readonly stream: string;
  readonly shardId: string;
  /** Kinesis sequence number (decimal text). */
  readonly sequenceNumber: string;
}

/** Where a stored decision's event was read from (the decision item's `source`). */
export interface RecordSource {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/**
 * What a record is for this batch:
 * - `new`: its event has no decision yet; it is read and its contribution applied.
 * - `decided`: a decision stored from this very record exists (an earlier attempt decided it
 *   and may or may not have committed its state); its contribution is applied if still missing.
 * - `copy`: its event was decided from another record (a re-sent event), or it is undecided and
 *   an earlier record of this batch carries the same eventId; it contributes nothing.
 */
export type RecordRole = "new" | "decided" | "copy";

/** A record with its role, event time and the key of its shard's high-water mark. */
export interface PlannedRecord {
  readonly record: FeatureRecord;
  readonly role: RecordRole;
  readonly timeMs: number;
  /** `markKey(record.stream, record.shardId)`: the key of its stream and shard's high-water mark. */
  readonly markKey: string;
}

/**
 * The key of a shard's high-water mark in an entity item: `<stream tag>/<shardId>`, the tag being
 * 8 base64url characters (48 bits) of the SHA-256 of the stream's ARN. A tag instead of the ARN
 * keeps items small (an ARN of a CDK-named stream is about 80 bytes, the tag 8); a collision
 * would need two of the few streams ever feeding one table to share 48 bits. Keys without a
 * slash are marks written before streams were told apart (bare shard ids): see `foldEntity`.
 */
export function markKey(stream: string, shardId: string): string {
  return `${streamTag(stream)}/${shardId}`;
}

function streamTag(stream: string): string {
  return createHash("sha256").update(stream).digest("base64url").slice(0, 8);
}

/** One entity the batch touches, with the records touching it in batch order. */
export interface EntityWork {
  readonly pk: string;
  readonly group: EntityGroup;
  readonly keyValues: readonly string[];
  /** Indexes into `BatchPlan.records`, ascending. */
  readonly touches: readonly number[];
}

/** A planned batch. */
export interface BatchPlan {
  readonly set: CompiledFeatureSet;
  readonly records: readonly PlannedRecord[];
  readonly entities: readonly EntityWork[];
}

/** A batch the caller built wrongly (bad sequence number, records of a shard out of order). */
export class InvalidBatchError extends Error {
  override readonly name = "InvalidBatchError";
}

/** Classifies the records of a batch and groups them by the entities they touch. */
export function planBatch(
  set: CompiledFeatureSet,
  records: readonly FeatureRecord[],
  decided: ReadonlyMap<string, RecordSource>,
): BatchPlan {
  const lastByShard = new Map<string, string>();
  // A batch comes from one stream: hash its ARN once.
  const tags = new Map<string, string>();
  const seen = new Set<string>();
  const planned: PlannedRecord[] = [];
  const entities = new Map<
    string,
    { pk: string; group: EntityGroup; keyValues: string[]; touches: number[] }
  >();
  records.forEach((record, index) => {
    const { shardId, sequenceNumber, event } = record;
    if (!isSequenceNumber(sequenceNumber)) {
      throw new InvalidBatchError(`record ${index}: sequence number is not a canonical decimal`);
    }
    if (typeof record.stream !== "string" || record.stream.length === 0) {
      throw new InvalidBatchError(`record ${index}: no stream`);
    }
    let tag = tags.get(record.stream);
    if (tag === undefined) {
      tag = streamTag(record.stream);
      tags.set(record.stream, tag);
    }
    const mark = `${tag}/${shardId}`;
    const previous = lastByShard.get(mark);
    if (previous !== undefined && compareSequenceNumbers(sequenceNumber, previous) <= 0) {
      throw new InvalidBatchError(
        `record ${index}: sequence numbers of ${shardId} must ascend in batch order`,
      );
    }
    lastByShard.set(mark, sequenceNumber);
    const timeMs = Date.parse(event.occurredAt);
    if (!Number.isFinite(timeMs)) throw new InvalidBatchError(`record ${index}: occurredAt is not a time`);

    // A decided event contributes through the record its decision names, wherever that sits in
    // the batch; an undecided one through its first record here.
    const source = decided.get(event.eventId);
    let role: RecordRole;
    if (source !== undefined) {
      role = source.shardId === shardId && source.sequenceNumber === sequenceNumber ? "decided" : "copy";
    } else {
      role = seen.has(event.eventId) ? "copy" : "new";
      seen.add(event.eventId);
    }
    planned.push({ record, role, timeMs, markKey: mark });
    if (role === "copy") return;

    for (const group of set.groups) {
      // A decided record only needs the entities it may add to; a new one also reads the others.
      if (role === "decided" && !group.features.some((f) => f.accepts(event))) continue;
      const keyValues = eventKeyValues(group, event);
      if (keyValues === undefined) continue;
      const pk = entityPk(group.entity, keyValues);
      const work = entities.get(pk) ?? { pk, group, keyValues, touches: [] };
      if (work.touches.length === 0) entities.set(pk, work);
      work.touches.push(index);
    }
  });
  return { set, records: planned, entities: [...entities.values()] };
}

/**
 * The highest sequence number of a shard applied to the state: the mark under the stream's key,
 * or a legacy mark under the bare shard id (written before streams were told apart), whichever
 * is higher. Legacy marks are folded into the keyed mark at the entity's next write (`foldEntity`)
 * and otherwise expire after the high-water retention.
 */
function appliedUpToOf(state: EntityState, key: string, shardId: string): string | undefined {
  const keyed = state.highWater.get(key)?.sequenceNumber;
  const legacy = state.highWater.get(shardId)?.sequenceNumber;
  if (keyed === undefined) return legacy;
  if (legacy === undefined) return keyed;
  return compareSequenceNumbers(keyed, legacy) >= 0 ? keyed : legacy;
}

/** Whether `sequenceNumber` is at or below the mark of its stream and shard: already applied. */
function alreadyApplied(state: EntityState, p: PlannedRecord): boolean {
  const mark = appliedUpToOf(state, p.markKey, p.record.shardId);
  return mark !== undefined && compareSequenceNumbers(p.record.sequenceNumber, mark) <= 0;
}

/** Options of `foldEntity`. */
export interface FoldOptions {
  /** Collect what each `new` record reads. */
  readonly read: boolean;
  /** Per shard, the first sequence number not to apply (records from it on are left for redelivery). */
  readonly stopAt?: ReadonlyMap<string, string>;
  /**
   * Indexes of records not to apply: their event turned out to be decided from another record
   * when the caller stored the decision (a copy the `decided` lookup had not seen yet).
   */
  readonly skip?: ReadonlySet<number>;
  /** Wall clock for the high-water marks written. */
  readonly nowMs: number;
  /** What the store keeps behind each feature's horizon besides its lateness (who is late). */
  readonly allowance: LatenessAllowance;
}

/** What folding a batch into one entity did. */
export interface FoldResult {
  /** Some feature changed: the entity must be written. */
  readonly changed: boolean;
  /** Per `new` record index, what it read from the group's features (group order). */
  readonly readings: Map<number, FeatureReading[]>;
  /** `new` records whose contribution was already in the state when read. */
  readonly redelivered: Set<number>;
}

/**
 * Folds the batch's records into one entity's state, in batch order, in place. A record whose
 * sequence number is at or below its stream and shard's high-water mark is already applied and
 * is not applied again; the mark of each stream and shard becomes its highest record applied that
 * changed the state,
 * and a legacy mark of the same shard id is removed (the records applied were above it).
 */
export function foldEntity(
  plan: BatchPlan,
  work: EntityWork,
  state: EntityState,
  options: FoldOptions,
): FoldResult {
  const readings = new Map<number, FeatureReading[]>();
  const redelivered = new Set<number>();
  const appliedUpTo = new Map<string, PlannedRecord>();
  let changed = false;
  for (const index of work.touches) {
    const planned = plan.records[index] as PlannedRecord;
    const { record, role, timeMs } = planned;
    if (options.skip?.has(index)) continue;
    const stop = options.stopAt?.get(record.shardId);
    const beforeStop = stop === undefined || compareSequenceNumbers(record.sequenceNumber, stop) < 0;
    const wantsReading = options.read && role === "new";
    const applied = alreadyApplied(state, planned);
    const apply = beforeStop && !applied;
    if (!apply && !wantsReading) continue;
    const result = applyEvent(
      state,
      work.group,
      record.event,
      timeMs,
      { count: apply, read: wantsReading },
      options.allowance,
    );
    if (result.changed) changed = true;
    // Only a record that changed the state moves the mark: one no feature of the group counted
    // (a filter it fails) is a no-op on any redelivery too, and leaving it out keeps the mark a
    // function of the records, not of how they were batched.
    if (apply && result.changed) appliedUpTo.set(planned.markKey, planned);
    if (result.readings) readings.set(index, result.readings);
    if (wantsReading && applied) redelivered.add(index);
  }
  if (changed) {
    for (const [key, { record }] of appliedUpTo) {
      // Records above a legacy mark of their shard id were applied: it is not needed any more.
      state.highWater.delete(record.shardId);
      state.highWater.set(key, { sequenceNumber: record.sequenceNumber, recordedAtMs: options.nowMs });
    }
  }
  return { changed, readings, redelivered };
}

/** The feature vector of every `new` record, from the readings of all the entities it touched and its link counts. */
export function buildVectors(
  plan: BatchPlan,
  folds: ReadonlyArray<{ readonly work: EntityWork; readonly result: FoldResult }>,
  links: ReadonlyMap<number, ReadonlyMap<string, FeatureReading>> = new Map(),
): Map<string, FeatureVector> {
  const values = new Map<number, Record<string, number | null>>();
  const saturated = new Map<number, string[]>();
  const late = new Map<number, string[]>();
  const redelivered = new Set<number>();
  plan.records.forEach((p, index) => {
    if (p.role !== "new") return;
    const v: Record<string, number | null> = {};
    for (const f of plan.set.features) v[f.id] = null;
    values.set(index, v);
    saturated.set(index, []);
    late.set(index, []);
  });
  for (const { work, result } of folds) {
    for (const [index, readings] of result.readings) {
      const v = values.get(index);
      if (!v) continue;
      work.group.features.forEach((f, i) => {
        const r = readings[i] as FeatureReading;
        v[f.id] = r.value;
        if (r.saturated) saturated.get(index)?.push(f.id);
        if (r.late) late.get(index)?.push(f.id);
      });
    }
    for (const index of result.redelivered) redelivered.add(index);
  }
  for (const [index, readings] of links) {
    const v = values.get(index);
    if (!v) continue;
    for (const [id, r] of readings) {
      v[id] = r.value;
      if (r.saturated) saturated.get(index)?.push(id);
      if (r.late) late.get(index)?.push(id);
    }
  }
  // Lists in feature set order, whatever order the entities were folded in.
  const position = new Map(plan.set.features.map((f, i) => [f.id, i]));
  const inSetOrder = (ids: string[] | undefined) =>
    (ids ?? []).sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
  const vectors = new Map<string, FeatureVector>();
  for (const [index, v] of values) {
    const eventId = (plan.records[index] as PlannedRecord).record.event.eventId;
    vectors.set(eventId, {
      version: plan.set.version,
      values: v,
      saturated: inSetOrder(saturated.get(index)),
      late: inSetOrder(late.get(index)),
      ...(redelivered.has(index) ? { redelivered: true as const } : {}),
    });
  }
  return vectors;
}
