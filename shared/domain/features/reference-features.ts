import type { CleanEvent } from "#shared/domain/event/index";
import type { CompiledFeature, CompiledFeatureSet } from "#shared/domain/features/definition";
import type { FeatureSnapshot } from "#shared/domain/features/entity-snapshot";
import type { FeatureVector } from "#shared/domain/features/feature-vector";

/**
 * The executable specification of docs/features.md: every event is kept in a log and every value
 * is computed by scanning it. No buckets are stored, nothing is pruned, nothing is encoded, there
 * are no batches, shards or retries: one call per event, in processing order. Tests run the real
 * store and this side by side and require equal values for every feature of every event.
 *
 * Deliberately written without the store's helpers (window math, state transition) so that a
 * mistake there cannot hide by being made twice.
 */

interface LoggedEvent {
  readonly time: number;
  readonly bucket: number;
  /** Sums: series and addend. */
  readonly series: string;
  readonly addend: number;
}

interface ReferenceState {
  horizon: number | undefined;
  readonly log: LoggedEvent[];
  /** Distinct counts: value → buckets it was seen in. */
  readonly kept: Map<string, Set<number>>;
  readonly marks: Set<number>;
}

/** The reference implementation of the feature semantics. */
export class ReferenceFeatures {
  private readonly states = new Map<string, ReferenceState>();
  private readonly seen = new Set<string>();

  constructor(private readonly set: CompiledFeatureSet) {}

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
      const key = keyOf(f, event);
      if (key === undefined) {
        values[f.id] = null;
        continue;
      }
      const st = this.state(f, key);
      if (st.horizon !== undefined && t < st.horizon - f.latenessMs) {
        values[f.id] = null;
        late.push(f.id);
        continue;
      }
      const series = f.aggregation === "sum" ? f.series?.(event) : "";
      let result: { value: number | null; saturated: boolean };
      if (f.aggregation === "lastSeen") {
        result = this.compute(f, st, t, "");
        this.count(f, st, event, t);
      } else {
        this.count(f, st, event, t);
        result = series === undefined ? { value: null, saturated: false } : this.compute(f, st, t, series);
      }
      values[f.id] = result.value;
      if (result.saturated) saturated.push(f.id);
    }
    return { version: this.set.version, values, saturated, late };
  }

  /** Every feature of an entity as a reader at `atMs` sees it. */
  read(entityType: string, keyValues: readonly string[], atMs: number): FeatureSnapshot[] {
    const features = this.set.features.filter((f) => f.entity.name === entityType);
    return features.map((f) => {
      const st = this.state(f, JSON.stringify(keyValues));
      const base = {
        id: f.id,
        aggregation: f.aggregation,
        window: f.normalized.window,
        horizon: st.horizon ?? null,
      };
      if (st.horizon !== undefined && atMs < st.horizon - f.latenessMs) {
        return { ...base, value: null, saturated: false, late: true };
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

  private state(f: CompiledFeature, key: string): ReferenceState {
    const id = `${f.id} ${key}`;
    let st = this.states.get(id);
    if (!st) {
      st = { horizon: undefined, log: [], kept: new Map(), marks: new Set() };
      this.states.set(id, st);
    }
    return st;
  }

  private count(f: CompiledFeature, st: ReferenceState, event: CleanEvent, t: number): void {
    if (!f.accepts(event)) return;
    const bucket = Math.floor(t / f.bucketMs);
    if (f.aggregation === "sum") {
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

  /** The cap rule: beyond maxDistinct values, forget the one seen least recently, marking its buckets. */
  private keep(f: CompiledFeature, st: ReferenceState, value: string, bucket: number): void {
    const buckets = st.kept.get(value);
    if (buckets) {
      buckets.add(bucket);
      return;
    }
    st.kept.set(value, new Set([bucket]));
    if (st.kept.size <= f.maxDistinct) return;
    const ranked = [...st.kept].map(([v, bs]) => ({ v, latest: Math.max(...bs), bs }));
    ranked.sort((a, b) => a.latest - b.latest || (a.v < b.v ? -1 : 1));
    const victim = ranked[0];
    if (!victim) return;
    for (const b of victim.bs) st.marks.add(b);
    st.kept.delete(victim.v);
  }

  private compute(
    f: CompiledFeature,
    st: ReferenceState,
    t: number,
    series: string,
  ): { value: number | null; saturated: boolean } {
    const inside = st.log.filter((e) => inWindow(f, e.bucket, t));
    switch (f.aggregation) {
      case "count":
        return { value: inside.length, saturated: false };
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

function keyOf(f: CompiledFeature, event: CleanEvent): string | undefined {
  const values: string[] = [];
  for (const field of f.entity.fields) {
    const value = readKey(event, field);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return JSON.stringify(values);
}

function readKey(event: CleanEvent, field: string): string | undefined {
  const v = (event as unknown as Record<string, unknown>)[field];
  return typeof v === "string" ? v : undefined;
}
