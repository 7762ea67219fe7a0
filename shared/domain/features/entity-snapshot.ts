import type { AggregationType, CompiledFeature, EntityGroup } from "#shared/domain/features/definition";
import {
  type EntityState,
  readConvertedSum,
  readRateRatio,
  readWindow,
} from "#shared/domain/features/entity-state";
import { isLate, type LatenessAllowance, reachMs, windowRange } from "#shared/domain/features/window";

/** One feature of an entity as a reader at a given time sees it (`vigil features show`). */
export interface FeatureSnapshot {
  readonly id: string;
  readonly aggregation: AggregationType;
  readonly window: string;
  /**
   * The value over the window ending at the reader's bucket: a number (null for first/last
   * seen of an empty window); for sums, per series (currency, or "" for attributes) with data
   * in the window, or `{ <reference currency>: total }` for converted sums; for value ratios the
   * baseline (mean or maximum) per series; for time-since the time since the latest event (ms);
   * for rate ratios the ratio as a reader that does not count. null when the reader is late.
   */
  readonly value: number | null | Readonly<Record<string, number>>;
  readonly saturated: boolean;
  /** The reader's window may reach data no longer kept (bucket(at) < bucket(H − R)): no value. */
  readonly late: boolean;
  /** Latest event time counted into the feature (epoch ms), null when nothing was. */
  readonly horizon: number | null;
  /** Distinct counts: the kept values seen in the window, sorted. */
  readonly distinctValues?: readonly string[];
}

/** What every feature of an entity reads at `atMs`; nothing is counted. */
export function snapshotEntity(
  state: EntityState,
  group: EntityGroup,
  atMs: number,
  allowance: LatenessAllowance,
): FeatureSnapshot[] {
  return group.features.map((f) => snapshotFeature(state, f, atMs, allowance));
}

function snapshotFeature(
  state: EntityState,
  f: CompiledFeature,
  atMs: number,
  allowance: LatenessAllowance,
): FeatureSnapshot {
  const fs = state.features.get(f.stateKey);
  const base = {
    id: f.id,
    aggregation: f.aggregation,
    window: f.normalized.window,
    horizon: fs?.horizon ?? null,
  };
  if (isLate(atMs, fs?.horizon, f, reachMs(f, allowance)))
    return { ...base, value: null, saturated: false, late: true };
  if (f.aggregation === "sum" && f.referenceCurrency !== undefined) {
    const reading = readConvertedSum(fs, f, atMs);
    return {
      ...base,
      value: { [f.referenceCurrency]: reading.value ?? 0 },
      saturated: reading.saturated,
      late: false,
    };
  }
  if (f.aggregation === "timeSince") {
    const last = readWindow(fs, f, atMs, "").value;
    return { ...base, value: last === null ? null : atMs - last, saturated: false, late: false };
  }
  if (f.aggregation === "rateRatio") {
    return { ...base, value: readRateRatio(fs, f, atMs).value, saturated: false, late: false };
  }
  if (f.aggregation === "valueRatio") {
    const value: Record<string, number> = {};
    if (fs?.kind === "values") {
      for (const series of [...fs.series.keys()].sort()) {
        const reading = readWindow(fs, f, atMs, series);
        if (reading.value !== null) value[series] = reading.value;
      }
    }
    return { ...base, value, saturated: false, late: false };
  }
  if (f.aggregation === "sum") {
    const value: Record<string, number> = {};
    let saturated = false;
    const { first, last } = windowRange(atMs, f);
    if (fs?.kind === "sum") {
      for (const [series, buckets] of [...fs.series].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (![...buckets.keys()].some((b) => b >= first && b <= last)) continue;
        const reading = readWindow(fs, f, atMs, series);
        value[series] = reading.value ?? 0;
        saturated ||= reading.saturated;
      }
    }
    return { ...base, value, saturated, late: false };
  }
  const reading = readWindow(fs, f, atMs, "");
  if (f.aggregation === "distinct") {
    const { first, last } = windowRange(atMs, f);
    const values =
      fs?.kind === "distinct"
        ? [...fs.elements]
            .filter(([, buckets]) => buckets.some((b) => b >= first && b <= last))
            .map(([v]) => v)
        : [];
    return {
      ...base,
      value: reading.value,
      saturated: reading.saturated,
      late: false,
      distinctValues: values.sort(),
    };
  }
  return { ...base, value: reading.value, saturated: reading.saturated, late: false };
}
