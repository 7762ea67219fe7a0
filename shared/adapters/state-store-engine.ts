import {
  decodeEntity,
  encodeState,
  itemSizeBytes,
  type StoredEntity,
} from "#shared/adapters/dynamodb-state-codec";
import { backoffDelayMs, runPool } from "#shared/adapters/dynamodb-state-retry";
import { DEFAULT_DECODE_LIMITS } from "#shared/domain/event/index";
import {
  type BatchPlan,
  buildVectors,
  type CompiledFeature,
  type CompiledFeatureSet,
  compactEntityState,
  compareSequenceNumbers,
  type EntityState,
  type EntityWork,
  entityExpiresAtMs,
  entityPk,
  type FeatureRecord,
  type FoldResult,
  foldEntity,
  type LatenessAllowance,
  type PlannedRecord,
  planBatch,
  type RecordSource,
  resolveEntity,
  resolveLinkCounts,
  snapshotEntity,
} from "#shared/domain/features/index";
import type {
  CommitOptions,
  CommitResult,
  EntityReading,
  FeaturePass,
  FeatureStateStore,
} from "#shared/ports/state-store";
import { FUNCTIONS } from "#shared/resources";

/**
 * The table an engine keeps entity items in: DynamoDB in production, a Map in unit tests.
 * Reads are strongly consistent; writes are conditional on the revision read.
 */
export interface StateItemTable {
  /** The stored items of `pks`; absent ones are missing from the map. */
  getMany(pks: readonly string[]): Promise<Map<string, StoredEntity>>;
  get(pk: string): Promise<StoredEntity | undefined>;
  /**
   * Stores `item` if the stored item is still `previous` (same revision; undefined: no item).
   * Otherwise stores nothing and returns the current item.
   */
  put(
    pk: string,
    item: StoredEntity,
    previous: StoredEntity | undefined,
  ): Promise<{ readonly ok: true } | { readonly ok: false; readonly current: StoredEntity | undefined }>;
}

/** Tuning of the engine; every field has a default. */
export interface StateStoreEngineOptions {
  /** Wall clock (epoch ms) for TTL and high-water bookkeeping. Default Date.now. */
  readonly clock?: () => number;
  /**
   * Oldest event time the decoder accepts, relative to arrival. Items live at least this long
   * after their data left every window, so that TTL never deletes state a late event could read.
   * Default: the decoder's default (7 days).
   */
  readonly maxEventLatenessMs?: number;
  /**
   * The processing-lag allowance P: the longest a record can wait between its arrival on the
   * stream and the read of its batch. The store keeps P more of every feature's history behind
   * its horizon, so that a record read within P of its arrival, and dated within the feature's
   * lateness of it, is never late (docs/features.md, section 3). Default: the score event source
   * mapping's maximum record age plus the score function's timeout (1 h + 60 s): an older record
   * never reaches the function.
   */
  readonly processingLagMs?: number;
  /**
   * How far an event time may lie after its record's arrival (S; the decoder's `maxFutureSkewMs`).
   * Default: the decoder's default (5 minutes).
   */
  readonly maxFutureSkewMs?: number;
  /** Extra time before an item may expire: clock skew between the writer and TTL. Default 1 day. */
  readonly expiryMarginMs?: number;
  /**
   * How long a shard's high-water mark is kept after its last write: must exceed the longest a
   * record can be redelivered after it was first processed (stream retention). Default 8 days.
   */
  readonly highWaterRetentionMs?: number;
  /** Attempts of one entity write under conditional conflicts (concurrent writers). Default 10. */
  readonly maxWriteAttempts?: number;
  /** Entity writes in flight at once. Default 32. */
  readonly writeConcurrency?: number;
  /** For tests: how to wait between retries, and the jitter source. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** An entity's encoded state would exceed what one item may hold. */
export class EntityTooLargeError extends Error {
  override readonly name = "EntityTooLargeError";
}

/** An entity write kept conflicting with other writers. */
export class WriteConflictError extends Error {
  override readonly name = "WriteConflictError";
}

/** The score function's processing-lag allowance: maximum record age plus timeout, in ms. */
export const SCORE_PROCESSING_LAG_MS =
  (FUNCTIONS.score.eventSource.maxRecordAgeSeconds + FUNCTIONS.score.timeoutSeconds) * 1000;

/** DynamoDB refuses items over 400 KB; stay clear of it. */
export const MAX_ITEM_BYTES = 390 * 1024;

interface Fold {
  readonly work: EntityWork;
  readonly folded: EntityState;
  readonly result: FoldResult;
}

/**
 * The feature state store over any StateItemTable: reads every entity of a batch once, computes
 * the vectors, and on commit writes each changed entity once, conditional on the revision read.
 * Exactly-once comes from the per-shard high-water marks folded into every item (docs/features.md).
 */
export class StateStoreEngine implements FeatureStateStore {
  /**
   * What link counts cost: read rounds beyond the batch's first BatchGetItem, and the item keys
   * they asked for (items the batch had not read). Link counts never write.
   */
  readonly linkReads = { rounds: 0, keys: 0 };
  private set: CompiledFeatureSet;
  private byKey: ReadonlyMap<string, CompiledFeature>;
  private readonly clock: () => number;
  private readonly maxEventLatenessMs: number;
  private readonly allowance: LatenessAllowance;
  private readonly expiryMarginMs: number;
  private readonly highWaterRetentionMs: number;
  private readonly maxWriteAttempts: number;
  private readonly writeConcurrency: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly table: StateItemTable,
    set: CompiledFeatureSet,
    options: StateStoreEngineOptions = {},
  ) {
    this.set = set;
    this.byKey = byStateKey(set);
    this.clock = options.clock ?? Date.now;
    this.maxEventLatenessMs = options.maxEventLatenessMs ?? DEFAULT_DECODE_LIMITS.maxLatenessMs;
    this.allowance = {
      processingLagMs: options.processingLagMs ?? SCORE_PROCESSING_LAG_MS,
      maxFutureSkewMs: options.maxFutureSkewMs ?? DEFAULT_DECODE_LIMITS.maxFutureSkewMs,
    };
    for (const [name, value] of Object.entries(this.allowance)) {
      // A negative allowance would prune buckets an event that is not late still reads.
      if (!Number.isSafeInteger(value) || value < 0)
        throw new RangeError(`${name} must be a whole number ≥ 0`);
    }
    this.expiryMarginMs = options.expiryMarginMs ?? 86_400_000;
    this.highWaterRetentionMs = options.highWaterRetentionMs ?? 8 * 86_400_000;
    this.maxWriteAttempts = options.maxWriteAttempts ?? 10;
    this.writeConcurrency = options.writeConcurrency ?? 32;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  /** What the store keeps behind each feature's horizon besides its lateness (P and S). */
  get lateness(): LatenessAllowance {
    return this.allowance;
  }

  /** The feature set this store computes. */
  get features(): CompiledFeatureSet {
    return this.set;
  }

  /**
   * Computes `set` from the next `prepare` on (a pass already prepared keeps the set it was
   * prepared with). States of features the new set does not define are carried, not deleted
   * (docs/features.md, "Changing the feature set"). A no-op for the set in use with the same
   * exchange rates bound (`withCurrencyConverter`).
   */
  use(set: CompiledFeatureSet): void {
    // Same definitions and same exchange rates: nothing to do.
    if (set === this.set || (set.version === this.set.version && set.converter === this.set.converter))
      return;
    this.set = set;
    this.byKey = byStateKey(set);
  }

  async prepare(
    records: readonly FeatureRecord[],
    decided: ReadonlyMap<string, RecordSource>,
  ): Promise<FeaturePass> {
    const byKey = this.byKey;
    const plan = planBatch(this.set, records, decided);
    const stored = await this.table.getMany(plan.entities.map((w) => w.pk));
    const nowMs = this.clock();
    const folds: Fold[] = plan.entities.map((work) => {
      const folded = decodeEntity(work.pk, stored.get(work.pk), byKey);
      const result = foldEntity(plan, work, folded, { read: true, nowMs, allowance: this.allowance });
      return { work, folded, result };
    });
    // Link counts read the items their steps name: those the batch read, and the others once each.
    const linkItems = new Map(stored);
    const requested = new Set(plan.entities.map((w) => w.pk));
    const links = await resolveLinkCounts(
      plan,
      async (pks) => {
        const missing = pks.filter((pk) => !requested.has(pk));
        for (const pk of missing) requested.add(pk);
        if (missing.length > 0) {
          this.linkReads.rounds++;
          this.linkReads.keys += missing.length;
          for (const [pk, item] of await this.table.getMany(missing)) linkItems.set(pk, item);
        }
        return new Map(pks.map((pk) => [pk, decodeEntity(pk, linkItems.get(pk), byKey)]));
      },
      { nowMs, allowance: this.allowance },
    );
    return {
      vectors: buildVectors(plan, folds, links),
      entities: plan.entities.length,
      commit: (options) => this.commit(plan, byKey, stored, folds, options),
    };
  }

  async read(entityType: string, keyValues: readonly string[]): Promise<EntityReading> {
    const { group, values } = resolveEntity(this.set, entityType, keyValues);
    const pk = entityPk(group.entity, values);
    const stored = await this.table.get(pk);
    const state = decodeEntity(pk, stored, this.byKey);
    const nowMs = this.clock();
    return {
      entityType: group.entity.name,
      keyValues: values,
      pk,
      exists: stored !== undefined,
      revision: state.revision,
      expiresAt: stored === undefined ? null : new Date(stored.expiresAt * 1000).toISOString(),
      highWater: Object.fromEntries(
        [...state.highWater].map(([shard, mark]) => [shard, mark.sequenceNumber]),
      ),
      readAt: new Date(nowMs).toISOString(),
      features: snapshotEntity(state, group, nowMs, this.allowance),
    };
  }

  private async commit(
    plan: BatchPlan,
    byKey: ReadonlyMap<string, CompiledFeature>,
    stored: ReadonlyMap<string, StoredEntity>,
    folds: readonly Fold[],
    options: CommitOptions = {},
  ): Promise<CommitResult> {
    const stopAt = new Map<string, string>();
    for (const source of options.failed ?? []) lowerTo(stopAt, source.shardId, source.sequenceNumber);
    const failedAt = new Map(stopAt);
    const duplicates = new Set<string>();
    for (const source of options.duplicates ?? [])
      duplicates.add(`${source.shardId} ${source.sequenceNumber}`);
    const skip = new Set<number>();
    plan.records.forEach((p, i) => {
      if (duplicates.has(`${p.record.shardId} ${p.record.sequenceNumber}`)) skip.add(i);
    });
    const errors: { entityType: string; error: string }[] = [];
    let written = 0;
    await runPool(folds, this.writeConcurrency, async ({ work, folded, result }) => {
      // The fold prepare made is the one to write, unless the caller cut some of its records.
      const cut = work.touches.some((i) => skip.has(i) || isCut(plan.records[i] as PlannedRecord, stopAt));
      try {
        if (
          await this.writeEntity(
            plan,
            byKey,
            work,
            stored.get(work.pk),
            cut ? undefined : { folded, result },
            {
              stopAt,
              skip,
            },
          )
        ) {
          written++;
        }
      } catch (error) {
        errors.push({ entityType: work.group.entity.name, error: describe(error) });
        for (const i of work.touches) {
          const p = plan.records[i] as PlannedRecord;
          if (p.role !== "copy" && !skip.has(i) && !isCut(p, stopAt))
            lowerTo(failedAt, p.record.shardId, p.record.sequenceNumber);
        }
      }
    });
    return {
      failed: [...failedAt].map(([shardId, sequenceNumber]) => ({ shardId, sequenceNumber })),
      written,
      errors,
    };
  }

  /**
   * Writes one entity: fold, compact, conditional write on the revision folded from; on a
   * conflict, fold again onto the item the table returned. True when something was written.
   */
  private async writeEntity(
    plan: BatchPlan,
    byKey: ReadonlyMap<string, CompiledFeature>,
    work: EntityWork,
    loaded: StoredEntity | undefined,
    prepared: Omit<Fold, "work"> | undefined,
    limits: { readonly stopAt: ReadonlyMap<string, string>; readonly skip: ReadonlySet<number> },
  ): Promise<boolean> {
    let previous = loaded;
    let reuse = prepared;
    for (let attempt = 0; ; attempt++) {
      const nowMs = this.clock();
      let state: EntityState;
      let changed: boolean;
      if (reuse) {
        state = reuse.folded;
        changed = reuse.result.changed;
        reuse = undefined;
      } else {
        state = decodeEntity(work.pk, previous, byKey);
        const options = { read: false, ...limits, nowMs, allowance: this.allowance };
        changed = foldEntity(plan, work, state, options).changed;
      }
      if (!changed) return false;
      const compaction = {
        nowMs,
        highWaterRetentionMs: this.highWaterRetentionMs,
        allowance: this.allowance,
      };
      compactEntityState(state, byKey, compaction);
      const expiresAtMs =
        entityExpiresAtMs(state, byKey, { ...compaction, maxEventLatenessMs: this.maxEventLatenessMs }) +
        this.expiryMarginMs;
      const item: StoredEntity = {
        revision: (previous?.revision ?? 0) + 1,
        state: encodeState(state, byKey),
        expiresAt: Math.ceil(expiresAtMs / 1000),
      };
      const size = itemSizeBytes(work.pk, item);
      if (size > MAX_ITEM_BYTES) {
        throw new EntityTooLargeError(`${work.group.entity.name} state would take ${size} bytes`);
      }
      const outcome = await this.table.put(work.pk, item, previous);
      if (outcome.ok) return true;
      // Another writer got there first (another shard, or a duplicate invocation): start over
      // from the item it left.
      if (attempt + 1 >= this.maxWriteAttempts) {
        throw new WriteConflictError(
          `${work.group.entity.name}: still conflicting after ${attempt + 1} attempts`,
        );
      }
      previous = outcome.current;
      await this.sleep(backoffDelayMs(attempt, 5, 200, this.random));
    }
  }
}

function byStateKey(set: CompiledFeatureSet): ReadonlyMap<string, CompiledFeature> {
  return new Map(set.features.map((f) => [f.stateKey, f]));
}

function isCut(p: PlannedRecord, stopAt: ReadonlyMap<string, string>): boolean {
  const stop = stopAt.get(p.record.shardId);
  return stop !== undefined && compareSequenceNumbers(p.record.sequenceNumber, stop) >= 0;
}

function lowerTo(map: Map<string, string>, shardId: string, sequenceNumber: string): void {
  const current = map.get(shardId);
  if (current === undefined || compareSequenceNumbers(sequenceNumber, current) < 0)
    map.set(shardId, sequenceNumber);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
