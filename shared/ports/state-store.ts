import type {
  FeatureRecord,
  FeatureSnapshot,
  FeatureVector,
  RecordSource,
} from "#shared/domain/features/index";

/**
 * Windowed feature state, as the score function and the CLI need it.
 *
 * Scoring a batch is two steps, so that the values an event was decided with never change when
 * the batch is delivered again:
 * 1. `prepare(records, decided)` reads the state of every entity the batch touches and returns
 *    each undecided event's feature vector: the stored values plus the batch's earlier events.
 *    Nothing is written.
 * 2. The caller decides and stores the decisions (each carrying its vector), then calls
 *    `commit()`, which writes every entity once with the batch's contributions.
 * A crash between the two leaves decisions without state; the redelivered records are then
 * `decided` (same source) and `prepare`/`commit` apply their contributions without new vectors.
 */
export interface FeatureStateStore {
  /**
   * Reads the entities of a batch and computes the vectors of its undecided events.
   * `decided` maps the eventIds of the batch that already have a stored decision to the record
   * the decision came from (the decision's `source`). Throws when the state cannot be read: the
   * whole batch should then be retried.
   */
  prepare(
    records: readonly FeatureRecord[],
    decided: ReadonlyMap<string, RecordSource>,
  ): Promise<FeaturePass>;
  /** Every feature of one entity as of now: `vigil features show <entityType> <value...>`. */
  read(entityType: string, keyValues: readonly string[]): Promise<EntityReading>;
}

/** A prepared batch. */
export interface FeaturePass {
  /** One vector per `new` event (undecided, first copy in the batch), by eventId. */
  readonly vectors: ReadonlyMap<string, FeatureVector>;
  /** Number of entity items read. */
  readonly entities: number;
  /**
   * Writes the batch's contributions, one conditional write per changed entity. Records listed
   * in `failed` (their decision could not be stored) and every later record of their shard are
   * not applied. Never throws for a write that fails: the result says where each shard must be
   * retried from.
   */
  commit(options?: CommitOptions): Promise<CommitResult>;
}

/** Options of `FeaturePass.commit`. */
export interface CommitOptions {
  /** Records whose decisions were not stored; their shard is applied only up to the first of them. */
  readonly failed?: Iterable<RecordSource>;
  /**
   * Records whose decision could not be stored because one from another record already stood
   * (putIfAbsent said "duplicate": a copy the `decided` lookup had not seen). Not applied, so
   * that the event counts once; the vectors of later events of the batch had counted it.
   */
  readonly duplicates?: Iterable<RecordSource>;
}

/** What a commit did. */
export interface CommitResult {
  /**
   * Per shard with a failure, the first record to retry from (the lowest failed sequence number,
   * including those passed in): report it as a batch item failure. Empty when all is committed.
   */
  readonly failed: readonly RecordSource[];
  /** Entity items written. */
  readonly written: number;
  /** Why entities failed, without their keys (which may hold phone numbers or emails). */
  readonly errors: readonly { readonly entityType: string; readonly error: string }[];
}

/** One entity's stored state as of a moment. */
export interface EntityReading {
  readonly entityType: string;
  readonly keyValues: readonly string[];
  readonly pk: string;
  readonly exists: boolean;
  readonly revision: number;
  /** ISO time from which the item may be deleted by TTL, or null when there is no item. */
  readonly expiresAt: string | null;
  /**
   * Per stream and shard (`<stream tag>/<shardId>`, see `markKey`; a bare shard id for a mark
   * written before streams were told apart), the highest sequence number applied.
   */
  readonly highWater: Readonly<Record<string, string>>;
  /** ISO time the values are read at. */
  readonly readAt: string;
  readonly features: readonly FeatureSnapshot[];
}
