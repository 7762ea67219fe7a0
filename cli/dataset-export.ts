import { writeFileSync } from "node:fs";
import { stringify } from "csv-stringify/sync";
import { STORED_EVENT_FIELDS } from "#shared/domain/decision/model/model-event-fields";
import type { NormalizedFeature } from "#shared/domain/features/index";
import type { Label } from "#shared/domain/labels/index";
import {
  buildDataset,
  type Dataset,
  type DatasetDecision,
  type DatasetOptions,
  datasetColumns,
  flattenRow,
} from "#shared/domain/training/dataset";

/** The files of an export, by what they hold. */
export interface ExportedFiles {
  readonly ndjson: string;
  readonly csv: string;
  readonly dictionary: string;
}

/** Where the decisions and labels of an export came from, for the data dictionary. */
export interface ExportProvenance {
  readonly decisions: string;
  readonly labels: string;
}

/** Data dictionary of an export: its parameters, counts and the meaning of every column. */
export interface DataDictionary {
  readonly format: "vigil.dataset/v1";
  readonly createdAt: string;
  readonly parameters: {
    readonly from: string | null;
    readonly to: string | null;
    readonly labelsAsOf: string;
    readonly unlabelled: DatasetOptions["unlabelled"];
  };
  readonly sources: ExportProvenance;
  readonly summary: Dataset["summary"];
  readonly columns: readonly { readonly name: string; readonly type: string; readonly description: string }[];
  /** The definitions of the feature columns (feature set in force at export), by feature id. */
  readonly features: Readonly<Record<string, NormalizedFeature | null>>;
}

const FIXED_COLUMNS: Readonly<Record<string, readonly [type: string, description: string]>> = {
  eventId: ["string", "The decided event (the row's key)."],
  type: ["string", "Event type, which is also the scenario whose policy decided."],
  occurredAt: ["ISO-8601 UTC", "When the event happened (rows are in this order)."],
  decidedAt: ["ISO-8601 UTC", "When the decision was made."],
  label: ["0 | 1", "1 fraud, 0 legit: the label in force at labelsAsOf (docs/labels.md), or assumed legit."],
  labelSource: [
    "string",
    "review | chargeback | challenge | manual | import, or assumed_legit (unlabelled at the cutoff, see parameters.unlabelled).",
  ],
  labelCategory: ["string | null", "The label's open category (the operator's name for the kind)."],
  labelObservedAt: ["ISO-8601 UTC | null", "When the label in force became known (≤ labelsAsOf)."],
  action: ["string", "The action decided then (pass, review, challenge_sms, challenge_face, block)."],
  score: ["number | null", "The active model's score then."],
  modelVersion: ["string | null", "The active model's version then."],
  featureVersion: ["string | null", "The feature set version the feature values come from."],
};

const EVENT_FIELD_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "geo.country": "The event's country (ISO-3166-1 alpha-2), null when the producer sent none.",
  currency: "Orders and payments: ISO-4217 currency.",
  amountMinor: "Orders and payments: the amount in minor units of its currency.",
};

/** The data dictionary of a dataset. */
export function dataDictionary(
  dataset: Dataset,
  options: DatasetOptions,
  sources: ExportProvenance,
  definitions: ReadonlyMap<string, NormalizedFeature>,
  createdAt: string,
): DataDictionary {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  const columns = datasetColumns(dataset.featureIds).map((name) => {
    const fixed = FIXED_COLUMNS[name];
    if (fixed) return { name, type: fixed[0], description: fixed[1] };
    if (name.startsWith("feature.")) {
      const id = name.slice(8);
      const d = definitions.get(id);
      return {
        name,
        type: "number | null",
        description: d
          ? `Feature ${id}: ${d.aggregation}${d.field ? ` of ${d.field}` : ""} per ${d.entity.join("+")} over ${d.window}${d.eventTypes ? ` (${d.eventTypes.join(", ")})` : ""}${d.aggregation === "firstSeen" || d.aggregation === "lastSeen" ? ", epoch ms" : ""}; the exact value the decision used, null when it had none.`
          : `Feature ${id} as the decision stored it (not in the feature set in force at export).`,
      };
    }
    const field = name.slice(6);
    return {
      name,
      type: field === "amountMinor" ? "number | null" : "string | null",
      description: EVENT_FIELD_DESCRIPTIONS[field] ?? "",
    };
  });
  return {
    format: "vigil.dataset/v1",
    createdAt,
    parameters: {
      from: iso(options.fromMs),
      to: iso(options.toMs),
      labelsAsOf: new Date(options.labelsAsOfMs).toISOString(),
      unlabelled: options.unlabelled,
    },
    sources,
    summary: dataset.summary,
    columns,
    features: Object.fromEntries(dataset.featureIds.map((id) => [id, definitions.get(id) ?? null])),
  };
}

/**
 * Builds the point-in-time training set and writes it as `<base>.ndjson`, `<base>.csv` and
 * `<base>.dictionary.json` (the data dictionary: parameters, counts, column meanings).
 */
export function exportDataset(input: {
  readonly decisions: Iterable<DatasetDecision>;
  readonly labels: ReadonlyMap<string, readonly Label[]>;
  readonly options: DatasetOptions;
  readonly sources: ExportProvenance;
  readonly definitions: ReadonlyMap<string, NormalizedFeature>;
  readonly base: string;
  readonly createdAt: string;
}): { readonly dataset: Dataset; readonly files: ExportedFiles; readonly dictionary: DataDictionary } {
  const dataset = buildDataset(input.decisions, input.labels, input.options);
  const columns = datasetColumns(dataset.featureIds);
  const records = dataset.rows.map((r) => flattenRow(r, dataset.featureIds));
  const files = {
    ndjson: `${input.base}.ndjson`,
    csv: `${input.base}.csv`,
    dictionary: `${input.base}.dictionary.json`,
  };
  writeFileSync(files.ndjson, records.map((r) => `${JSON.stringify(r)}\n`).join(""));
  writeFileSync(
    files.csv,
    stringify(
      records.map((r) => columns.map((c) => r[c] ?? "")),
      { header: true, columns },
    ),
  );
  const dictionary = dataDictionary(
    dataset,
    input.options,
    input.sources,
    input.definitions,
    input.createdAt,
  );
  writeFileSync(files.dictionary, `${JSON.stringify(dictionary, null, 2)}\n`);
  return { dataset, files, dictionary };
}

/** Labels grouped by subject key, as buildDataset takes them. */
export function groupLabels(labels: Iterable<Label>, keyOf: (label: Label) => string): Map<string, Label[]> {
  const out = new Map<string, Label[]>();
  for (const l of labels) {
    const key = keyOf(l);
    const list = out.get(key);
    if (list) list.push(l);
    else out.set(key, [l]);
  }
  return out;
}

/** Stored event fields exported as columns (for docs and tests). */
export const EXPORTED_EVENT_FIELDS = STORED_EVENT_FIELDS;
