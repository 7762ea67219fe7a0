import { createHash } from "node:crypto";
import * as z from "zod";
import {
  type DerivedKeyRules,
  derivedKeyRulesSchema,
  resolveDerivedKeyRules,
} from "#shared/domain/enrichment/derived-keys";
import type { IpEnrichment } from "#shared/domain/enrichment/ip-enrichment";
import { shippedIpEnrichment } from "#shared/domain/enrichment/shipped-ip-dataset";
import { type CleanEvent, currencyExponent, EVENT_TYPES, type EventType } from "#shared/domain/event/index";
import { formatDuration, parseDuration } from "#shared/domain/features/duration";
import {
  type AddendAccessor,
  addendAccessor,
  canonicalFieldOrder,
  DISTINCT_FIELDS,
  type DistinctField,
  ENTITY_FIELDS,
  FIELD_EVENT_TYPES,
  type FieldContext,
  IP_DATASET_FIELDS,
  type KeyField,
  type SeriesAccessor,
  type SumField,
  seriesAccessor,
  type TextAccessor,
  textAccessor,
} from "#shared/domain/features/fields";
import {
  BUCKET_UNITS_MS,
  defaultBucketMs,
  MAX_BUCKETS,
  MAX_WINDOW_MS,
  MIN_WINDOW_MS,
  type WindowShape,
} from "#shared/domain/features/window";

/**
 * Feature definitions are data: written as JSON (stored versioned in the config table), checked
 * here, and compiled once into the form the hot path uses.
 */

const ATTRIBUTE_FIELD = /^attributes\.[A-Za-z][A-Za-z0-9_]{0,63}$/;

const durationText = z
  .string()
  .regex(/^[1-9][0-9]{0,6}[smhd]$/, 'a duration such as "90s", "10m", "24h", "30d"');

const keyField = z.union([
  z.enum(ENTITY_FIELDS),
  z.string().regex(ATTRIBUTE_FIELD, "a key field or attributes.<name>"),
]);
const featureId = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, "lower snake case, starting with a letter, at most 64 chars");
const currencyCode = z.string().regex(/^[A-Z]{3}$/, "an ISO-4217 code in upper case, e.g. EUR");
const distinctField = z.union([
  z.enum(DISTINCT_FIELDS),
  z.string().regex(ATTRIBUTE_FIELD, "a field name or attributes.<name>"),
]);
const sumField = z.union([
  z.literal("amount"),
  z.string().regex(ATTRIBUTE_FIELD, '"amount" or attributes.<name>'),
]);

/** Distinct values a distinct-count feature keeps per entity unless its definition says otherwise. */
export const DEFAULT_MAX_DISTINCT = 100;
/** Upper bound of `maxDistinct`, which bounds the item size. */
export const MAX_MAX_DISTINCT = 1_000;

/** Steps a link path may have at most (docs/features.md, "Link counts"). */
export const MAX_LINK_STEPS = 3;
/** Entity items a link feature may read per event beyond the event's own: the bound of its cost. */
export const MAX_LINK_READS = 200;

const aggregation = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("count") }),
  z.strictObject({ type: z.literal("sum"), field: sumField, currency: currencyCode.optional() }),
  z.strictObject({
    type: z.literal("distinct"),
    field: distinctField,
    maxDistinct: z.int().min(1).max(MAX_MAX_DISTINCT).optional(),
  }),
  z.strictObject({ type: z.literal("firstSeen") }),
  z.strictObject({ type: z.literal("lastSeen") }),
  z.strictObject({ type: z.literal("timeSince") }),
  z.strictObject({
    type: z.literal("valueRatio"),
    field: sumField,
    baseline: z.enum(["mean", "max"]),
    minEvents: z.int().min(1).max(10_000).optional(),
    currency: currencyCode.optional(),
  }),
  z.strictObject({
    type: z.literal("rateRatio"),
    baseline: durationText,
    minBaseline: z.int().min(1).max(1_000_000).optional(),
  }),
  z.strictObject({
    type: z.literal("linked"),
    path: z.array(featureId).min(2).max(MAX_LINK_STEPS),
  }),
]);

/**
 * Which events a feature counts. Absent: every event that carries the feature's fields.
 * `condition` is the slot for a CEL expression; it needs a ConditionCompiler to compile.
 */
const filter = z.strictObject({
  eventTypes: z.array(z.enum(EVENT_TYPES)).min(1).optional(),
  condition: z.strictObject({ cel: z.string().min(1).max(4_000) }).optional(),
  /** Field → values: the event counts only when it carries the field with one of the values. */
  match: z
    .record(z.string().max(80), z.array(z.string().min(1).max(256)).min(1).max(100))
    .refine((m) => Object.keys(m).length >= 1 && Object.keys(m).length <= 10, {
      message: "1 to 10 fields",
    })
    .optional(),
});

/** One feature as written by an operator. */
export const featureDefinitionSchema = z.strictObject({
  /** Stable name used in rules, models and decisions: lower snake case. */
  id: featureId,
  description: z.string().max(500).optional(),
  /** The entity the feature is about: one key field or a combination (up to three). */
  entity: z.array(keyField).min(1).max(3),
  aggregation,
  /** Required, except for `linked` features (which read their steps' windows). */
  window: durationText.optional(),
  /** Bucket size; default: the largest round unit that is at most window/60 and divides the window. */
  bucket: durationText.optional(),
  /** How far behind the feature's latest event an event may be and still count; default the window. */
  lateness: z.union([durationText, z.literal("0s")]).optional(),
  filter: filter.optional(),
});

/** A set of features, deployed and versioned together. */
export const featureSetSchema = z.strictObject({
  features: z.array(featureDefinitionSchema).min(1).max(200),
  /** Rules of the derived keys (email canonicalization, phone block, IP prefix); defaults when absent. */
  derivedKeys: derivedKeyRulesSchema.optional(),
});

/** A feature definition as written. */
export type FeatureDefinition = z.infer<typeof featureDefinitionSchema>;
/** A feature set as written. */
export type FeatureSetDefinition = z.infer<typeof featureSetSchema>;
/** The aggregation kinds. */
export type AggregationType = FeatureDefinition["aggregation"]["type"];

/** Compiles a CEL condition into a predicate over clean events, or says why it cannot. */
export interface ConditionCompiler {
  compile(
    expression: string,
  ):
    | { readonly ok: true; readonly test: (event: CleanEvent) => boolean }
    | { readonly ok: false; readonly message: string };
}

/** An entity type: its key fields in canonical order (ENTITY_FIELDS order) and its name ("userId+deviceId"). */
export interface EntityType {
  readonly name: string;
  readonly fields: readonly KeyField[];
}

/**
 * How a feature's state is kept: `values` holds per bucket the count, sum and maximum of a value
 * (value ratios); `none` is kept nowhere (link counts read other features' states).
 */
export type StateKind = "count" | "sum" | "firstSeen" | "lastSeen" | "distinct" | "values" | "none";

/**
 * Converts an amount in minor units of one currency into minor units of another, rounded half to
 * even; undefined when the rates in force lack one of the currencies. Bound to a feature set by
 * `withCurrencyConverter` (the `rates` config kind, docs/features.md, "Currency").
 */
export interface CurrencyConverter {
  /** What the rates are: their config version and date, as `vigil features show` prints them. */
  readonly label: string;
  convert(minor: number, from: string, to: string): number | undefined;
}

/** A feature ready for the hot path: defaults applied, accessors compiled. */
export interface CompiledFeature extends WindowShape {
  readonly id: string;
  /** Short stable hash of id and semantics; names the feature's state inside an entity item. */
  readonly stateKey: string;
  readonly aggregation: AggregationType;
  /** How its state is kept (several aggregations share a kind: timeSince keeps lastSeen state). */
  readonly stateKind: StateKind;
  readonly entity: EntityType;
  /** The span of time the state covers: the window, or the baseline of a rate ratio. */
  readonly windowMs: number;
  /** For distinct counts: values kept per entity. 0 for other aggregations. */
  readonly maxDistinct: number;
  /** The definition with every default filled in, as hashed; what `vigil features` prints. */
  readonly normalized: NormalizedFeature;
  /** Whether an event passes the filter (types, matched fields and condition). */
  readonly accepts: (event: CleanEvent) => boolean;
  /** The event reads the feature before its own contribution is added (lastSeen, timeSince, valueRatio). */
  readonly readsBeforeCount: boolean;
  /** Distinct features: the value an event adds. */
  readonly element?: TextAccessor;
  /** Sum and value-ratio features: the addend an event adds, and the series it reads. */
  readonly addend?: AddendAccessor;
  readonly series?: SeriesAccessor;
  /** Sums and value ratios of amounts converted to this currency at read time. */
  readonly referenceCurrency?: string;
  /** The converter bound to the set (absent: no rates in force; only the reference currency converts). */
  readonly converter?: CurrencyConverter;
  /** Value ratios: what the event's value is compared with, and the fewest other events that make a baseline. */
  readonly baseline?: "mean" | "max";
  readonly minEvents?: number;
  /** Rate ratios: buckets of the recent window (the window; `buckets` spans the baseline) and the least baseline count. */
  readonly recentBuckets?: number;
  readonly minBaseline?: number;
  /** Link counts: the ids of the distinct features walked, in order. */
  readonly path?: readonly string[];
}

/** The semantic content of a definition (no description), in canonical form. */
export interface NormalizedFeature {
  readonly id: string;
  readonly entity: readonly KeyField[];
  readonly aggregation: AggregationType;
  readonly field: string | null;
  readonly maxDistinct: number | null;
  readonly window: string;
  readonly bucket: string;
  readonly lateness: string;
  readonly eventTypes: readonly EventType[] | null;
  readonly condition: string | null;
  // The keys below are present only when a definition uses them, so that the hashes of definitions
  // written before they existed do not change.
  /** Matched fields and their values, sorted. */
  readonly match?: Readonly<Record<string, readonly string[]>>;
  /** Reference currency of a converted sum or value ratio. */
  readonly currency?: string;
  /** Value ratio: "mean" or "max"; rate ratio: the baseline window. */
  readonly baseline?: string;
  readonly minEvents?: number;
  readonly minBaseline?: number;
  readonly path?: readonly string[];
  /**
   * The derived-key rules and IP dataset the feature's fields are computed with: a change of rule
   * or dataset is a change of meaning (the feature starts from empty state).
   */
  readonly derivation?: Readonly<Record<string, unknown>>;
}

/** The stateful features of one entity type, in definition order: what one entity item holds. */
export interface EntityGroup {
  readonly entity: EntityType;
  readonly features: readonly CompiledFeature[];
  /** Key readers, one per entity field. */
  readonly keys: readonly TextAccessor[];
}

/** A link count with what it needs at read time. */
export interface LinkedFeature {
  readonly feature: CompiledFeature;
  /** Key readers of its entity (the first step's entity). */
  readonly keys: readonly TextAccessor[];
  /** The distinct features walked, in order. */
  readonly steps: readonly CompiledFeature[];
  /** Reads the event's value of the last step's field: it is left out of the count. */
  readonly self: TextAccessor;
}

/** A validated, compiled feature set. */
export interface CompiledFeatureSet {
  /** Stable hash of the normalized definitions: goes into every decision's `versions`. */
  readonly version: string;
  readonly features: readonly CompiledFeature[];
  /** Entity types with their stateful features (link counts keep no state and are in `linked`). */
  readonly groups: readonly EntityGroup[];
  readonly linked: readonly LinkedFeature[];
  readonly definitions: FeatureSetDefinition;
  /** The derived-key rules in force (defaults filled in). */
  readonly derivedKeys: DerivedKeyRules;
  /** The IP dataset, when a feature uses `ip.asn` or `ip.type`. */
  readonly ipDataset?: IpEnrichment["dataset"];
  /** The currency converter bound by `withCurrencyConverter`, if any. */
  readonly converter?: CurrencyConverter;
}

/** One problem found in a feature set, with the path of the offending value. */
export interface DefinitionIssue {
  /** Path in the document: `features[3].window`. */
  readonly path: string;
  /** The id of the feature the problem is in, when known. */
  readonly featureId?: string;
  readonly message: string;
}

/** `features[3] (card_spend_24h).window: message`. */
export function formatDefinitionIssue(issue: DefinitionIssue): string {
  const dot = issue.path.indexOf(".");
  const path =
    issue.featureId === undefined || dot < 0
      ? issue.path
      : `${issue.path.slice(0, dot)} (${issue.featureId})${issue.path.slice(dot)}`;
  return `${path}: ${issue.message}`;
}

/** A feature set that failed validation; `issues` names every problem found. */
export class FeatureDefinitionError extends Error {
  override readonly name = "FeatureDefinitionError";
  constructor(readonly issues: readonly DefinitionIssue[]) {
    super(`invalid feature set: ${issues.map(formatDefinitionIssue).join("; ")}`);
  }
}

/** Options for compiling a feature set. */
export interface CompileOptions {
  /** Needed when a definition has a CEL condition; without it such definitions are refused. */
  readonly conditions?: ConditionCompiler;
  /**
   * The IP enrichment for `ip.asn` and `ip.type`; called only when a feature uses them.
   * Default: the dataset shipped with the code (`shippedIpEnrichment`).
   */
  readonly ipEnrichment?: () => IpEnrichment;
}

/** Validates and compiles a feature set; throws FeatureDefinitionError listing every problem. */
export function compileFeatureSet(input: unknown, options: CompileOptions = {}): CompiledFeatureSet {
  const parsed = featureSetSchema.safeParse(input);
  if (!parsed.success) {
    throw new FeatureDefinitionError(
      parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    );
  }
  const issues: DefinitionIssue[] = [];
  const features: CompiledFeature[] = [];
  const ids = new Set<string>();
  const derivedKeys = resolveDerivedKeyRules(parsed.data.derivedKeys);
  const provider = options.ipEnrichment ?? shippedIpEnrichment;
  let enrichment: IpEnrichment | undefined;
  const context: FieldContext = {
    rules: derivedKeys,
    ipEnrichment: () => {
      enrichment ??= provider();
      return enrichment;
    },
  };
  const definitions = parsed.data.features;
  definitions.forEach((definition, index) => {
    const path = `features[${index}]`;
    const at = (field: string, message: string): DefinitionIssue => ({
      path: `${path}.${field}`,
      featureId: definition.id,
      message,
    });
    if (ids.has(definition.id)) issues.push(at("id", "duplicate feature id"));
    ids.add(definition.id);
    const compiled = compileFeature(definition, at, issues, options, context);
    if (compiled) features.push(compiled);
  });
  const stateKeys = new Map<string, string>();
  features.forEach((f, index) => {
    if (f.stateKind === "none") return;
    const other = stateKeys.get(`${f.entity.name} ${f.stateKey}`);
    if (other !== undefined && other !== f.id) {
      issues.push({
        path: `features[${index}].id`,
        featureId: f.id,
        message: `state key collides with ${other}; rename one of them`,
      });
    }
    stateKeys.set(`${f.entity.name} ${f.stateKey}`, f.id);
  });
  const linked = compileLinks(features, definitions, issues, context);
  if (issues.length > 0) throw new FeatureDefinitionError(issues);
  const stateful = features.filter((f) => f.stateKind !== "none");
  return {
    version: featureSetVersion(features.map((f) => f.normalized)),
    features,
    groups: groupByEntity(stateful, context),
    linked,
    definitions: parsed.data,
    derivedKeys,
    ...(enrichment ? { ipDataset: enrichment.dataset } : {}),
  };
}

/**
 * The set with a currency converter bound to every converted sum and value ratio (the rates in
 * force); undefined unbinds. Versions and state keys do not change: states keep amounts per
 * currency and convert when they are read.
 */
export function withCurrencyConverter(
  set: CompiledFeatureSet,
  converter: CurrencyConverter | undefined,
): CompiledFeatureSet {
  if (set.converter === converter) return set;
  const bound = new Map<string, CompiledFeature>();
  const features = set.features.map((f) => {
    if (f.referenceCurrency === undefined) return f;
    const { converter: _previous, ...rest } = f;
    const next: CompiledFeature = converter ? { ...rest, converter } : rest;
    bound.set(f.id, next);
    return next;
  });
  const swap = (f: CompiledFeature) => bound.get(f.id) ?? f;
  const { converter: _old, ...rest } = set;
  return {
    ...rest,
    features,
    groups: set.groups.map((g) => ({ ...g, features: g.features.map(swap) })),
    linked: set.linked.map((l) => ({ ...l, feature: swap(l.feature), steps: l.steps.map(swap) })),
    ...(converter ? { converter } : {}),
  };
}

/**
 * Stable version of a set of normalized features: the first 16 hex digits of SHA-256 over their
 * canonical JSON, in id order. Descriptions and definition order do not change it; any change
 * of meaning does.
 */
export function featureSetVersion(features: readonly NormalizedFeature[]): string {
  const sorted = [...features].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return sha256(canonicalJson(sorted)).slice(0, 16);
}

/** Aggregations whose event reads the feature before adding its own contribution. */
const READS_BEFORE_COUNT: ReadonlySet<AggregationType> = new Set(["lastSeen", "timeSince", "valueRatio"]);

const STATE_KINDS: Readonly<Record<AggregationType, StateKind>> = {
  count: "count",
  sum: "sum",
  distinct: "distinct",
  firstSeen: "firstSeen",
  lastSeen: "lastSeen",
  timeSince: "lastSeen",
  valueRatio: "values",
  rateRatio: "count",
  linked: "none",
};

/** The window shape of a definition: bucket size, buckets, lateness; for rate ratios over the baseline. */
function windowShape(
  definition: FeatureDefinition,
  at: (field: string, message: string) => DefinitionIssue,
  issues: DefinitionIssue[],
): { windowMs: number; spanMs: number; bucketMs: number; latenessMs: number } {
  const windowMs = parseDuration(definition.window ?? "") ?? 0;
  const windowOk = windowMs >= MIN_WINDOW_MS && windowMs <= MAX_WINDOW_MS;
  if (definition.window === undefined) issues.push(at("window", "is required"));
  else if (!windowOk) issues.push(at("window", "must be between 1m and 30d"));
  const agg = definition.aggregation;
  const spanMs = agg.type === "rateRatio" ? (parseDuration(agg.baseline) ?? 0) : windowMs;
  if (agg.type === "rateRatio" && (spanMs <= windowMs || spanMs > MAX_WINDOW_MS)) {
    issues.push(at("aggregation.baseline", "must be longer than the window and at most 30d"));
  }
  let bucketMs =
    definition.bucket === undefined
      ? agg.type === "rateRatio"
        ? rateRatioBucketMs(windowMs, spanMs)
        : defaultBucketMs(windowMs)
      : parseDuration(definition.bucket);
  if (!windowOk) {
    bucketMs ??= 1;
  } else if (bucketMs === undefined) {
    issues.push(
      at(
        "window",
        agg.type === "rateRatio"
          ? `no round bucket size divides both ${definition.window} and ${agg.baseline} in at most ${MAX_BUCKETS} buckets; set "bucket" explicitly`
          : `no round bucket size of at most window/60 divides ${definition.window}; set "bucket" explicitly`,
      ),
    );
    bucketMs = 1;
  } else if (windowMs % bucketMs !== 0 || spanMs % bucketMs !== 0) {
    issues.push(
      at(
        "bucket",
        `must divide the window (${definition.window})${agg.type === "rateRatio" ? " and the baseline" : ""}`,
      ),
    );
  } else if (spanMs / bucketMs > MAX_BUCKETS) {
    issues.push(at("bucket", `gives ${spanMs / bucketMs} buckets; at most ${MAX_BUCKETS}`));
  }
  // A rate ratio's recent window is what must stay readable; its baseline is kept behind it anyway.
  const latenessMs = definition.lateness === undefined ? windowMs : (parseDuration(definition.lateness) ?? 0);
  if (latenessMs > windowMs) issues.push(at("lateness", "must not exceed the window"));
  return { windowMs, spanMs, bucketMs, latenessMs };
}

/** The finest round unit dividing both windows that spans the baseline in at most MAX_BUCKETS buckets. */
function rateRatioBucketMs(windowMs: number, baselineMs: number): number | undefined {
  return BUCKET_UNITS_MS.find(
    (unit) => windowMs % unit === 0 && baselineMs % unit === 0 && baselineMs / unit <= MAX_BUCKETS,
  );
}

function compileFeature(
  definition: FeatureDefinition,
  at: (field: string, message: string) => DefinitionIssue,
  issues: DefinitionIssue[],
  options: CompileOptions,
  context: FieldContext,
): CompiledFeature | undefined {
  const before = issues.length;
  const agg = definition.aggregation;
  const linked = agg.type === "linked";
  if (linked && (definition.window ?? definition.bucket ?? definition.lateness) !== undefined) {
    issues.push(
      at("window", "a link count reads its steps' windows: no window, bucket or lateness of its own"),
    );
  }
  const shape = linked
    ? { windowMs: 0, spanMs: 0, bucketMs: 1, latenessMs: 0 }
    : windowShape(definition, at, issues);

  const entityFields = canonicalFieldOrder(definition.entity);
  if (entityFields.length !== definition.entity.length) {
    issues.push(at("entity", "lists a field twice"));
  }
  const field = agg.type === "sum" || agg.type === "distinct" || agg.type === "valueRatio" ? agg.field : null;
  if (agg.type === "distinct" && (entityFields as readonly string[]).includes(agg.field)) {
    issues.push(
      at("aggregation.field", "is part of the entity key, so its distinct count would always be 1"),
    );
  }
  const currency = agg.type === "sum" || agg.type === "valueRatio" ? agg.currency : undefined;
  if (currency !== undefined) {
    if (field !== "amount")
      issues.push(at("aggregation.currency", 'converts amounts only: field must be "amount"'));
    if (currencyExponent(currency) === undefined)
      issues.push(at("aggregation.currency", "is not an active ISO-4217 currency"));
  }
  const match = definition.filter?.match;
  const matchFields = Object.keys(match ?? {}).sort();
  for (const name of matchFields) {
    if (!isDistinctField(name)) issues.push(at(`filter.match.${name}`, "is not a field a filter can match"));
  }
  const eventTypes = definition.filter?.eventTypes ? [...new Set(definition.filter.eventTypes)].sort() : null;
  const allowed = eventTypes ?? EVENT_TYPES;
  for (const needed of [...entityFields, ...(field === null ? [] : [field]), ...matchFields]) {
    const carriers = FIELD_EVENT_TYPES[needed];
    if (carriers && !allowed.some((type) => carriers.includes(type))) {
      issues.push(
        at(
          "filter.eventTypes",
          `${needed} only exists on ${carriers.join(", ")} events, which the filter excludes`,
        ),
      );
    }
  }

  let condition: ((event: CleanEvent) => boolean) | undefined;
  const cel = definition.filter?.condition?.cel ?? null;
  if (cel !== null) {
    if (!options.conditions) {
      issues.push(at("filter.condition", "CEL conditions need a condition compiler, and none is configured"));
    } else {
      const result = options.conditions.compile(cel);
      if (result.ok) condition = result.test;
      else issues.push(at("filter.condition", result.message));
    }
  }
  if (linked && (definition.filter !== undefined || entityFields.length === 0)) {
    if (definition.filter !== undefined)
      issues.push(at("filter", "a link count counts through its steps: no filter"));
  }
  if (issues.length > before) return undefined;

  const usedFields = [...entityFields, ...(field === null ? [] : [field]), ...matchFields];
  const derivation = derivationOf(usedFields, context);
  const normalized: NormalizedFeature = {
    id: definition.id,
    entity: entityFields,
    aggregation: agg.type,
    field,
    maxDistinct: agg.type === "distinct" ? (agg.maxDistinct ?? DEFAULT_MAX_DISTINCT) : null,
    window: linked ? "" : formatDuration(shape.windowMs),
    bucket: linked ? "" : formatDuration(shape.bucketMs),
    lateness: linked ? "" : shape.latenessMs === 0 ? "0s" : formatDuration(shape.latenessMs),
    eventTypes,
    condition: cel,
    ...(match
      ? { match: Object.fromEntries(matchFields.map((name) => [name, [...new Set(match[name])].sort()])) }
      : {}),
    ...(currency === undefined ? {} : { currency }),
    ...(agg.type === "valueRatio" ? { baseline: agg.baseline, minEvents: agg.minEvents ?? 1 } : {}),
    ...(agg.type === "rateRatio"
      ? { baseline: formatDuration(shape.spanMs), minBaseline: agg.minBaseline ?? 1 }
      : {}),
    ...(agg.type === "linked" ? { path: agg.path } : {}),
    ...(derivation === undefined ? {} : { derivation }),
  };
  const typeSet = eventTypes === null ? undefined : new Set<string>(eventTypes);
  const matchers = matchFields.map((name) => {
    const values = new Set(match?.[name] ?? []);
    const read = textAccessor(name as DistinctField, context);
    return (e: CleanEvent) => {
      const value = read(e);
      return value !== undefined && values.has(value);
    };
  });
  const accepts = buildFilter(typeSet, matchers, condition);
  return {
    id: definition.id,
    stateKey: sha256(canonicalJson(normalized)).slice(0, 8),
    aggregation: agg.type,
    stateKind: STATE_KINDS[agg.type],
    entity: { name: entityFields.join("+"), fields: entityFields },
    windowMs: shape.spanMs,
    bucketMs: shape.bucketMs,
    buckets: linked ? 0 : shape.spanMs / shape.bucketMs,
    latenessMs: shape.latenessMs,
    maxDistinct: normalized.maxDistinct ?? 0,
    normalized,
    accepts,
    readsBeforeCount: READS_BEFORE_COUNT.has(agg.type),
    ...(agg.type === "distinct" ? { element: textAccessor(agg.field as DistinctField, context) } : {}),
    ...(agg.type === "sum" || agg.type === "valueRatio"
      ? { addend: addendAccessor(agg.field as SumField), series: seriesAccessor(agg.field as SumField) }
      : {}),
    ...(currency === undefined ? {} : { referenceCurrency: currency }),
    ...(agg.type === "valueRatio" ? { baseline: agg.baseline, minEvents: agg.minEvents ?? 1 } : {}),
    ...(agg.type === "rateRatio"
      ? { recentBuckets: shape.windowMs / shape.bucketMs, minBaseline: agg.minBaseline ?? 1 }
      : {}),
    ...(agg.type === "linked" ? { path: agg.path } : {}),
  };
}

function isDistinctField(name: string): name is DistinctField {
  return (DISTINCT_FIELDS as readonly string[]).includes(name) || ATTRIBUTE_FIELD.test(name);
}

/** The derived-key rules and dataset a feature's fields depend on, or undefined when it uses none. */
function derivationOf(fields: readonly string[], context: FieldContext): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  if (fields.includes("email.canonical")) out.email = context.rules.email;
  if (fields.includes("phone.block")) out.phoneBlockDigits = context.rules.phoneBlockDigits;
  if (fields.includes("ip.prefix")) {
    out.ipv4PrefixBits = context.rules.ipv4PrefixBits;
    out.ipv6PrefixBits = context.rules.ipv6PrefixBits;
  }
  if (fields.some((f) => IP_DATASET_FIELDS.includes(f))) {
    const dataset = context.ipEnrichment?.().dataset;
    out.ipDataset = dataset?.id ?? null;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * Resolves and checks the paths of the link counts: every step a distinct-count feature of the
 * set, the first keyed on the link's own entity, the others on one field; the items a path may
 * read per event (the product of the caps of the steps before each) at most MAX_LINK_READS.
 */
function compileLinks(
  features: readonly CompiledFeature[],
  definitions: readonly FeatureDefinition[],
  issues: DefinitionIssue[],
  context: FieldContext,
): LinkedFeature[] {
  const byId = new Map(features.map((f) => [f.id, f]));
  const out: LinkedFeature[] = [];
  for (const f of features) {
    if (f.path === undefined) continue;
    const index = definitions.findIndex((d) => d.id === f.id);
    const at = (message: string): DefinitionIssue => ({
      path: `features[${index}].aggregation.path`,
      featureId: f.id,
      message,
    });
    const steps: CompiledFeature[] = [];
    for (const [i, id] of f.path.entries()) {
      const found = byId.get(id);
      if (found?.aggregation !== "distinct") {
        issues.push(at(`step ${i + 1} (${id}) is not a distinct-count feature of the set`));
        continue;
      }
      const step = found as CompiledFeature;
      if (i === 0 && step.entity.name !== f.entity.name) {
        issues.push(
          at(`step 1 (${id}) is keyed on ${step.entity.name}, not on the link's entity ${f.entity.name}`),
        );
      }
      if (i > 0 && step.entity.fields.length !== 1) {
        issues.push(at(`step ${i + 1} (${id}) must be keyed on one field, not ${step.entity.name}`));
      }
      steps.push(step);
    }
    if (steps.length !== f.path.length) continue;
    let reads = 0;
    let fanOut = 1;
    for (const step of steps.slice(0, -1)) {
      fanOut *= step.maxDistinct;
      reads += fanOut;
    }
    if (reads > MAX_LINK_READS) {
      issues.push(
        at(
          `may read ${reads} entity items per event (the product of the steps' maxDistinct); at most ${MAX_LINK_READS}: lower maxDistinct of the steps`,
        ),
      );
      continue;
    }
    const last = steps[steps.length - 1] as CompiledFeature;
    out.push({
      feature: f,
      keys: f.entity.fields.map((field) => textAccessor(field, context)),
      steps,
      self: textAccessor(last.normalized.field as DistinctField, context),
    });
  }
  return out;
}

function buildFilter(
  types: ReadonlySet<string> | undefined,
  matchers: readonly ((event: CleanEvent) => boolean)[],
  condition: ((event: CleanEvent) => boolean) | undefined,
): (event: CleanEvent) => boolean {
  const parts: ((event: CleanEvent) => boolean)[] = [];
  if (types) parts.push((e) => types.has(e.type));
  parts.push(...matchers);
  if (condition) parts.push(condition);
  if (parts.length === 0) return () => true;
  if (parts.length === 1) return parts[0] as (event: CleanEvent) => boolean;
  return (e) => parts.every((test) => test(e));
}

function groupByEntity(features: readonly CompiledFeature[], context: FieldContext): EntityGroup[] {
  const groups = new Map<string, CompiledFeature[]>();
  for (const f of features) {
    const list = groups.get(f.entity.name) ?? [];
    list.push(f);
    groups.set(f.entity.name, list);
  }
  return [...groups.values()].map((list) => {
    const entity = (list[0] as CompiledFeature).entity;
    return { entity, features: list, keys: entity.fields.map((field) => textAccessor(field, context)) };
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join("");
}

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
