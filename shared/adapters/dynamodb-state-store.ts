import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  decodeEntityItem,
  encodeState,
  itemSizeBytes,
  STATE_ATTRIBUTES,
} from "#shared/adapters/dynamodb-state-codec";
import { backoffDelayMs, runPool } from "#shared/adapters/dynamodb-state-retry";
import { DEFAULT_DECODE_LIMITS } from "#shared/domain/event/index";
import {
  type BatchPlan,
  buildVectors,
  type CompiledFeature,
  type CompiledFeatureSet,
  cloneEntityState,
  compactEntityState,
  compareSequenceNumbers,
  type EntityState,
  type EntityWork,
  entityExpiresAtMs,
  entityPk,
  type FeatureRecord,
  type FoldResult,
  foldEntity,
  type PlannedRecord,
  planBatch,
  type RecordSource,
  resolveEntity,
  snapshotEntity,
} from "#shared/domain/features/index";
import type {
  CommitOptions,
  CommitResult,
  EntityReading,
  FeaturePass,
  FeatureStateStore,
} from "#shared/ports/state-store";

/** Construction options of DynamoDbStateStore. */
export interface DynamoDbStateStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly features: CompiledFeatureSet;
  /** Wall clock (epoch ms) for TTL and high-water bookkeeping. Default Date.now. */
  readonly clock?: () => number;
  /**
   * Oldest event time the decoder accepts, relative to arrival. Items live at least this long
   * after their data left every window, so that TTL never deletes state a late event could read.
   * Default: the decoder's default (7 days).
   */
  readonly maxEventLatenessMs?: number;
  /** Extra time before an item may expire: processing lag and clock skew. Default 1 day. */
  readonly expiryMarginMs?: number;
  /**
   * How long a shard's high-water mark is kept after its last write: must exceed the longest a
   * record can be redelivered after it was first processed (stream retention). Default 8 days.
   */
  readonly highWaterRetentionMs?: number;
  /** Attempts of one entity write under conditional conflicts (concurrent writers). Default 10. */
  readonly maxWriteAttempts?: number;
  /** Rounds of BatchGetItem for unprocessed keys (throttling) before prepare fails. Default 8. */
  readonly maxReadRounds?: number;
  /** Entity writes in flight at once. Default 32. */
  readonly writeConcurrency?: number;
  /** For tests: how to wait between retries, and the jitter source. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** Requests and capacity the store has used since it was built (for metrics and the benchmark). */
export interface StateStoreStats {
  readRequests: number;
  writeRequests: number;
  /** Capacity units DynamoDB reported (ReturnConsumedCapacity: TOTAL). */
  readCapacityUnits: number;
  writeCapacityUnits: number;
  /** Write units by AWS's rule from the item sizes: ceil(max(before, after) / 1 KB) per write. */
  estimatedWriteUnits: number;
  itemsRead: number;
  itemsWritten: number;
  conflicts: number;
  unprocessedReads: number;
}

/** The state could not be read; nothing was computed, retry the whole batch. */
export class StateStoreUnavailableError extends Error {
  override readonly name = "StateStoreUnavailableError";
}

/** An entity's encoded state would exceed what one item may hold. */
export class EntityTooLargeError extends Error {
  override readonly name = "EntityTooLargeError";
}

/** DynamoDB refuses items over 400 KB; stay clear of it. */
export const MAX_ITEM_BYTES = 390 * 1024;
const BATCH_GET_KEYS = 100;

/**
 * Windowed feature state in the DynamoDB state table: one item per entity, read once per batch
 * (BatchGetItem, strongly consistent) and written at most once per batch (one conditional
 * UpdateItem carrying all the batch's contributions, stale buckets dropped in the same write).
 * Exactly-once: a record at or below its shard's high-water mark on the item is never applied
 * again; every write is conditional on the revision it was computed from. See docs/features.md.
 */
export class DynamoDbStateStore implements FeatureStateStore {
  readonly stats: StateStoreStats = {
    readRequests: 0,
    writeRequests: 0,
    readCapacityUnits: 0,
    writeCapacityUnits: 0,
    estimatedWriteUnits: 0,
    itemsRead: 0,
    itemsWritten: 0,
    conflicts: 0,
    unprocessedReads: 0,
  };
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly set: CompiledFeatureSet;
  private readonly byKey: ReadonlyMap<string, CompiledFeature>;
  private readonly clock: () => number;
  private readonly maxEventLatenessMs: number;
  private readonly expiryMarginMs: number;
  private readonly highWaterRetentionMs: number;
  private readonly maxWriteAttempts: number;
  private readonly maxReadRounds: number;
  private readonly writeConcurrency: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(options: DynamoDbStateStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.set = options.features;
    this.byKey = new Map(options.features.features.map((f) => [f.stateKey, f]));
    this.clock = options.clock ?? Date.now;
    this.maxEventLatenessMs = options.maxEventLatenessMs ?? DEFAULT_DECODE_LIMITS.maxLatenessMs;
    this.expiryMarginMs = options.expiryMarginMs ?? 86_400_000;
    this.highWaterRetentionMs = options.highWaterRetentionMs ?? 8 * 86_400_000;
    this.maxWriteAttempts = options.maxWriteAttempts ?? 10;
    this.maxReadRounds = options.maxReadRounds ?? 8;
    this.writeConcurrency = options.writeConcurrency ?? 32;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  async prepare(
    records: readonly FeatureRecord[],
    decided: ReadonlyMap<string, RecordSource>,
  ): Promise<FeaturePass> {
    const plan = planBatch(this.set, records, decided);
    const sizes = new Map<string, number>();
    const loaded = await this.load(
      plan.entities.map((w) => w.pk),
      sizes,
    );
    const nowMs = this.clock();
    const folds: { work: EntityWork; result: FoldResult; folded: EntityState }[] = [];
    for (const work of plan.entities) {
      const folded = cloneEntityState(loaded.get(work.pk) as EntityState);
      folds.push({ work, result: foldEntity(plan, work, folded, { read: true, nowMs }), folded });
    }
    return {
      vectors: buildVectors(plan, folds),
      entities: plan.entities.length,
      commit: (options) => this.commit(plan, loaded, sizes, folds, options),
    };
  }

  async read(entityType: string, keyValues: readonly string[]): Promise<EntityReading> {
    const { group, values } = resolveEntity(this.set, entityType, keyValues);
    const pk = entityPk(group.entity, values);
    const response = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [STATE_ATTRIBUTES.pk]: { S: pk } },
        ConsistentRead: true,
      }),
    );
    const state = decodeEntityItem(pk, response.Item, this.byKey);
    const nowMs = this.clock();
    const expires = response.Item?.[STATE_ATTRIBUTES.expiresAt]?.N;
    return {
      entityType: group.entity.name,
      keyValues: values,
      pk,
      exists: response.Item !== undefined,
      revision: state.revision,
      expiresAt: expires === undefined ? null : new Date(Number(expires) * 1000).toISOString(),
      highWater: Object.fromEntries(
        [...state.highWater].map(([shard, mark]) => [shard, mark.sequenceNumber]),
      ),
      readAt: new Date(nowMs).toISOString(),
      features: snapshotEntity(state, group, nowMs),
    };
  }

  /** Strongly consistent reads of every entity of the batch; missing items become empty states. */
  private async load(pks: readonly string[], sizes: Map<string, number>): Promise<Map<string, EntityState>> {
    const states = new Map<string, EntityState>();
    const chunks: string[][] = [];
    for (let i = 0; i < pks.length; i += BATCH_GET_KEYS) chunks.push(pks.slice(i, i + BATCH_GET_KEYS));
    await Promise.all(
      chunks.map(async (chunk) => {
        let keys: Record<string, AttributeValue>[] = chunk.map((pk) => ({
          [STATE_ATTRIBUTES.pk]: { S: pk },
        }));
        for (let round = 0; keys.length > 0; round++) {
          if (round >= this.maxReadRounds) {
            throw new StateStoreUnavailableError(
              `${keys.length} state items still unprocessed after ${round} reads`,
            );
          }
          if (round > 0) {
            this.stats.unprocessedReads += keys.length;
            await this.sleep(backoffDelayMs(round - 1, 50, 2_000, this.random));
          }
          let response: BatchGetItemCommandOutput;
          try {
            this.stats.readRequests++;
            response = await this.client.send(
              new BatchGetItemCommand({
                RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
                ReturnConsumedCapacity: "TOTAL",
              }),
            );
          } catch (error) {
            throw new StateStoreUnavailableError("reading the state table failed", { cause: error });
          }
          for (const c of response.ConsumedCapacity ?? [])
            this.stats.readCapacityUnits += c.CapacityUnits ?? 0;
          for (const item of response.Responses?.[this.tableName] ?? []) {
            const pk = item[STATE_ATTRIBUTES.pk]?.S;
            if (pk === undefined) continue;
            states.set(pk, decodeEntityItem(pk, item, this.byKey));
            sizes.set(pk, storedItemSize(item));
            this.stats.itemsRead++;
          }
          keys = response.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        }
      }),
    );
    for (const pk of pks) if (!states.has(pk)) states.set(pk, decodeEntityItem(pk, undefined, this.byKey));
    return states;
  }

  private async commit(
    plan: BatchPlan,
    loaded: ReadonlyMap<string, EntityState>,
    sizes: ReadonlyMap<string, number>,
    folds: readonly { work: EntityWork; folded: EntityState; result: FoldResult }[],
    options: CommitOptions = {},
  ): Promise<CommitResult> {
    const stopAt = new Map<string, string>();
    for (const source of options.failed ?? []) lowerTo(stopAt, source.shardId, source.sequenceNumber);
    const failedAt = new Map(stopAt);
    const errors: { entityType: string; error: string }[] = [];
    let written = 0;
    await runPool(folds, this.writeConcurrency, async ({ work, folded, result }) => {
      // The fold made by prepare is the one to write unless the caller cut this entity's records.
      const cut = work.touches.some((i) => isCut(plan.records[i] as PlannedRecord, stopAt));
      const first = cut ? undefined : { state: folded, changed: result.changed };
      try {
        const base = { state: loaded.get(work.pk) as EntityState, size: sizes.get(work.pk) ?? 0 };
        if (await this.writeEntity(plan, work, base, first, stopAt)) written++;
      } catch (error) {
        errors.push({ entityType: work.group.entity.name, error: describe(error) });
        for (const i of work.touches) {
          const { record, role } = plan.records[i] as PlannedRecord;
          if (role !== "copy" && !isCut(plan.records[i] as PlannedRecord, stopAt)) {
            lowerTo(failedAt, record.shardId, record.sequenceNumber);
          }
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
   * conflict, fold again onto the item the failed write returned. True when something was written.
   */
  private async writeEntity(
    plan: BatchPlan,
    work: EntityWork,
    loaded: { state: EntityState; size: number },
    first: { state: EntityState; changed: boolean } | undefined,
    stopAt: ReadonlyMap<string, string>,
  ): Promise<boolean> {
    let base = loaded.state;
    let baseSize = loaded.size;
    let prepared = first;
    for (let attempt = 0; ; attempt++) {
      const nowMs = this.clock();
      let state: EntityState;
      let changed: boolean;
      if (prepared) {
        ({ state, changed } = prepared);
        prepared = undefined;
      } else {
        state = cloneEntityState(base);
        changed = foldEntity(plan, work, state, { read: false, stopAt, nowMs }).changed;
      }
      if (!changed) return false;
      compactEntityState(state, this.byKey, { nowMs, highWaterRetentionMs: this.highWaterRetentionMs });
      const text = encodeState(state, this.byKey);
      const expiresAtMs =
        entityExpiresAtMs(state, this.byKey, {
          nowMs,
          highWaterRetentionMs: this.highWaterRetentionMs,
          maxEventLatenessMs: this.maxEventLatenessMs,
        }) + this.expiryMarginMs;
      const expiresAt = Math.ceil(expiresAtMs / 1000);
      const revision = base.revision + 1;
      const size = itemSizeBytes(work.pk, text, revision, expiresAt);
      if (size > MAX_ITEM_BYTES) {
        throw new EntityTooLargeError(`${work.group.entity.name} state would take ${size} bytes`);
      }
      try {
        this.stats.writeRequests++;
        const response = await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { [STATE_ATTRIBUTES.pk]: { S: work.pk } },
            UpdateExpression: "SET #s = :s, #rev = :next, #exp = :exp",
            ConditionExpression: base.revision === 0 ? "attribute_not_exists(#pk)" : "#rev = :rev",
            ExpressionAttributeNames: {
              "#s": STATE_ATTRIBUTES.state,
              "#rev": STATE_ATTRIBUTES.revision,
              "#exp": STATE_ATTRIBUTES.expiresAt,
              ...(base.revision === 0 ? { "#pk": STATE_ATTRIBUTES.pk } : {}),
            },
            ExpressionAttributeValues: {
              ":s": { S: text },
              ":next": { N: String(revision) },
              ":exp": { N: String(expiresAt) },
              ...(base.revision === 0 ? {} : { ":rev": { N: String(base.revision) } }),
            },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            ReturnConsumedCapacity: "TOTAL",
          }),
        );
        this.stats.writeCapacityUnits += response.ConsumedCapacity?.CapacityUnits ?? 0;
        this.stats.estimatedWriteUnits += Math.ceil(Math.max(size, baseSize) / 1024);
        this.stats.itemsWritten++;
        return true;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Another writer got there first (another shard, or a duplicate invocation): start over
        // from the item it left, which the failed write returned.
        this.stats.conflicts++;
        if (attempt + 1 >= this.maxWriteAttempts) {
          throw new Error(`still conflicting after ${this.maxWriteAttempts} attempts`, { cause: error });
        }
        base = decodeEntityItem(work.pk, error.Item, this.byKey);
        baseSize = error.Item ? storedItemSize(error.Item) : 0;
        await this.sleep(backoffDelayMs(attempt, 5, 200, this.random));
      }
    }
  }
}

/** Billing size of a stored entity item. */
function storedItemSize(item: Record<string, AttributeValue>): number {
  return itemSizeBytes(
    item[STATE_ATTRIBUTES.pk]?.S ?? "",
    item[STATE_ATTRIBUTES.state]?.S ?? "",
    Number(item[STATE_ATTRIBUTES.revision]?.N ?? 0),
    Number(item[STATE_ATTRIBUTES.expiresAt]?.N ?? 0),
  );
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
