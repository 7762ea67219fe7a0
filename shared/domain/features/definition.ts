import { createHash } from "node:crypto";
import * as z from "zod";
import { type CleanEvent, EVENT_TYPES, type EventType } from "#shared/domain/event/index";
import { formatDuration, parseDuration } from "#shared/domain/features/duration";
import {
  type AddendAccessor,
  addendAccessor,
  DISTINCT_FIELDS,
  type DistinctField,
  FIELD_EVENT_TYPES,
  KEY_FIELDS,
  type KeyField,
  type SeriesAccessor,
  type SumField,
  seriesAccessor,
  type TextAccessor,
  textAccessor,
} from "#shared/domain/features/fields";
import {
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

const keyField = z.enum(KEY_FIELDS);
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

const aggregation = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("count") }),
  z.strictObject({ type: z.literal("sum"), field: sumField }),
  z.strictObject({
    type: z.literal("distinct"),
    field: distinctField,
    maxDistinct: z.int().min(1).max(MAX_MAX_DISTINCT).optional(),
  }),
  z.strictObject({ type: z.literal("firstSeen") }),
  z.strictObject({ type: z.literal("lastSeen") }),
]);

/**
 * Which events a feature counts. Absent: every event that carries the feature's fields.
 * `condition` is the slot for a CEL expression; it needs a ConditionCompiler to compile.
 */
const filter = z.strictObject({
  eventTypes: z.array(z.enum(EVENT_TYPES)).min(1).optional(),
  condition: z.strictObject({ cel: z.string().min(1).max(4_000) }).optional(),
});

/** One feature as written by an operator. */
export const featureDefinitionSchema = z.strictObject({
  /** Stable name used in rules, models and decisions: lower snake case. */
  id: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,63}$/, "lower snake case, starting with a letter, at most 64 chars"),
  description: z.string().max(500).optional(),
  /** The entity the feature is about: one key field or a combination (up to three). */
  entity: z.array(keyField).min(1).max(3),
  aggregation,
  window: durationText,
  /** Bucket size; default: the largest round unit that is at most window/60 and divides the window. */
  bucket: durationText.optional(),
  /** How far behind the feature's latest event an event may be and still count; default the window. */
  lateness: z.union([durationText, z.literal("0s")]).optional(),
  filter: filter.optional(),
});

/** A set of features, deployed and versioned together. */
export const featureSetSchema = z.strictObject({
  features: z.array(featureDefinitionSchema).min(1).max(200),
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

/** An entity type: its key fields in canonical order (KEY_FIELDS order) and its name ("userId+deviceId"). */
export interface EntityType {
  readonly name: string;
  readonly fields: readonly KeyField[];
}

/** A feature ready for the hot path: defaults applied, accessors compiled. */
export interface CompiledFeature extends WindowShape {
  readonly id: string;
  /** Short stable hash of id and semantics; names the feature's state inside an entity item. */
  readonly stateKey: string;
  readonly aggregation: AggregationType;
  readonly entity: EntityType;
  readonly windowMs: number;
  /** For distinct counts: values kept per entity. 0 for other aggregations. */
  readonly maxDistinct: number;
  /** The definition with every default filled in, as hashed; what `vigil features` prints. */
  readonly normalized: NormalizedFeature;
  /** Whether an event passes the filter (types and condition). */
  readonly accepts: (event: CleanEvent) => boolean;
  /** Distinct features: the value an event adds. */
  readonly element?: TextAccessor;
  /** Sum features: the addend an event adds, and the series it reads. */
  readonly addend?: AddendAccessor;
  readonly series?: SeriesAccessor;
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
}

/** The features of one entity type, in definition order: what one entity item holds. */
export interface EntityGroup {
  readonly entity: EntityType;
  readonly features: readonly CompiledFeature[];
  /** Key readers, one per entity field. */
  readonly keys: readonly TextAccessor[];
}

/** A validated, compiled feature set. */
export interface CompiledFeatureSet {
  /** Stable hash of the normalized definitions: goes into every decision's `versions`. */
  readonly version: string;
  readonly features: readonly CompiledFeature[];
  readonly groups: readonly EntityGroup[];
  readonly definitions: FeatureSetDefinition;
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
  parsed.data.features.forEach((definition, index) => {
    const path = `features[${index}]`;
    const at = (field: string, message: string): DefinitionIssue => ({
      path: `${path}.${field}`,
      featureId: definition.id,
      message,
    });
    if (ids.has(definition.id)) issues.push(at("id", "duplicate feature id"));
    ids.add(definition.id);
    const compiled = compileFeature(definition, at, issues, options);
    if (compiled) features.push(compiled);
  });
  const stateKeys = new Map<string, string>();
  features.forEach((f, index) => {
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
  if (issues.length > 0) throw new FeatureDefinitionError(issues);
  return {
    version: featureSetVersion(features.map((f) => f.normalized)),
    features,
    groups: groupByEntity(features),
    definitions: parsed.data,
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

function compileFeature(
  definition: FeatureDefinition,
  at: (field: string, message: string) => DefinitionIssue,
  issues: DefinitionIssue[],
  options: CompileOptions,
): CompiledFeature | undefined {
  const before = issues.length;
  const windowMs = parseDuration(definition.window) ?? 0;
  const windowOk = windowMs >= MIN_WINDOW_MS && windowMs <= MAX_WINDOW_MS;
  if (!windowOk) issues.push(at("window", "must be between 1m and 30d"));
  let bucketMs =
    definition.bucket === undefined ? defaultBucketMs(windowMs) : parseDuration(definition.bucket);
  if (!windowOk) {
    bucketMs ??= 1;
  } else if (bucketMs === undefined) {
    issues.push(
      at(
        "window",
        `no round bucket size of at most window/60 divides ${definition.window}; set "bucket" explicitly`,
      ),
    );
    bucketMs = 1;
  } else if (windowMs % bucketMs !== 0) {
    issues.push(at("bucket", `must divide the window (${definition.window})`));
  } else if (windowMs / bucketMs > MAX_BUCKETS) {
    issues.push(at("bucket", `gives ${windowMs / bucketMs} buckets; at most ${MAX_BUCKETS}`));
  }
  const latenessMs = definition.lateness === undefined ? windowMs : (parseDuration(definition.lateness) ?? 0);
  if (latenessMs > windowMs) {
    issues.push(at("lateness", "must not exceed the window"));
  }

  const entityFields = KEY_FIELDS.filter((field) => definition.entity.includes(field));
  if (entityFields.length !== definition.entity.length) {
    issues.push(at("entity", "lists a field twice"));
  }
  const agg = definition.aggregation;
  const field = agg.type === "sum" || agg.type === "distinct" ? agg.field : null;
  if (agg.type === "distinct" && (entityFields as readonly string[]).includes(agg.field)) {
    issues.push(
      at("aggregation.field", "is part of the entity key, so its distinct count would always be 1"),
    );
  }
  const eventTypes = definition.filter?.eventTypes ? [...new Set(definition.filter.eventTypes)].sort() : null;
  const allowed = eventTypes ?? EVENT_TYPES;
  for (const needed of [...entityFields, ...(field === null ? [] : [field])]) {
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
  if (issues.length > before) return undefined;

  const normalized: NormalizedFeature = {
    id: definition.id,
    entity: entityFields,
    aggregation: agg.type,
    field,
    maxDistinct: agg.type === "distinct" ? (agg.maxDistinct ?? DEFAULT_MAX_DISTINCT) : null,
    window: formatDuration(windowMs),
    bucket: formatDuration(bucketMs),
    lateness: latenessMs === 0 ? "0s" : formatDuration(latenessMs),
    eventTypes,
    condition: cel,
  };
  const typeSet = eventTypes === null ? undefined : new Set<string>(eventTypes);
  const accepts = buildFilter(typeSet, condition);
  return {
    id: definition.id,
    stateKey: sha256(canonicalJson(normalized)).slice(0, 8),
    aggregation: agg.type,
    entity: { name: entityFields.join("+"), fields: entityFields },
    windowMs,
    bucketMs,
    buckets: windowMs / bucketMs,
    latenessMs,
    maxDistinct: normalized.maxDistinct ?? 0,
    normalized,
    accepts,
    ...(agg.type === "distinct" ? { element: textAccessor(agg.field as DistinctField) } : {}),
    ...(agg.type === "sum"
      ? { addend: addendAccessor(agg.field as SumField), series: seriesAccessor(agg.field as SumField) }
      : {}),
  };
}

function buildFilter(
  types: ReadonlySet<string> | undefined,
  condition: ((event: CleanEvent) => boolean) | undefined,
): (event: CleanEvent) => boolean {
  if (types && condition) return (e) => types.has(e.type) && condition(e);
  if (types) return (e) => types.has(e.type);
  if (condition) return condition;
  return () => true;
}

function groupByEntity(features: readonly CompiledFeature[]): EntityGroup[] {
  const groups = new Map<string, CompiledFeature[]>();
  for (const f of features) {
    const list = groups.get(f.entity.name) ?? [];
    list.push(f);
    groups.set(f.entity.name, list);
  }
  return [...groups.values()].map((list) => {
    const entity = (list[0] as CompiledFeature).entity;
    return { entity, features: list, keys: entity.fields.map((field) => textAccessor(field)) };
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
