import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { CompiledFeature, EntityState, FeatureState } from "#shared/domain/features/index";
import { TABLES, TTL_ATTRIBUTE } from "#shared/resources";

/**
 * The shape of an entity item in the state table, and its encoding.
 *
 * | attribute   | type | holds                                                            |
 * |-------------|------|------------------------------------------------------------------|
 * | `pk`        | S    | entity key, e.g. `deviceId#dev-42` (see `entityPk`)               |
 * | `rev`       | N    | revision, +1 per write; the condition of every write               |
 * | `s`         | S    | compact JSON of the state (below)                                  |
 * | `expiresAt` | N    | TTL, epoch seconds (see `entityExpiresAtMs`)                       |
 *
 * `s` = `{"v":1,"w":{markKey:[sequenceNumber,recordedAtMs]},"f":{stateKey:[kind,horizon,...]}}`
 * (`markKey` = `<stream tag>/<shardId>`, or a bare shard id in items written before streams were
 * told apart) with, per kind (bucket lists ascending; after the first, each index is a delta to
 * the previous):
 * - count     `["c",H,[b0,n0,db1,n1,...]]`
 * - sum       `["s",H,{series:[b0,s0,db1,s1,...]}]`
 * - firstSeen `["f",H,[b0,o0,db1,o1,...]]`, lastSeen `["l",...]`: o = time − bucket start
 * - distinct  `["d",H,{value:[start0,len0,gap1,len1,...]},[m0,dm1,...],[tb,"tv"]]`: the buckets
 *   a value was seen in as runs of consecutive buckets; the marked buckets; and the cap's
 *   threshold (bucket, value), left out while the cap was never exceeded.
 * - values    `["v",H,{series:[b0,n0,s0,m0,db1,n1,s1,m1,...]}]`: per bucket the count, sum and
 *   maximum of the values counted (value ratios).
 * Several aggregations share a kind (`stateKind`): timeSince keeps `l`, rate ratios keep `c`.
 *
 * One string attribute instead of nested maps: the store reads and rewrites the whole state
 * anyway, DynamoDB charges writes by whole item size, and this is two to four times smaller
 * than the same data as DynamoDB maps and lists.
 */

/** Version of the `s` encoding. */
export const STATE_ENCODING_VERSION = 1;

const PK = TABLES.state.partitionKey.name;
/** Attribute names of the entity item. */
export const STATE_ATTRIBUTES = { pk: PK, revision: "rev", state: "s", expiresAt: TTL_ATTRIBUTE } as const;

/** An item whose `s` cannot be read: never guessed around, always reported. */
export class StateCorruptError extends Error {
  override readonly name = "StateCorruptError";
  constructor(
    readonly pk: string,
    detail: string,
  ) {
    super(`state item ${pk} is unreadable: ${detail}`);
  }
}

type Json = unknown;

/**
 * An entity item as stored, independent of the table technology: the revision, the encoded
 * state (`s`) and the TTL in epoch seconds.
 */
export interface StoredEntity {
  readonly revision: number;
  readonly state: string;
  readonly expiresAt: number;
}

/** The stored entity of a DynamoDB item; throws StateCorruptError when attributes are missing. */
export function fromItem(pk: string, item: Record<string, AttributeValue>): StoredEntity {
  const revision = Number(item[STATE_ATTRIBUTES.revision]?.N);
  const state = item[STATE_ATTRIBUTES.state]?.S;
  const expiresAt = Number(item[STATE_ATTRIBUTES.expiresAt]?.N ?? 0);
  if (!Number.isSafeInteger(revision) || revision < 1 || state === undefined) {
    throw new StateCorruptError(pk, "no rev or s");
  }
  return { revision, state, expiresAt };
}

/** Decodes a stored entity into an entity state; features not in `features` are carried opaque. */
export function decodeEntity(
  pk: string,
  stored: StoredEntity | undefined,
  features: ReadonlyMap<string, CompiledFeature>,
): EntityState {
  const state: EntityState = {
    pk,
    revision: 0,
    highWater: new Map(),
    features: new Map(),
    carried: new Map(),
  };
  if (!stored) return state;
  state.revision = stored.revision;
  let doc: Json;
  try {
    doc = JSON.parse(stored.state);
  } catch {
    throw new StateCorruptError(pk, "s is not JSON");
  }
  if (!isObject(doc) || doc.v !== STATE_ENCODING_VERSION || !isObject(doc.w) || !isObject(doc.f)) {
    throw new StateCorruptError(pk, `s is not version ${STATE_ENCODING_VERSION} state`);
  }
  for (const [shard, mark] of Object.entries(doc.w)) {
    if (!Array.isArray(mark) || typeof mark[0] !== "string" || typeof mark[1] !== "number") {
      throw new StateCorruptError(pk, `high-water mark of ${shard}`);
    }
    state.highWater.set(shard, { sequenceNumber: mark[0], recordedAtMs: mark[1] });
  }
  for (const [key, encoded] of Object.entries(doc.f)) {
    if (!Array.isArray(encoded) || typeof encoded[1] !== "number")
      throw new StateCorruptError(pk, `feature ${key}`);
    const f = features.get(key);
    if (!f) {
      state.carried.set(key, { horizon: encoded[1], raw: encoded });
      continue;
    }
    try {
      state.features.set(key, decodeFeature(encoded, f));
    } catch (error) {
      throw new StateCorruptError(pk, `feature ${f.id}: ${(error as Error).message}`);
    }
  }
  return state;
}

/** The `s` attribute of a state: compact JSON (see the module comment). */
export function encodeState(state: EntityState, features: ReadonlyMap<string, CompiledFeature>): string {
  const w: Record<string, [string, number]> = {};
  for (const [shard, mark] of state.highWater) w[shard] = [mark.sequenceNumber, mark.recordedAtMs];
  const f: Record<string, unknown> = {};
  for (const [key, carried] of state.carried) f[key] = carried.raw;
  for (const [key, fs] of state.features) {
    const feature = features.get(key);
    if (feature) f[key] = encodeFeature(fs, feature);
  }
  return JSON.stringify({ v: STATE_ENCODING_VERSION, w, f });
}

/**
 * Size of an entity item as DynamoDB bills it: attribute names plus values (UTF-8 strings;
 * numbers about one byte per two digits plus one).
 */
export function itemSizeBytes(pk: string, stored: StoredEntity): number {
  const numberSize = (n: number) => Math.ceil(String(n).replace(/^-/, "").length / 2) + 1;
  return (
    STATE_ATTRIBUTES.pk.length +
    Buffer.byteLength(pk) +
    STATE_ATTRIBUTES.state.length +
    Buffer.byteLength(stored.state) +
    STATE_ATTRIBUTES.revision.length +
    numberSize(stored.revision) +
    STATE_ATTRIBUTES.expiresAt.length +
    numberSize(stored.expiresAt)
  );
}

function encodeFeature(fs: FeatureState, f: CompiledFeature): unknown[] {
  switch (fs.kind) {
    case "values": {
      const series: Record<string, number[]> = {};
      for (const [name, buckets] of fs.series) {
        const out: number[] = [];
        let previous = 0;
        for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
          const stats = buckets.get(b) as { count: number; sum: number; max: number };
          out.push(out.length === 0 ? b : b - previous, stats.count, stats.sum, stats.max);
          previous = b;
        }
        series[name] = out;
      }
      return ["v", fs.horizon, series];
    }
    case "count":
      return ["c", fs.horizon, encodeBuckets(fs.buckets, (n) => n)];
    case "firstSeen":
    case "lastSeen":
      return [
        fs.kind === "firstSeen" ? "f" : "l",
        fs.horizon,
        encodeBuckets(fs.buckets, (t, b) => t - b * f.bucketMs),
      ];
    case "sum": {
      const series: Record<string, number[]> = {};
      for (const [name, buckets] of fs.series) series[name] = encodeBuckets(buckets, (n) => n);
      return ["s", fs.horizon, series];
    }
    case "distinct": {
      const values: Record<string, number[]> = {};
      for (const [value, buckets] of fs.elements) values[value] = encodeRuns(buckets);
      const marks = encodeDeltas([...fs.marks].sort((a, b) => a - b));
      return fs.threshold === undefined
        ? ["d", fs.horizon, values, marks]
        : ["d", fs.horizon, values, marks, [fs.threshold.bucket, fs.threshold.value]];
    }
  }
}

function decodeFeature(encoded: unknown[], f: CompiledFeature): FeatureState {
  const [kind, horizon, payload, extra, threshold] = encoded as [unknown, number, unknown, unknown, unknown];
  const expected = {
    count: "c",
    sum: "s",
    firstSeen: "f",
    lastSeen: "l",
    distinct: "d",
    values: "v",
    none: "-",
  }[f.stateKind];
  if (kind !== expected) throw new Error(`kind ${String(kind)} where ${expected} was expected`);
  switch (f.stateKind) {
    case "none":
      throw new Error("a link count keeps no state");
    case "values": {
      if (!isObject(payload)) throw new Error("series are not an object");
      const series = new Map<string, Map<number, { count: number; sum: number; max: number }>>();
      for (const [name, list] of Object.entries(payload)) {
        const numbers = numberList(list);
        if (numbers.length % 4 !== 0) throw new Error("value list length is not a multiple of 4");
        const buckets = new Map<number, { count: number; sum: number; max: number }>();
        let b = 0;
        for (let i = 0; i < numbers.length; i += 4) {
          b = i === 0 ? (numbers[0] as number) : b + (numbers[i] as number);
          buckets.set(b, {
            count: numbers[i + 1] as number,
            sum: numbers[i + 2] as number,
            max: numbers[i + 3] as number,
          });
        }
        series.set(name, buckets);
      }
      return { kind: "values", horizon, series };
    }
    case "count":
      return { kind: "count", horizon, buckets: decodeBuckets(payload, (n) => n) };
    case "firstSeen":
    case "lastSeen":
      return { kind: f.stateKind, horizon, buckets: decodeBuckets(payload, (o, b) => b * f.bucketMs + o) };
    case "sum": {
      if (!isObject(payload)) throw new Error("series are not an object");
      const series = new Map<string, Map<number, number>>();
      for (const [name, list] of Object.entries(payload))
        series.set(
          name,
          decodeBuckets(list, (n) => n),
        );
      return { kind: "sum", horizon, series };
    }
    case "distinct": {
      if (!isObject(payload)) throw new Error("values are not an object");
      const elements = new Map<string, number[]>();
      for (const [value, runs] of Object.entries(payload)) elements.set(value, decodeRuns(runs));
      return {
        kind: "distinct",
        horizon,
        elements,
        marks: new Set(decodeDeltas(extra)),
        threshold: decodeThreshold(threshold),
      };
    }
  }
}

/** [b0, v0, b1 − b0, v1, ...] over ascending buckets. */
function encodeBuckets(
  buckets: ReadonlyMap<number, number>,
  value: (v: number, bucket: number) => number,
): number[] {
  const out: number[] = [];
  let previous = 0;
  for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
    out.push(out.length === 0 ? b : b - previous, value(buckets.get(b) as number, b));
    previous = b;
  }
  return out;
}

function decodeBuckets(list: unknown, value: (v: number, bucket: number) => number): Map<number, number> {
  const numbers = numberList(list);
  if (numbers.length % 2 !== 0) throw new Error("bucket list has odd length");
  const buckets = new Map<number, number>();
  let b = 0;
  for (let i = 0; i < numbers.length; i += 2) {
    b = i === 0 ? (numbers[0] as number) : b + (numbers[i] as number);
    buckets.set(b, value(numbers[i + 1] as number, b));
  }
  return buckets;
}

/** Ascending distinct buckets as runs: [start0, len0, gap1, len1, ...], gap from the end of the previous run. */
function encodeRuns(buckets: readonly number[]): number[] {
  const out: number[] = [];
  let runStart = buckets[0] as number;
  let runLength = 0;
  let previousEnd = 0;
  const flush = () => {
    out.push(out.length === 0 ? runStart : runStart - previousEnd, runLength);
    previousEnd = runStart + runLength;
  };
  for (const b of buckets) {
    if (runLength > 0 && b === runStart + runLength) {
      runLength++;
      continue;
    }
    if (runLength > 0) flush();
    runStart = b;
    runLength = 1;
  }
  if (runLength > 0) flush();
  return out;
}

function decodeRuns(list: unknown): number[] {
  const numbers = numberList(list);
  if (numbers.length === 0 || numbers.length % 2 !== 0)
    throw new Error("run list is empty or has odd length");
  const buckets: number[] = [];
  let end = 0;
  for (let i = 0; i < numbers.length; i += 2) {
    const gap = numbers[i] as number;
    const length = numbers[i + 1] as number;
    if (length < 1 || (i > 0 && gap < 1)) throw new Error("runs overlap, touch or are empty");
    const start = i === 0 ? gap : end + gap;
    for (let k = 0; k < length; k++) buckets.push(start + k);
    end = start + length;
  }
  return buckets;
}

function decodeThreshold(encoded: unknown): { bucket: number; value: string } | undefined {
  if (encoded === undefined) return undefined;
  if (!Array.isArray(encoded) || !Number.isSafeInteger(encoded[0]) || typeof encoded[1] !== "string")
    throw new Error("threshold is not [bucket, value]");
  return { bucket: encoded[0] as number, value: encoded[1] };
}

function encodeDeltas(sorted: readonly number[]): number[] {
  return sorted.map((b, i) => (i === 0 ? b : b - (sorted[i - 1] as number)));
}

function decodeDeltas(list: unknown): number[] {
  const numbers = numberList(list);
  let b = 0;
  return numbers.map((d, i) => (b = i === 0 ? d : b + d));
}

function numberList(list: unknown): number[] {
  if (!Array.isArray(list) || !list.every((n) => Number.isSafeInteger(n)))
    throw new Error("not a list of integers");
  return list as number[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
