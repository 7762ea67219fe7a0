/** A shard of a stream, as the ledger keys its marks. */
export interface ShardRef {
  /** Stream name (from the record's event source ARN). */
  readonly stream: string;
  readonly shardId: string;
}

/** How a record ended: the three outcomes that count, once per record. */
export type SettledOutcome = "decided" | "quarantined" | "duplicate";

/** A record whose outcome stands, to be counted. */
export interface SettledRecord {
  readonly sequenceNumber: string;
  readonly outcome: SettledOutcome;
}

/** One shard's ledger: its two marks and the running totals they counted. */
export interface ShardLedger {
  /** Highest sequence number counted as received (undefined: none yet). */
  readonly receivedUpTo?: string;
  /** Highest sequence number whose outcome was counted (undefined: none yet). */
  readonly settledUpTo?: string;
  readonly received: number;
  readonly decided: number;
  readonly quarantined: number;
  readonly duplicates: number;
}

/**
 * Counts a stream's records from the records themselves, once each, however often they are
 * delivered (docs/data-quality.md, "Counting"). Per shard it keeps two marks:
 *
 * - the **receipt mark**, moved when a delivery arrives, before anything is written for it:
 *   the records above it are first deliveries and count as received, whatever becomes of them;
 * - the **settled mark**, moved once the outcomes of a run of records stand: the records above it
 *   count once as decided, quarantined or duplicate.
 *
 * Each mark moves with one conditional write (compare-and-set on the value read), so two
 * deliveries racing over the same records count each record once between them. Records of a
 * shard must be passed in ascending sequence order, and a shard's records are delivered in that
 * order (one event source mapping, ParallelizationFactor 1). The totals are kept on the marks'
 * item, so they survive a crash that loses an invocation's metrics.
 */
export interface ReceiptLedger {
  /**
   * Counts first deliveries: of `sequenceNumbers` (one shard, ascending), those above the
   * receipt mark. The mark moves to the highest. Returns the sequence numbers counted now.
   */
  receive(shard: ShardRef, sequenceNumbers: readonly string[], at: Date): Promise<ReadonlySet<string>>;
  /**
   * Counts outcomes: of `records` (one shard, ascending, a run whose outcomes all stand), those
   * above the settled mark. The mark moves to the highest. Returns the sequence numbers counted now.
   */
  settle(shard: ShardRef, records: readonly SettledRecord[], at: Date): Promise<ReadonlySet<string>>;
  /** The shard's ledger, or undefined when it has counted nothing yet. */
  read(shard: ShardRef): Promise<ShardLedger | undefined>;
}
