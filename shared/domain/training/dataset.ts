import type { Action } from "#shared/domain/decision/action";
import {
  STORED_EVENT_FIELDS,
  type StoredEventFields,
} from "#shared/domain/decision/model/model-event-fields";
import type { EventType } from "#shared/domain/event/index";
import { type Label, type LabelSource, labelAsOf, subjectKey } from "#shared/domain/labels/index";

/**
 * Point-in-time training sets (docs/training.md): stored decisions joined with the labels known
 * at a cutoff. Pure; `vigil dataset export` and the backtest feed it decisions and labels.
 *
 * What makes it point in time:
 * - feature values are the ones each decision stored when it was made (`features.values`), never
 *   recomputed from entity state that later events changed;
 * - a label counts only if it was observed at or before the cutoff (`labelAsOf`), so a chargeback
 *   that arrived after it is not in the row (and an earlier review verdict is);
 * - decisions made after the cutoff are left out: at the cutoff nobody could have known them.
 *
 * Decisions of `challenge_outcome` events are left out too: an outcome is a report about another
 * event (it becomes that event's label), not a customer action a model scores.
 */

/** The slice of a stored decision a training row is built from (a decisions table item fits). */
export interface DatasetDecision {
  readonly eventId: string;
  readonly type: EventType;
  readonly occurredAt?: string;
  readonly decidedAt: string;
  readonly action: Action;
  readonly score: number | null;
  readonly features?: {
    readonly version: string | null;
    readonly values: Readonly<Record<string, number | null>>;
  };
  readonly eventFields?: StoredEventFields;
  readonly versions: { readonly model: string | null; readonly rules: number | null };
}

/**
 * What to do with a decision that has no label at the cutoff.
 * - `exclude`: leave it out (the default: unknown is not legit).
 * - `assume-legit`: take it as legit when it was let through (action `pass`) and its event is at
 *   least `minAgeMs` older than the cutoff (the outcome window has passed, e.g. the card networks'
 *   chargeback period: a fraud would have come back by now), optionally keeping only a
 *   deterministic `sampleRate` share of them (chosen by a hash of the eventId, so the same export
 *   gives the same rows). Younger ones are excluded, and so are unlabelled decisions that were not
 *   let through: a blocked, challenged or reviewed event never got to where fraud shows (an
 *   abandoned challenge gives no label), so its silence proves nothing.
 */
export type UnlabelledPolicy =
  | { readonly kind: "exclude" }
  | { readonly kind: "assume-legit"; readonly minAgeMs: number; readonly sampleRate?: number };

/** Parameters of an export. */
export interface DatasetOptions {
  /** Labels observed at or before this instant count (epoch ms); decisions made after it are left out. */
  readonly labelsAsOfMs: number;
  /** Only decisions of events that occurred in [fromMs, toMs). */
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly unlabelled: UnlabelledPolicy;
}

/** Where a row's label came from: a stored label's source, or the unlabelled policy. */
export type RowLabelSource = LabelSource | "assumed_legit";

/** One training row. */
export interface DatasetRow {
  readonly eventId: string;
  readonly type: EventType;
  readonly occurredAt: string;
  readonly decidedAt: string;
  /** 1 fraud, 0 legit. */
  readonly label: 0 | 1;
  readonly labelSource: RowLabelSource;
  readonly labelCategory: string | null;
  /** When the label in force became known (null for assumed legit). */
  readonly labelObservedAt: string | null;
  /** The decision's action and active model score when it was made. */
  readonly action: Action;
  readonly score: number | null;
  readonly modelVersion: string | null;
  readonly featureVersion: string | null;
  /** Feature values exactly as decided with (null: no value), by feature id. */
  readonly features: Readonly<Record<string, number | null>>;
  /** The stored non-identifying model event fields. */
  readonly eventFields: StoredEventFields;
}

/** Counts of what went into (and stayed out of) an export. */
export interface DatasetSummary {
  readonly decisions: number;
  readonly rows: number;
  readonly fraud: number;
  readonly legit: number;
  readonly assumedLegit: number;
  /** Decisions outside [from, to) or made after the cutoff. */
  readonly outsideWindow: number;
  /** Decisions of challenge outcomes (reports, not training rows). */
  readonly outcomeReports: number;
  readonly unlabelledExcluded: number;
  /** Labels of the selected decisions observed after the cutoff: ignored, as they must be. */
  readonly labelsAfterCutoff: number;
  readonly byLabelSource: Readonly<Record<string, number>>;
}

/** A training set: rows in event-time order, the feature ids they carry, and what was counted. */
export interface Dataset {
  readonly rows: readonly DatasetRow[];
  readonly featureIds: readonly string[];
  readonly summary: DatasetSummary;
}

/**
 * Joins decisions with the labels known at the cutoff. `labels` maps subject keys
 * (`event#<eventId>`) to every label of that subject; labels of entities are not joined (a
 * decision stores no entity keys). Rows are sorted by occurredAt, then eventId.
 */
export function buildDataset(
  decisions: Iterable<DatasetDecision>,
  labels: ReadonlyMap<string, readonly Label[]>,
  options: DatasetOptions,
): Dataset {
  const cutoff = options.labelsAsOfMs;
  const rows: DatasetRow[] = [];
  const featureIds = new Set<string>();
  const bySource: Record<string, number> = {};
  let total = 0;
  let outside = 0;
  let excluded = 0;
  let assumed = 0;
  let afterCutoff = 0;
  let reports = 0;
  for (const d of decisions) {
    total++;
    if (d.type === "challenge_outcome") {
      reports++;
      continue;
    }
    const occurredAt = d.occurredAt ?? d.decidedAt;
    const occurredMs = Date.parse(occurredAt);
    if (
      (options.fromMs !== undefined && occurredMs < options.fromMs) ||
      (options.toMs !== undefined && occurredMs >= options.toMs) ||
      Date.parse(d.decidedAt) > cutoff
    ) {
      outside++;
      continue;
    }
    const known = labels.get(subjectKey({ eventId: d.eventId })) ?? [];
    for (const l of known) if (Date.parse(l.observedAt) > cutoff) afterCutoff++;
    const inForce = labelAsOf(known, cutoff);
    let label: 0 | 1;
    let source: RowLabelSource;
    if (inForce) {
      label = inForce.label === "fraud" ? 1 : 0;
      source = inForce.source;
    } else if (
      options.unlabelled.kind === "assume-legit" &&
      d.action === "pass" &&
      cutoff - occurredMs >= options.unlabelled.minAgeMs &&
      sampled(d.eventId, options.unlabelled.sampleRate ?? 1)
    ) {
      label = 0;
      source = "assumed_legit";
      assumed++;
    } else {
      excluded++;
      continue;
    }
    bySource[source] = (bySource[source] ?? 0) + 1;
    const values = d.features?.values ?? {};
    for (const id of Object.keys(values)) featureIds.add(id);
    rows.push({
      eventId: d.eventId,
      type: d.type,
      occurredAt,
      decidedAt: d.decidedAt,
      label,
      labelSource: source,
      labelCategory: inForce?.category ?? null,
      labelObservedAt: inForce?.observedAt ?? null,
      action: d.action,
      score: d.score,
      modelVersion: d.versions.model,
      featureVersion: d.features?.version ?? null,
      features: values,
      eventFields: d.eventFields ?? {},
    });
  }
  rows.sort((a, b) =>
    a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : a.eventId < b.eventId ? -1 : 1,
  );
  const fraud = rows.filter((r) => r.label === 1).length;
  return {
    rows,
    featureIds: [...featureIds].sort(),
    summary: {
      decisions: total,
      rows: rows.length,
      fraud,
      legit: rows.length - fraud,
      assumedLegit: assumed,
      outsideWindow: outside,
      outcomeReports: reports,
      unlabelledExcluded: excluded,
      labelsAfterCutoff: afterCutoff,
      byLabelSource: bySource,
    },
  };
}

/** Deterministic sampling by eventId: FNV-1a of the id, as a fraction of 2^32, below the rate. */
function sampled(eventId: string, rate: number): boolean {
  if (rate >= 1) return true;
  let h = 0x811c9dc5;
  for (let i = 0; i < eventId.length; i++) {
    h ^= eventId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32 < rate;
}

/** The flat columns of a row, in file order: identity, label, decision, features, event fields. */
export function datasetColumns(featureIds: readonly string[]): string[] {
  return [
    "eventId",
    "type",
    "occurredAt",
    "decidedAt",
    "label",
    "labelSource",
    "labelCategory",
    "labelObservedAt",
    "action",
    "score",
    "modelVersion",
    "featureVersion",
    ...featureIds.map((id) => `feature.${id}`),
    ...STORED_EVENT_FIELDS.map((f) => `event.${f}`),
  ];
}

/** A row as a flat record of its columns (CSV cells, NDJSON objects). */
export function flattenRow(
  row: DatasetRow,
  featureIds: readonly string[],
): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {
    eventId: row.eventId,
    type: row.type,
    occurredAt: row.occurredAt,
    decidedAt: row.decidedAt,
    label: row.label,
    labelSource: row.labelSource,
    labelCategory: row.labelCategory,
    labelObservedAt: row.labelObservedAt,
    action: row.action,
    score: row.score,
    modelVersion: row.modelVersion,
    featureVersion: row.featureVersion,
  };
  for (const id of featureIds) out[`feature.${id}`] = row.features[id] ?? null;
  for (const f of STORED_EVENT_FIELDS) out[`event.${f}`] = row.eventFields[f] ?? null;
  return out;
}

/** Reads a flat record (an NDJSON line of an export) back into a row. */
export function unflattenRow(record: Readonly<Record<string, unknown>>): DatasetRow {
  const features: Record<string, number | null> = {};
  const eventFields: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(record)) {
    if (key.startsWith("feature.")) features[key.slice(8)] = typeof value === "number" ? value : null;
    else if (key.startsWith("event.") && value !== null && value !== undefined)
      eventFields[key.slice(6)] = value as string | number;
  }
  const text = (key: string) => (typeof record[key] === "string" ? (record[key] as string) : null);
  return {
    eventId: String(record.eventId),
    type: record.type as EventType,
    occurredAt: String(record.occurredAt),
    decidedAt: String(record.decidedAt),
    label: record.label === 1 ? 1 : 0,
    labelSource: record.labelSource as RowLabelSource,
    labelCategory: text("labelCategory"),
    labelObservedAt: text("labelObservedAt"),
    action: record.action as Action,
    score: typeof record.score === "number" ? record.score : null,
    modelVersion: text("modelVersion"),
    featureVersion: text("featureVersion"),
    features,
    eventFields: eventFields as StoredEventFields,
  };
}
