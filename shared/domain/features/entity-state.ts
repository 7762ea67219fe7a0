import type { CleanEvent } from "#shared/domain/event/index";
import type { CompiledFeature, EntityGroup } from "#shared/domain/features/definition";
import {
  bucketIndex,
  dataIrrelevantFromMs,
  firstKeptBucket,
  isLate,
  type LatenessAllowance,
  reachMs,
  windowRange,
} from "#shared/domain/features/window";

/**
 * The state of one entity (one DynamoDB item): every feature's buckets, and per shard the
 * highest sequence number applied. Pure data plus the state transition of docs/features.md.
 *
 * States are mutable on purpose: the hot path folds a batch into a state in place. Callers clone
 * (`cloneEntityState`) before folding when they need the original again.
 */

/** The highest sequence number of a shard applied to an entity, and when (wall clock) it was written. */
export interface HighWaterMark {
  readonly sequenceNumber: string;
  readonly recordedAtMs: number;
}

/** Count: events per bucket. */
export interface CountState {
  readonly kind: "count";
  horizon: number;
  readonly buckets: Map<number, number>;
}

/** Sum: per series (currency, or "" for attributes) the sum per bucket. */
export interface SumState {
  readonly kind: "sum";
  horizon: number;
  readonly series: Map<string, Map<number, number>>;
}

/** First or last seen: per bucket the earliest (firstSeen) or latest (lastSeen) event time. */
export interface SeenState {
  readonly kind: "firstSeen" | "lastSeen";
  horizon: number;
  readonly buckets: Map<number, number>;
}

/**
 * A sighting key (bucket, value), ordered by bucket and then by value: the cap keeps the
 * sightings above the threshold and forgets those at or below it (docs/features.md, section 4).
 */
export interface SightingKey {
  readonly bucket: number;
  readonly value: string;
}

/**
 * Distinct count: per kept value the buckets it was seen in (ascending), the buckets holding a
 * forgotten sighting (`marks`: a window holding one is a lower bound), and the cap's threshold:
 * every sighting at or below it is forgotten (undefined until the cap was exceeded).
 */
export interface DistinctState {
  readonly kind: "distinct";
  horizon: number;
  readonly elements: Map<string, number[]>;
  readonly marks: Set<number>;
  threshold: SightingKey | undefined;
}

/** Count, sum and maximum of the values counted into one bucket (value ratios). */
export interface ValueStats {
  count: number;
  sum: number;
  max: number;
}

/** Value ratio: per series (currency, or "" for attributes) the count, sum and maximum per bucket. */
export interface ValuesState {
  readonly kind: "values";
  horizon: number;
  readonly series: Map<string, Map<number, ValueStats>>;
}

/** One feature's state; `horizon` is the latest event time counted into it. */
export type FeatureState = CountState | SumState | SeenState | DistinctState | ValuesState;

/** The state of a feature this code does not define (another deployed version's): kept opaque. */
export interface CarriedState {
  readonly horizon: number;
  readonly raw: unknown;
}

/** Everything stored for one entity. */
export interface EntityState {
  readonly pk: string;
  /** Stored revision; 0 when the item does not exist. Each write increments it. */
  revision: number;
  readonly highWater: Map<string, HighWaterMark>;
  /** By the feature's state key. */
  readonly features: Map<string, FeatureState>;
  readonly carried: Map<string, CarriedState>;
}

/** What an event read from one feature. */
export interface FeatureReading {
  /** The value, or null when the feature does not apply to the event or the event is late. */
  readonly value: number | null;
  /** The value is a lower bound: a distinct count hit its cap, or a sum its safe-integer limit. */
  readonly saturated: boolean;
  /** The event is late for the feature: its window may reach data no longer kept, so it read nothing. */
  readonly late: boolean;
}

/** A state for an entity that has nothing stored. */
export function emptyEntityState(pk: string): EntityState {
  return { pk, revision: 0, highWater: new Map(), features: new Map(), carried: new Map() };
}

/** A deep copy, so a fold can start again from the same state. */
export function cloneEntityState(state: EntityState): EntityState {
  const features = new Map<string, FeatureState>();
  for (const [key, fs] of state.features) features.set(key, cloneFeatureState(fs));
  return {
    pk: state.pk,
    revision: state.revision,
    highWater: new Map(state.highWater),
    features,
    carried: new Map(state.carried),
  };
}

function cloneFeatureState(fs: FeatureState): FeatureState {
  switch (fs.kind) {
    case "count":
      return { kind: "count", horizon: fs.horizon, buckets: new Map(fs.buckets) };
    case "firstSeen":
    case "lastSeen":
      return { kind: fs.kind, horizon: fs.horizon, buckets: new Map(fs.buckets) };
    case "sum": {
      const series = new Map<string, Map<number, number>>();
      for (const [name, buckets] of fs.series) series.set(name, new Map(buckets));
      return { kind: "sum", horizon: fs.horizon, series };
    }
    case "values": {
      const series = new Map<string, Map<number, ValueStats>>();
      for (const [name, buckets] of fs.series)
        series.set(name, new Map([...buckets].map(([b, v]) => [b, { ...v }])));
      return { kind: "values", horizon: fs.horizon, series };
    }
    case "distinct": {
      const elements = new Map<string, number[]>();
      for (const [value, buckets] of fs.elements) elements.set(value, [...buckets]);
      return {
        kind: "distinct",
        horizon: fs.horizon,
        elements,
        marks: new Set(fs.marks),
        threshold: fs.threshold,
      };
    }
  }
}

/** What `applyEvent` should do. */
export interface ApplyMode {
  /** Add the event's contribution (a first delivery); false for a read-only pass. */
  readonly count: boolean;
  /** Return what the event reads from each feature of the group. */
  readonly read: boolean;
}

const NOT_APPLICABLE: FeatureReading = { value: null, saturated: false, late: false };
const LATE: FeatureReading = { value: null, saturated: false, late: true };

/**
 * Applies one event, whose entity key the group's entity matches, to the entity's state, and
 * returns what it read from each feature of the group (in group order) when `mode.read`.
 * For each feature: the event counts when it passes the filter and carries the aggregated field,
 * whatever its time; it reads the window [bucket(t) − N + 1, bucket(t)] including itself
 * (lastSeen, timeSince and valueRatio: excluding itself), unless it is late (bucket(t) <
 * bucket(H − R), H the horizon before it): then it reads null.
 */
export function applyEvent(
  state: EntityState,
  group: EntityGroup,
  event: CleanEvent,
  timeMs: number,
  mode: ApplyMode,
  allowance: LatenessAllowance,
): { changed: boolean; readings: FeatureReading[] | undefined } {
  let changed = false;
  const readings: FeatureReading[] | undefined = mode.read ? [] : undefined;
  for (const f of group.features) {
    const late =
      readings !== undefined &&
      isLate(timeMs, state.features.get(f.stateKey)?.horizon, f, reachMs(f, allowance));
    const previous =
      readings && !late && f.readsBeforeCount
        ? readFeature(state.features.get(f.stateKey), f, event, timeMs)
        : undefined;
    if (mode.count && f.accepts(event) && addContribution(state, f, event, timeMs)) changed = true;
    if (!readings) continue;
    if (late) readings.push(LATE);
    else readings.push(previous ?? readFeature(state.features.get(f.stateKey), f, event, timeMs));
  }
  return { changed, readings };
}

/** Adds an event to a feature; false when the event carries nothing to add (no amount, no value). */
function addContribution(state: EntityState, f: CompiledFeature, event: CleanEvent, timeMs: number): boolean {
  const bucket = bucketIndex(timeMs, f.bucketMs);
  const existing = state.features.get(f.stateKey);
  let fs: FeatureState;
  switch (f.stateKind) {
    case "none":
      return false;
    case "count": {
      const s = (existing as CountState | undefined) ?? {
        kind: "count",
        horizon: timeMs,
        buckets: new Map(),
      };
      s.buckets.set(bucket, (s.buckets.get(bucket) ?? 0) + 1);
      fs = s;
      break;
    }
    case "sum": {
      const addend = f.addend?.(event);
      if (!addend) return false;
      const s = (existing as SumState | undefined) ?? { kind: "sum", horizon: timeMs, series: new Map() };
      const buckets = s.series.get(addend.series) ?? new Map<number, number>();
      buckets.set(bucket, clampSafe((buckets.get(bucket) ?? 0) + addend.value));
      s.series.set(addend.series, buckets);
      fs = s;
      break;
    }
    case "values": {
      const addend = f.addend?.(event);
      if (!addend) return false;
      const s = (existing as ValuesState | undefined) ?? {
        kind: "values",
        horizon: timeMs,
        series: new Map(),
      };
      const buckets = s.series.get(addend.series) ?? new Map<number, ValueStats>();
      const stats = buckets.get(bucket);
      if (stats) {
        stats.count++;
        stats.sum = clampSafe(stats.sum + addend.value);
        stats.max = Math.max(stats.max, addend.value);
      } else {
        buckets.set(bucket, { count: 1, sum: addend.value, max: addend.value });
      }
      s.series.set(addend.series, buckets);
      fs = s;
      break;
    }
    case "firstSeen":
    case "lastSeen": {
      const kind = f.stateKind;
      const s = (existing as SeenState | undefined) ?? { kind, horizon: timeMs, buckets: new Map() };
      const current = s.buckets.get(bucket);
      const keep = kind === "firstSeen" ? Math.min : Math.max;
      s.buckets.set(bucket, current === undefined ? timeMs : keep(current, timeMs));
      fs = s;
      break;
    }
    case "distinct": {
      const value = f.element?.(event);
      if (value === undefined) return false;
      const s = (existing as DistinctState | undefined) ?? {
        kind: "distinct",
        horizon: timeMs,
        elements: new Map(),
        marks: new Set(),
        threshold: undefined,
      };
      addSighting(s, value, bucket, f.maxDistinct);
      fs = s;
      break;
    }
  }
  if (!existing) state.features.set(f.stateKey, fs);
  if (timeMs > fs.horizon) fs.horizon = timeMs;
  return true;
}

/** Whether the sighting (bucket, value) is at or below `key`: by bucket, then by value. */
function atOrBelow(bucket: number, value: string, key: SightingKey): boolean {
  return bucket < key.bucket || (bucket === key.bucket && value <= key.value);
}

/**
 * Records that `value` was seen in `bucket`, under the cap rule of docs/features.md (section 4):
 * a sighting at or below the threshold is forgotten and its bucket marked. When more than `cap`
 * values are kept, the threshold rises to the smallest of their latest sightings (the cap + 1-th
 * largest), and every kept sighting now at or below it is forgotten and its bucket marked. The
 * threshold is a function of the set of sightings, not of their order, so the state is too.
 */
function addSighting(s: DistinctState, value: string, bucket: number, cap: number): void {
  if (s.threshold !== undefined && atOrBelow(bucket, value, s.threshold)) {
    s.marks.add(bucket);
    return;
  }
  const seen = s.elements.get(value);
  if (seen) {
    insertSorted(seen, bucket);
    return;
  }
  s.elements.set(value, [bucket]);
  if (s.elements.size <= cap) return;
  // At most `cap` values were kept before this one: the cap + 1-th largest latest sighting is the smallest.
  let lowest: SightingKey | undefined;
  for (const [candidate, buckets] of s.elements) {
    const latest = buckets[buckets.length - 1] as number;
    if (lowest === undefined || atOrBelow(latest, candidate, lowest))
      lowest = { bucket: latest, value: candidate };
  }
  if (lowest === undefined) return;
  const threshold = lowest;
  s.threshold = threshold;
  for (const [candidate, buckets] of s.elements) {
    let cut = 0;
    while (cut < buckets.length && atOrBelow(buckets[cut] as number, candidate, threshold)) {
      s.marks.add(buckets[cut] as number);
      cut++;
    }
    if (cut === buckets.length) s.elements.delete(candidate);
    else if (cut > 0) buckets.splice(0, cut);
  }
}

/** Inserts into an ascending array of distinct numbers; appending is the common case. */
function insertSorted(values: number[], value: number): void {
  let i = values.length;
  while (i > 0 && (values[i - 1] as number) > value) i--;
  if (i > 0 && values[i - 1] === value) return;
  values.splice(i, 0, value);
}

/** What an event at `timeMs` reads from a feature (null when it does not apply to the event). */
function readFeature(
  fs: FeatureState | undefined,
  f: CompiledFeature,
  event: CleanEvent,
  timeMs: number,
): FeatureReading {
  switch (f.aggregation) {
    case "sum": {
      if (f.referenceCurrency !== undefined) return readConvertedSum(fs, f, timeMs);
      const series = f.series?.(event);
      if (series === undefined) return NOT_APPLICABLE;
      return readWindow(fs, f, timeMs, series);
    }
    case "timeSince": {
      const last = readWindow(fs, f, timeMs, "").value;
      return { value: last === null ? null : timeMs - last, saturated: false, late: false };
    }
    case "valueRatio":
      return readValueRatio(fs, f, event, timeMs);
    case "rateRatio":
      return readRateRatio(fs, f, timeMs);
    default:
      return readWindow(fs, f, timeMs, "");
  }
}

/**
 * A sum of amounts in the reference currency: each currency's sum over the window converted
 * (rounded half to even to the reference currency's minor unit) and added. A currency the rates
 * lack is left out and the reading flagged saturated (amounts are never negative: a lower bound).
 */
export function readConvertedSum(
  fs: FeatureState | undefined,
  f: CompiledFeature,
  timeMs: number,
): FeatureReading {
  const { first, last } = windowRange(timeMs, f);
  let total = 0;
  let saturated = false;
  if (fs?.kind === "sum") {
    for (const [series, buckets] of fs.series) {
      let sum = 0;
      let any = false;
      for (const [b, n] of buckets) {
        if (b < first || b > last) continue;
        any = true;
        if (n === Number.MAX_SAFE_INTEGER || n === -Number.MAX_SAFE_INTEGER) saturated = true;
        sum += n;
      }
      if (!any) continue;
      const converted = convertAmount(f, clampSafe(sum), series);
      if (converted === undefined) saturated = true;
      else total += converted;
    }
  }
  const clamped = clampSafe(total);
  return { value: clamped, saturated: saturated || clamped !== total, late: false };
}

/** Minor units of `series` in the feature's reference currency; undefined when no rate converts them. */
export function convertAmount(f: CompiledFeature, minor: number, series: string): number | undefined {
  const to = f.referenceCurrency;
  if (to === undefined || series === to) return minor;
  return f.converter?.convert(minor, series, to);
}

/**
 * This event's value against the other events' values in the window (read before its own):
 * value × n ÷ sum (baseline mean) or value ÷ max (baseline max). Null when the event carries no
 * value, when fewer than minEvents others make the baseline, or when the baseline is 0. With a
 * reference currency every currency is converted; without, only the event's own currency counts.
 */
function readValueRatio(
  fs: FeatureState | undefined,
  f: CompiledFeature,
  event: CleanEvent,
  timeMs: number,
): FeatureReading {
  const own = f.addend?.(event);
  if (own === undefined) return NOT_APPLICABLE;
  const value = convertAmount(f, own.value, own.series);
  if (value === undefined) return { value: null, saturated: true, late: false };
  const { first, last } = windowRange(timeMs, f);
  let count = 0;
  let sum = 0;
  let max = 0;
  let saturated = false;
  if (fs?.kind === "values") {
    for (const [series, buckets] of fs.series) {
      if (f.referenceCurrency === undefined && series !== own.series) continue;
      let n = 0;
      let s = 0;
      let m = 0;
      for (const [b, stats] of buckets) {
        if (b < first || b > last) continue;
        n += stats.count;
        s += stats.sum;
        m = Math.max(m, stats.max);
        if (stats.sum === Number.MAX_SAFE_INTEGER) saturated = true;
      }
      if (n === 0) continue;
      const convertedSum = convertAmount(f, clampSafe(s), series);
      const convertedMax = convertAmount(f, m, series);
      if (convertedSum === undefined || convertedMax === undefined) {
        saturated = true;
        continue;
      }
      count += n;
      sum += convertedSum;
      max = Math.max(max, convertedMax);
    }
  }
  return { value: valueRatioOf(f, value, count, clampSafe(sum), max), saturated, late: false };
}

/** The value-ratio formula (docs/features.md, "Ratios"): the same expression in the reference. */
export function valueRatioOf(
  f: CompiledFeature,
  value: number,
  count: number,
  sum: number,
  max: number,
): number | null {
  if (count < (f.minEvents ?? 1)) return null;
  if (f.baseline === "max") return max === 0 ? null : value / max;
  return sum === 0 ? null : (value * count) / sum;
}

/**
 * Events in the recent window (the feature's window, the event included) against the events of
 * the baseline before it, per bucket: recent × (Nb − Nw) ÷ (Nw × baseline). Null when the
 * baseline holds fewer than minBaseline events.
 */
export function readRateRatio(
  fs: FeatureState | undefined,
  f: CompiledFeature,
  timeMs: number,
): FeatureReading {
  const { first, last } = windowRange(timeMs, f);
  const recentFirst = last - (f.recentBuckets ?? 1) + 1;
  let recent = 0;
  let baseline = 0;
  if (fs?.kind === "count") {
    for (const [b, n] of fs.buckets) {
      if (b < first || b > last) continue;
      if (b >= recentFirst) recent += n;
      else baseline += n;
    }
  }
  return { value: rateRatioOf(f, recent, baseline), saturated: false, late: false };
}

/** The rate-ratio formula (docs/features.md, "Ratios"): the same expression in the reference. */
export function rateRatioOf(f: CompiledFeature, recent: number, baseline: number): number | null {
  const nw = f.recentBuckets ?? 1;
  if (baseline < (f.minBaseline ?? 1)) return null;
  return (recent * (f.buckets - nw)) / (nw * baseline);
}

/**
 * The value of a feature for a reader at `timeMs` (for sums: of one series), over the window
 * [bucket(t) − N + 1, bucket(t)]. Counts and sums of an empty window are 0; first/last seen of
 * an empty window are null.
 */
export function readWindow(
  fs: FeatureState | undefined,
  f: CompiledFeature,
  timeMs: number,
  series: string,
): FeatureReading {
  const { first, last } = windowRange(timeMs, f);
  switch (f.stateKind) {
    case "count": {
      let total = 0;
      if (fs?.kind === "count") for (const [b, n] of fs.buckets) if (b >= first && b <= last) total += n;
      return { value: total, saturated: false, late: false };
    }
    case "sum": {
      let total = 0;
      let saturated = false;
      const buckets = fs?.kind === "sum" ? fs.series.get(series) : undefined;
      if (buckets) {
        for (const [b, n] of buckets) {
          if (b < first || b > last) continue;
          if (n === Number.MAX_SAFE_INTEGER || n === -Number.MAX_SAFE_INTEGER) saturated = true;
          total += n;
        }
      }
      const clamped = clampSafe(total);
      return { value: clamped, saturated: saturated || clamped !== total, late: false };
    }
    case "firstSeen":
    case "lastSeen": {
      let best: number | null = null;
      if (fs?.kind === f.stateKind) {
        for (const [b, t] of fs.buckets) {
          if (b < first || b > last) continue;
          if (best === null || (f.stateKind === "firstSeen" ? t < best : t > best)) best = t;
        }
      }
      return { value: best, saturated: false, late: false };
    }
    case "distinct": {
      if (fs?.kind !== "distinct") return { value: 0, saturated: false, late: false };
      let count = 0;
      for (const buckets of fs.elements.values()) if (seenWithin(buckets, first, last)) count++;
      let saturated = false;
      for (const b of fs.marks) {
        if (b >= first && b <= last) {
          saturated = true;
          break;
        }
      }
      return { value: count, saturated, late: false };
    }
    case "values": {
      // The baseline of a reader without a value of its own: the mean or maximum of the series.
      const buckets = fs?.kind === "values" ? fs.series.get(series) : undefined;
      let n = 0;
      let s = 0;
      let m = 0;
      for (const [b, stats] of buckets ?? []) {
        if (b < first || b > last) continue;
        n += stats.count;
        s += stats.sum;
        m = Math.max(m, stats.max);
      }
      if (n === 0) return { value: null, saturated: false, late: false };
      return { value: f.baseline === "max" ? m : clampSafe(s) / n, saturated: false, late: false };
    }
    case "none":
      return NOT_APPLICABLE;
  }
}

/** The distinct values of a distinct-count feature seen in the window of a reader at `timeMs`, sorted. */
export function distinctValuesInWindow(
  fs: FeatureState | undefined,
  f: CompiledFeature,
  timeMs: number,
): string[] {
  if (fs?.kind !== "distinct") return [];
  const { first, last } = windowRange(timeMs, f);
  return [...fs.elements]
    .filter(([, buckets]) => seenWithin(buckets, first, last))
    .map(([value]) => value)
    .sort();
}

/** Whether an ascending bucket list has an entry in [first, last]. */
function seenWithin(buckets: readonly number[], first: number, last: number): boolean {
  const latest = buckets[buckets.length - 1] as number;
  if (latest < first) return false;
  if (latest <= last) return true;
  // Seen after the window (a late reader): look for an earlier sighting inside it.
  let lo = 0;
  let hi = buckets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((buckets[mid] as number) < first) lo = mid + 1;
    else hi = mid;
  }
  return (buckets[lo] as number) <= last;
}

function clampSafe(n: number): number {
  if (n > Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  if (n < -Number.MAX_SAFE_INTEGER) return -Number.MAX_SAFE_INTEGER;
  return n;
}

/** Feature states of another version are dropped once this far behind the newest known horizon. */
export const CARRIED_STATE_GRACE_MS = 86_400_000;

/** Options of `compactEntityState`. */
export interface CompactOptions {
  readonly nowMs: number;
  /** High-water marks not written for this long are dropped (see docs/features.md). */
  readonly highWaterRetentionMs: number;
  /** What is kept behind each feature's horizon besides its lateness. */
  readonly allowance: LatenessAllowance;
}

/**
 * Drops what no event can read any more: buckets before each feature's first kept bucket,
 * values seen only there, marks there, a distinct cap's threshold there; feature states of other
 * versions a day behind; high-water marks of shards not written for `highWaterRetentionMs`.
 * Changes no value any event that is not late can read.
 */
export function compactEntityState(
  state: EntityState,
  features: ReadonlyMap<string, CompiledFeature>,
  options: CompactOptions,
): void {
  let newest = Number.NEGATIVE_INFINITY;
  for (const [key, fs] of state.features) {
    const f = features.get(key);
    if (!f) continue;
    newest = Math.max(newest, fs.horizon);
    pruneFeature(fs, firstKeptBucket(fs.horizon, f, reachMs(f, options.allowance)));
  }
  for (const [key, carried] of state.carried) {
    if (features.has(key) || carried.horizon < newest - CARRIED_STATE_GRACE_MS) state.carried.delete(key);
  }
  for (const [shard, mark] of state.highWater) {
    if (mark.recordedAtMs < options.nowMs - options.highWaterRetentionMs) state.highWater.delete(shard);
  }
}

function pruneFeature(fs: FeatureState, cutoff: number): void {
  const pruneBuckets = (buckets: Map<number, number>) => {
    for (const b of buckets.keys()) if (b < cutoff) buckets.delete(b);
  };
  switch (fs.kind) {
    case "count":
    case "firstSeen":
    case "lastSeen":
      pruneBuckets(fs.buckets);
      return;
    case "sum":
      for (const [name, buckets] of fs.series) {
        pruneBuckets(buckets);
        if (buckets.size === 0) fs.series.delete(name);
      }
      return;
    case "values":
      for (const [name, buckets] of fs.series) {
        for (const b of buckets.keys()) if (b < cutoff) buckets.delete(b);
        if (buckets.size === 0) fs.series.delete(name);
      }
      return;
    case "distinct":
      for (const [value, buckets] of fs.elements) {
        if ((buckets[0] as number) >= cutoff) continue;
        const live = buckets.filter((b) => b >= cutoff);
        if (live.length === 0) fs.elements.delete(value);
        else fs.elements.set(value, live);
      }
      for (const b of fs.marks) if (b < cutoff) fs.marks.delete(b);
      // Below the cutoff everything is dropped anyway: the threshold no longer says anything.
      if (fs.threshold !== undefined && fs.threshold.bucket < cutoff) fs.threshold = undefined;
      return;
  }
}

/**
 * When the item may be deleted without changing anything: once every feature's data is out of
 * reach of any event that can still be read (event time ≥ arrival − maxEventLateness, read at
 * most the processing lag P after arrival), and not before `highWaterRetentionMs` from now, so
 * that redelivered records are still recognized. Epoch milliseconds; the TTL attribute takes
 * seconds.
 */
export function entityExpiresAtMs(
  state: EntityState,
  features: ReadonlyMap<string, CompiledFeature>,
  options: CompactOptions & { readonly maxEventLatenessMs: number },
): number {
  const behind = options.maxEventLatenessMs + options.allowance.processingLagMs;
  let dataUntil = Number.NEGATIVE_INFINITY;
  for (const [key, fs] of state.features) {
    const f = features.get(key);
    if (f) dataUntil = Math.max(dataUntil, dataIrrelevantFromMs(fs.horizon, f) + behind);
  }
  return Math.max(dataUntil, options.nowMs + options.highWaterRetentionMs);
}
