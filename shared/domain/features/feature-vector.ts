/**
 * The features an event was scored with: what the decision item stores, so that a decision can
 * be explained and replayed with the exact values used.
 */
export interface FeatureVector {
  /** Version (hash) of the feature set that produced the values. */
  readonly version: string;
  /**
   * Every feature of the set by id. Counts, sums (minor units of the event's currency) and
   * distinct counts are integers; firstSeen/lastSeen are epoch milliseconds of event time.
   * null: the event lacks the entity key or the summed currency, the window holds no event
   * (first/last seen), or the event is late for the feature (then listed in `late`).
   */
  readonly values: Readonly<Record<string, number | null>>;
  /** Ids whose value is a lower bound (distinct cap or sum limit reached in the window). */
  readonly saturated: readonly string[];
  /**
   * Ids for which the event was late, in feature set order: its bucket is before the bucket of
   * H − (lateness + processing lag + future skew), H the feature's horizon before it, so its
   * window may reach data no longer kept; it read null (never a partial value) but was counted.
   * Exact: a feature is listed if and only if that holds (docs/features.md, section 3).
   */
  readonly late: readonly string[];
  /**
   * Present when the event's own contribution was already stored when it was read (a redelivery
   * whose decision was lost): its values may include events processed after it.
   */
  readonly redelivered?: true;
}
