import type { ModelInput } from "#shared/domain/decision/model/compile-model";
import type { ModelTerm } from "#shared/domain/decision/model/model-schema";
import { type CleanEvent, currencyExponent } from "#shared/domain/event/index";
import type { DatasetRow } from "#shared/domain/training/dataset";

/**
 * What a model can be trained on from a training set: every stored feature and the stored event
 * fields, each as a candidate input with the kind that decides its encoding. Pure.
 */

/** How an input is read and encoded. */
export type CandidateKind =
  /** Counts, distinct counts and sums: long-tailed, standardized after log1p. */
  | "count"
  /** First/last-seen times (epoch ms): read as an age in hours, binned. */
  | "age"
  /** A category (event type, country, currency): one-hot. */
  | "category"
  /** The amount in minor units: standardized after log1p. */
  | "amount";

/** A candidate input of a model. */
export interface Candidate {
  /** Term (input) name: lower snake case. */
  readonly name: string;
  readonly input: ModelTerm["input"];
  readonly kind: CandidateKind;
  readonly reason: string;
  /** One-hot categories seen often enough in training. */
  readonly categories?: readonly string[];
}

/** Fewest training rows a country or currency needs to get its own one-hot column. */
export const MIN_CATEGORY_ROWS = 20;

/** Age bin edges, in hours: new (< 36 s), within the hour, the day, the week, the month. */
export const AGE_EDGES_HOURS: readonly number[] = [0.01, 1, 24, 168, 720];

/**
 * The candidates of a training set. Feature kinds come from the data dictionary's definitions
 * when given (firstSeen/lastSeen are ages); without them, a feature id containing `first_seen`
 * or `last_seen` is an age.
 */
export function candidateInputs(
  rows: readonly DatasetRow[],
  featureIds: readonly string[],
  aggregations: ReadonlyMap<string, string> = new Map(),
): Candidate[] {
  const out: Candidate[] = [];
  const category = (
    name: string,
    field: "type" | "geo.country" | "currency",
    read: (r: DatasetRow) => string | undefined,
    min: number,
  ) => {
    const counts = new Map<string, number>();
    for (const r of rows) {
      const v = read(r);
      if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const categories = [...counts]
      .filter(([, n]) => n >= min)
      .map(([v]) => v)
      .sort();
    if (categories.length > 0)
      out.push({ name, input: { event: field }, kind: "category", reason: name.toUpperCase(), categories });
  };
  category("scenario", "type", (r) => r.type, 1);
  category(
    "country",
    "geo.country",
    (r) => r.eventFields["geo.country"] as string | undefined,
    MIN_CATEGORY_ROWS,
  );
  category("currency", "currency", (r) => r.eventFields.currency as string | undefined, MIN_CATEGORY_ROWS);
  if (rows.some((r) => typeof r.eventFields.amountMinor === "number"))
    out.push({ name: "amount", input: { event: "amountMinor" }, kind: "amount", reason: "AMOUNT" });
  for (const id of featureIds) {
    if (!rows.some((r) => typeof r.features[id] === "number")) continue;
    const aggregation = aggregations.get(id);
    const age =
      aggregation === undefined
        ? /(first|last)_seen/.test(id)
        : aggregation === "firstSeen" || aggregation === "lastSeen";
    out.push(
      age
        ? {
            name: `age_${id}`.slice(0, 64),
            input: { feature: id, ageIn: "h" },
            kind: "age",
            reason: id.toUpperCase(),
          }
        : { name: id, input: { feature: id }, kind: "count", reason: id.toUpperCase() },
    );
  }
  return out;
}

/**
 * A row as the input a model reads: its stored feature values and a stand-in event carrying the
 * stored event fields (type, country, currency and amount), which is all a model term can read
 * from an exported decision.
 */
export function modelInputOfRow(row: DatasetRow): ModelInput {
  const country = row.eventFields["geo.country"];
  const currency = row.eventFields.currency;
  const minor = row.eventFields.amountMinor;
  const money =
    typeof currency === "string" && typeof minor === "number"
      ? { currency, amount: formatMinor(minor, currencyExponent(currency) ?? 2) }
      : {};
  const event = {
    schemaVersion: 1,
    eventId: row.eventId,
    type: row.type,
    occurredAt: row.occurredAt,
    userId: "-",
    ip: "0.0.0.0",
    deviceId: "-",
    ...(typeof country === "string" ? { geo: { country } } : {}),
    ...money,
  } as unknown as CleanEvent;
  return { event, eventMs: Date.parse(row.occurredAt), features: row.features };
}

function formatMinor(minor: number, exponent: number): string {
  if (exponent === 0) return String(minor);
  const text = String(minor).padStart(exponent + 1, "0");
  return `${text.slice(0, -exponent)}.${text.slice(-exponent)}`;
}
