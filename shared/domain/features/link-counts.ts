import { type BatchPlan, type EntityWork, foldEntity } from "#shared/domain/features/batch";
import type { CompiledFeature, LinkedFeature } from "#shared/domain/features/definition";
import { entityPk } from "#shared/domain/features/entity-key";
import {
  distinctValuesInWindow,
  type EntityState,
  type FeatureReading,
  readWindow,
} from "#shared/domain/features/entity-state";
import { isLate, type LatenessAllowance, reachMs } from "#shared/domain/features/window";

/**
 * Link counts (docs/features.md, "Link counts"): for each new event of a batch, walk the steps of
 * every link feature — the values of a distinct-count feature of the event's entity, then, keyed
 * by each, the values of the next step's feature — and count the last step's values other than
 * the event's own. Every step is read as of the event's position in the batch (the stored state
 * plus the batch's records up to and including it), exactly as the event's own features are.
 *
 * Cost: nothing is written (link counts keep no state). Step k + 1 reads the items keyed by the
 * values of step k that the batch has not read yet: one more BatchGetItem round per step beyond
 * the first, at most MAX_LINK_READS items per event and link, deduplicated within the batch.
 */

/** Loads the stored state of entity items by key (a fresh, decoded copy each call); absent items are empty. */
export type EntityLoader = (pks: readonly string[]) => Promise<Map<string, EntityState>>;

/** Options of `resolveLinkCounts`. */
export interface LinkOptions {
  readonly nowMs: number;
  readonly allowance: LatenessAllowance;
}

/** One step's read for one event: the item, the feature, and what it found. */
interface StepRead {
  readonly pk: string;
  readonly index: number;
  readonly timeMs: number;
  readonly step: CompiledFeature;
  values?: string[];
  saturated?: boolean;
  late?: boolean;
}

/** Per record index, per link feature id, what the event reads. */
export type LinkReadings = Map<number, Map<string, FeatureReading>>;

/**
 * The link counts of every new record of the plan. `load` is asked for the items each step needs
 * (all of them; the caller answers from what the batch already read where it can).
 */
export async function resolveLinkCounts(
  plan: BatchPlan,
  load: EntityLoader,
  options: LinkOptions,
): Promise<LinkReadings> {
  const out: LinkReadings = new Map();
  if (plan.set.linked.length === 0) return out;
  const works = new Map(plan.entities.map((w) => [w.pk, w]));
  // Per (record, link): the keys of the current step and the state of the walk.
  const walks: {
    index: number;
    timeMs: number;
    link: LinkedFeature;
    keys: string[];
    values: Set<string>;
    saturated: boolean;
    late: boolean;
  }[] = [];
  plan.records.forEach((p, index) => {
    if (p.role !== "new") return;
    for (const link of plan.set.linked) {
      const values: string[] = [];
      for (const read of link.keys) {
        const value = read(p.record.event);
        if (value === undefined) break;
        values.push(value);
      }
      if (values.length !== link.keys.length) continue;
      const first = link.steps[0] as CompiledFeature;
      walks.push({
        index,
        timeMs: p.timeMs,
        link,
        keys: [entityPk(first.entity, values)],
        values: new Set(),
        saturated: false,
        late: false,
      });
    }
  });
  const steps = Math.max(0, ...plan.set.linked.map((l) => l.steps.length));
  for (let level = 0; level < steps; level++) {
    const reads: StepRead[] = [];
    const byWalk = new Map<number, StepRead[]>();
    walks.forEach((walk, w) => {
      const step = walk.link.steps[level];
      if (!step || walk.late) return;
      const mine = walk.keys.map((pk) => ({ pk, index: walk.index, timeMs: walk.timeMs, step }));
      reads.push(...mine);
      byWalk.set(w, mine);
    });
    if (reads.length === 0) break;
    await readSteps(plan, works, reads, load, options);
    walks.forEach((walk, w) => {
      const mine = byWalk.get(w);
      if (!mine) return;
      const values = new Set<string>();
      for (const r of mine) {
        if (r.late) walk.late = true;
        if (r.saturated) walk.saturated = true;
        for (const v of r.values ?? []) values.add(v);
      }
      walk.values = values;
      const next = walk.link.steps[level + 1];
      walk.keys = next ? [...values].map((v) => entityPk(next.entity, [v])) : [];
    });
  }
  for (const walk of walks) {
    const readings = out.get(walk.index) ?? new Map<string, FeatureReading>();
    out.set(walk.index, readings);
    if (walk.late) {
      readings.set(walk.link.feature.id, { value: null, saturated: false, late: true });
      continue;
    }
    const self = walk.link.self((plan.records[walk.index] as BatchPlan["records"][number]).record.event);
    if (self !== undefined) walk.values.delete(self);
    readings.set(walk.link.feature.id, { value: walk.values.size, saturated: walk.saturated, late: false });
  }
  return out;
}

/**
 * Reads each step's values as of its record's position: per item, the stored state folded with
 * the batch's records that touch it, up to and including each reader, in batch order.
 */
async function readSteps(
  plan: BatchPlan,
  works: ReadonlyMap<string, EntityWork>,
  reads: StepRead[],
  load: EntityLoader,
  options: LinkOptions,
): Promise<void> {
  const byPk = new Map<string, StepRead[]>();
  for (const r of reads) {
    const list = byPk.get(r.pk) ?? [];
    list.push(r);
    byPk.set(r.pk, list);
  }
  const states = await load([...byPk.keys()]);
  for (const [pk, list] of byPk) {
    const state = states.get(pk) as EntityState;
    const entry = works.get(pk);
    // Only the step features read here need folding: the copy is read, never written.
    const steps = [...new Set(list.map((r) => r.step))];
    const work = entry && { ...entry, group: { ...entry.group, features: steps } };
    list.sort((a, b) => a.index - b.index);
    let folded = 0;
    for (const r of list) {
      if (work) {
        const upTo = work.touches.filter((i, k) => k >= folded && i <= r.index);
        if (upTo.length > 0) {
          foldEntity(plan, { ...work, touches: upTo }, state, {
            read: false,
            nowMs: options.nowMs,
            allowance: options.allowance,
          });
          folded += upTo.length;
        }
      }
      const fs = state.features.get(r.step.stateKey);
      r.late = isLate(r.timeMs, fs?.horizon, r.step, reachMs(r.step, options.allowance));
      if (r.late) continue;
      r.values = distinctValuesInWindow(fs, r.step, r.timeMs);
      r.saturated = readWindow(fs, r.step, r.timeMs, "").saturated;
    }
  }
}
