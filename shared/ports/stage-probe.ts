/**
 * Where a function or the local runtime has got to with a batch, for the crash test's
 * instrumentation (docs/crash-test.md). Production code calls an optional probe; none is
 * configured on AWS, so nothing is observed there.
 */

/**
 * Stages the crash test tells apart. Score function: `stored` (decisions and duplicate markers
 * written, state not yet committed), `committed` (state written), `published`
 * (decisions on the decisions stream), `settled` (outcomes counted on the receipt ledger). Local
 * runtime: `invoking` (the batch goes to the function), `returned` (its response is read),
 * `checkpointed` (the checkpoint after its records is on disk), `discarded` (records written to
 * the on-failure destination).
 */
export type Stage =
  | "invoking"
  | "stored"
  | "committed"
  | "published"
  | "settled"
  | "returned"
  | "checkpointed"
  | "discarded";

/** One stage reached for one shard's records. */
export interface StageReached {
  readonly stage: Stage;
  /** Shard of the records (a batch is one shard's records). */
  readonly shardId: string;
  /** Lowest and highest sequence number of the records. */
  readonly first: string;
  readonly last: string;
  /** Number of records the stage covered. */
  readonly records: number;
  /**
   * What the stage did, so that an empty stage can be told from a real one: decisions stored,
   * entity items written, decisions published, outcomes counted, records done (returned,
   * checkpointed, discarded).
   */
  readonly count: number;
}

/**
 * Observes stages. Must return quickly and never throw into the caller's path; it may end the
 * process (a crash test kills the process on a chosen stage, after recording it).
 */
export interface StageProbe {
  reached(stage: StageReached): void;
}
