import type { CleanEvent } from "#shared/domain/event/index";
import type { CompiledFeature, CompiledFeatureSet, LinkedFeature } from "#shared/domain/features/definition";
import type { FeatureSnapshot } from "#shared/domain/features/entity-snapshot";
import { convertAmount, rateRatioOf, valueRatioOf } from "#shared/domain/features/entity-state";
import type { FeatureVector } from "#shared/domain/features/feature-vector";
import type { TextAccessor } from "#shared/domain/features/fields";
import { DEFAULT_LATENESS_ALLOWANCE, type LatenessAllowance } from "#shared/domain/features/window";

/**
 * The executable specification of docs/features.md: every event is kept in a log and every value
 * is computed by scanning it. No buckets are stored, nothing is pruned, nothing is encoded, there
 * are no batches, shards or retries: one call per event, in processing order. Tests run the real
 * store and this side by side and require equal values for every feature of every event.
 *
 * Deliberately written without the store's helpers (window math, state transition, batch
 * planning, link resolution) so that a mistake there cannot hide by being made twice. It shares
 * with the store only what is the definition itself: the compiled accessors (which fields an event
 * carries, derived keys), the currency converter and the two ratio formulas.
 *
 * Where the store prunes, the reference keeps everything, and gives the same values because of
 * the rule the store's pruning relies on: an event whose bucket lies before the bucket of
 * H − (L + P + S) reads nothing (it is late), and every other event's window lies in what the
 * store keeps.
 */

interface LoggedEvent {
  readonly time: number;
  readonly bucket: number;
  /** Sums and value ratios: series and addend. */
  readonly series: string;
  readonly addend: number;
}

interface ReferenceState {
  horizon: number | undefined;
  readonly log: LoggedEvent[];
  /** Distinct counts: value → buckets it was seen in and not forgotten. */
  readonly kept: Map<string, Set<number>>;
  /** Distinct counts: buckets holding a forgotten sighting. */
  readonly marks: Set<number>;
  /** Distinct counts: sightings at or below this (bucket, then value) are forgotten. */
  threshold: readonly [number, string] | undefined;
}

/** The reference implementation of the feature semantics. */
export class ReferenceFeatures {
  private readonly states = new Map<string, ReferenceState>();
  private readonly seen = new Set<string>();
  /** Key readers by entity type name. */
  private readonly keyReaders = new Map<string, readonly TextAccessor[]>();
  private readonly links = new Map<string, LinkedFeature>();

  constructor(
    private readonly set: CompiledFeatureSet,
    private readonly allowance: LatenessAllowance = DEFAULT_LATENESS_ALLOWANCE,
  ) {
    for (const group of set.groups) this.keyReaders.set(group.entity.name, group.keys);
    for (const link of set.linked) {
      this.keyReaders.set(link.feature.entity.name, link.keys);
      this.links.set(link.feature.id, link);
    }
  }

  /**
   * Processes the first delivery of an event and returns the values it reads; a later event with
   * an eventId already processed contributes nothing and returns undefined.
   */
  process(event: CleanEvent): FeatureVector | undefined {
    if (this.seen.has(event.eventId)) return undefined;
    this.seen.add(event.eventId);
    const t = Date.parse(event.occurredAt);
    const values: Record<string, number | null> = {};
    const saturated: string[] = [];
    const late: string[] = [];
    for (const f of this.set.features) {
      const key = this.keyOf(f, event);
      if (key === undefined || f.stateKind === "none") {
        // Link counts read the other features' states after the event counted into all of them.
        values[f.id] = null;
        continue;
      }
      const st = this.state(f, key);
      if (this.late(f, st, t)) {
        // A late event still counts: whether it counts never depends on what came before.
        this.count(f, st, event, t);
        values[f.id] = null;
        late.push(f.id);
        continue;
      }
      let result: { value: number | null; saturated: boolean };
      if (f.readsBeforeCount) {
        result = this.valueOf(f, st, event, t);
        this.count(f, st, event, t);
      } else {
        this.count(f, st, event, t);
        result = this.valueOf(f, st, event, t);
      }
      values[f.id] = result.value;
      if (result.saturated) saturated.push(f.id);
    }
    for (const f of this.set.features) {
      const link = this.links.get(f.id);
      const key = this.keyOf(f, event);
      if (!link || key === undefined) continue;
      const result = this.linkCount(link, key, event, t);
      values[f.id] = result.value;
      if (result.late) late.push(f.id);
      else if (result.saturated) saturated.push(f.id);
    }
    return { version: this.set.version, values, saturated, late };
  }

  /** Every feature of an entity as a reader at `atMs` sees it. */
  read(entityType: string, keyValues: readonly string[], atMs: number): FeatureSnapshot[] {
    const features = this.set.features.filter((f) => f.entity.name === entityType && f.stateKind !== "none");
    return features.map((f) => {
      const st = this.stateOf(f, JSON.stringify(keyValues));
      const base = {
        id: f.id,
        aggregation: f.aggregation,
        window: f.normalized.window,
        horizon: st.horizon ?? null,
      };
      if (this.late(f, st, atMs)) return { ...base, value: null, saturated: false, late: true };
      if (f.aggregation === "sum" && f.referenceCurrency !== undefined) {
        const r = this.convertedSum(f, st, atMs);
        return {
          ...base,
          value: { [f.referenceCurrency]: r.value ?? 0 },
          saturated: r.saturated,
          late: false,
        };
      }
      if (f.aggregation === "timeSince" || f.aggregation === "rateRatio") {
        return { ...base, ...this.valueOf(f, st, undefined, atMs), saturated: false, late: false };
      }
      if (f.aggregation === "valueRatio") {
        const value: Record<string, number> = {};
        const inside = st.log.filter((e) => inWindow(f, e.bucket, atMs));
        for (const name of [...new Set(inside.map((e) => e.series))].sort()) {
          const mine = inside.filter((e) => e.series === name);
          value[name] =
            f.baseline === "max"
              ? Math.max(...mine.map((e) => e.addend))
              : clamp(mine.reduce((sum, e) => sum + e.addend, 0)) / mine.length;
        }
        return { ...base, value, saturated: false, late: false };
      }
      if (f.aggregation === "sum") {
        const value: Record<string, number> = {};
        let saturated = false;
        const names = [
          ...new Set(st.log.filter((e) => inWindow(f, e.bucket, atMs)).map((e) => e.series)),
        ].sort();
        for (const name of names) {
          const r = this.compute(f, st, atMs, name);
          value[name] = r.value ?? 0;
          saturated ||= r.saturated;
        }
        return { ...base, value, saturated, late: false };
      }
      const r = this.compute(f, st, atMs, "");
      if (f.aggregation !== "distinct") return { ...base, ...r, late: false };
      const distinctValues = [...st.kept]
        .filter(([, buckets]) => [...buckets].some((b) => inWindow(f, b, atMs)))
        .map(([v]) => v)
        .sort();
      return { ...base, ...r, late: false, distinctValues };
    });
  }

  /**
   * A link count as a reader of `event` at `atMs` sees it with every event processed so far (null
   * when the event lacks the link's key). Tests bound live link counts with it: a link's last
   * step is often an entity shared across shards.
   */
  readLink(featureId: string, event: CleanEvent, atMs: number): { value: number | null; late: boolean } {
    const link = this.links.get(featureId);
    if (!link) throw new RangeError(`${featureId} is not a link count of this feature set`);
    const key = this.keyOf(link.feature, event);
    if (key === undefined) return { value: null, late: false };
    const result = this.linkCount(link, key, event, atMs);
    return { value: result.value, late: result.late };
  }

  /** The JSON array of the event's key values of the feature's entity, or undefined when it lacks one. */
  private keyOf(f: CompiledFeature, event: CleanEvent): string | undefined {
    const readers = this.keyReaders.get(f.entity.name) ?? [];
    const values: string[] = [];
    for (const read of readers) {
      const value = read(event);
      if (value === undefined) return undefined;
      values.push(value);
    }
    return JSON.stringify(values);
  }

  /**
   * A reader at t is late when its bucket is before the bucket of H − R, where H is the latest
   * event time counted before it and R = lateness + processing lag + future skew.
   */
  private late(f: CompiledFeature, st: ReferenceState, t: number): boolean {
    if (st.horizon === undefined) return false;
    const reach = f.latenessMs + this.allowance.processingLagMs + this.allowance.maxFutureSkewMs;
    return Math.floor(t / f.bucketMs) < Math.floor((st.horizon - reach) / f.bucketMs);
  }

  private stateOf(f: CompiledFeature, key: string): ReferenceState {
    return this.state(f, key);
  }

  private state(f: CompiledFeature, key: string): ReferenceState {
    const id = `${f.id} ${key}`;
    let st = this.states.get(id);
    if (!st) {
      st = { horizon: undefined, log: [], kept: new Map(), marks: new Set(), threshold: undefined };
      this.states.set(id, st);
    }
    return st;
  }

  private count(f: CompiledFeature, st: ReferenceState, event: CleanEvent, t: number): void {
    if (!f.accepts(event)) return;
    const bucket = Math.floor(t / f.bucketMs);
    if (f.aggregation === "sum" || f.aggregation === "valueRatio") {
      const addend = f.addend?.(event);
      if (!addend) return;
      st.log.push({ time: t, bucket, series: addend.series, addend: addend.value });
    } else if (f.aggregation === "distinct") {
      const value = f.element?.(event);
      if (value === undefined) return;
      st.log.push({ time: t, bucket, series: "", addend: 0 });
      this.keep(f, st, value, bucket);
    } else {
      st.log.push({ time: t, bucket, series: "", addend: 0 });
    }
    st.horizon = st.horizon === undefined ? t : Math.max(st.horizon, t);
  }

  /**
   * The cap rule: a sighting at or below the threshold (by bucket, then value) is forgotten and
   * its bucket marked; beyond maxDistinct kept values the threshold becomes the maxDistinct + 1-th
   * largest of the values' latest sightings, and every kept sighting at or below it is forgotten.
   */
  private keep(f: CompiledFeature, st: ReferenceState, value: string, bucket: number): void {
    const atOrBelow = (b: number, v: string, [tb, tv]: readonly [number, string]) =>
      b < tb || (b === tb && v <= tv);
    if (st.threshold && atOrBelow(bucket, value, st.threshold)) {
      st.marks.add(bucket);
      return;
    }
    const buckets = st.kept.get(value) ?? new Set<number>();
    buckets.add(bucket);
    st.kept.set(value, buckets);
    if (st.kept.size <= f.maxDistinct) return;
    const latest = [...st.kept].map(([v, bs]) => [Math.max(...bs), v] as const);
    latest.sort(([ab, av], [bb, bv]) => bb - ab || (bv < av ? -1 : bv > av ? 1 : 0));
    const threshold = latest[f.maxDistinct];
    if (!threshold) return;
    st.threshold = threshold;
    for (const [v, bs] of [...st.kept]) {
      for (const b of [...bs]) {
        if (!atOrBelow(b, v, threshold)) continue;
        bs.delete(b);
        st.marks.add(b);
      }
      if (bs.size === 0) st.kept.delete(v);
    }
  }

  /** What an event (or, without one, a reader) at t reads from a feature. */
  private valueOf(
    f: CompiledFeature,
    st: ReferenceState,
    event: CleanEvent | undefined,
    t: number,
  ): { value: number | null; saturated: boolean } {
    switch (f.aggregation) {
      case "sum": {
        if (f.referenceCurrency !== undefined) return this.convertedSum(f, st, t);
        const series = event === undefined ? undefined : f.series?.(event);
        return series === undefined ? { value: null, saturated: false } : this.compute(f, st, t, series);
      }
      case "timeSince": {
        const last = this.compute(f, st, t, "").value;
        return { value: last === null ? null : t - last, saturated: false };
      }
      case "rateRatio": {
        const own = Math.floor(t / f.bucketMs);
        const recentFirst = own - (f.recentBuckets ?? 1) + 1;
        const inside = st.log.filter((e) => inWindow(f, e.bucket, t));
        const recent = inside.filter((e) => e.bucket >= recentFirst).length;
        return { value: rateRatioOf(f, recent, inside.length - recent), saturated: false };
      }
      case "valueRatio": {
        const own = event === undefined ? undefined : f.addend?.(event);
        if (own === undefined) return { value: null, saturated: false };
        const value = convertAmount(f, own.value, own.series);
        if (value === undefined) return { value: null, saturated: true };
        const inside = st.log.filter(
          (e) => inWindow(f, e.bucket, t) && (f.referenceCurrency !== undefined || e.series === own.series),
        );
        let count = 0;
        let sum = 0;
        let max = 0;
        let saturated = false;
        for (const name of new Set(inside.map((e) => e.series))) {
          const mine = inside.filter((e) => e.series === name);
          const total = mine.reduce((s, e) => s + e.addend, 0);
          if (!Number.isSafeInteger(total)) saturated = true;
          const convertedSum = convertAmount(f, clamp(total), name);
          const convertedMax = convertAmount(f, Math.max(...mine.map((e) => e.addend)), name);
          if (convertedSum === undefined || convertedMax === undefined) {
            saturated = true;
            continue;
          }
          count += mine.length;
          sum += convertedSum;
          max = Math.max(max, convertedMax);
        }
        return { value: valueRatioOf(f, value, count, clamp(sum), max), saturated };
      }
      default:
        return this.compute(f, st, t, "");
    }
  }

  /** Each currency's window sum converted to the reference currency; a currency without a rate is left out (saturated). */
  private convertedSum(
    f: CompiledFeature,
    st: ReferenceState,
    t: number,
  ): { value: number | null; saturated: boolean } {
    const inside = st.log.filter((e) => inWindow(f, e.bucket, t));
    let total = 0;
    let saturated = false;
    for (const name of new Set(inside.map((e) => e.series))) {
      const sum = inside.filter((e) => e.series === name).reduce((s, e) => s + e.addend, 0);
      if (!Number.isSafeInteger(sum)) saturated = true;
      const converted = convertAmount(f, clamp(sum), name);
      if (converted === undefined) saturated = true;
      else total += converted;
    }
    return { value: clamp(total), saturated: saturated || !Number.isSafeInteger(total) };
  }

  /**
   * A link count: the values of the first step's feature in the event's window, then for each the
   * values of the next step's feature keyed by it, and so on; the last step's values other than
   * the event's own, counted. Late when a step's state is late for the reader; saturated when a
   * step's set was capped.
   */
  private linkCount(
    link: LinkedFeature,
    key: string,
    event: CleanEvent,
    t: number,
  ): { value: number | null; saturated: boolean; late: boolean } {
    let keys = [key];
    let saturated = false;
    let values = new Set<string>();
    for (const step of link.steps) {
      values = new Set<string>();
      for (const k of keys) {
        const st = this.state(step, k);
        if (this.late(step, st, t)) return { value: null, saturated: false, late: true };
        for (const [value, buckets] of st.kept) {
          if ([...buckets].some((b) => inWindow(step, b, t))) values.add(value);
        }
        if ([...st.marks].some((b) => inWindow(step, b, t))) saturated = true;
      }
      keys = [...values].map((value) => JSON.stringify([value]));
    }
    const self = link.self(event);
    if (self !== undefined) values.delete(self);
    return { value: values.size, saturated, late: false };
  }

  private compute(
    f: CompiledFeature,
    st: ReferenceState,
    t: number,
    series: string,
  ): { value: number | null; saturated: boolean } {
    const inside = st.log.filter((e) => inWindow(f, e.bucket, t));
    switch (f.stateKind) {
      case "count":
        return { value: inside.length, saturated: false };
      case "none":
      case "values":
        return { value: null, saturated: false };
      case "sum": {
        const total = inside.filter((e) => e.series === series).reduce((s, e) => s + e.addend, 0);
        return Number.isSafeInteger(total)
          ? { value: total, saturated: false }
          : { value: Math.sign(total) * Number.MAX_SAFE_INTEGER, saturated: true };
      }
      case "firstSeen":
        return {
          value: inside.length === 0 ? null : Math.min(...inside.map((e) => e.time)),
          saturated: false,
        };
      case "lastSeen":
        return {
          value: inside.length === 0 ? null : Math.max(...inside.map((e) => e.time)),
          saturated: false,
        };
      case "distinct": {
        const value = [...st.kept.values()].filter((bs) => [...bs].some((b) => inWindow(f, b, t))).length;
        const saturated = [...st.marks].some((b) => inWindow(f, b, t));
        return { value, saturated };
      }
    }
  }
}

/** The window of a reader at t: the N buckets ending with t's own. */
function inWindow(f: CompiledFeature, bucket: number, t: number): boolean {
  const own = Math.floor(t / f.bucketMs);
  return bucket <= own && bucket > own - f.buckets;
}

function clamp(n: number): number {
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, n));
}
