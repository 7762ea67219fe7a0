import { ACTIONS, type Action } from "#shared/domain/decision/action";
import type { MessageEntities } from "#shared/domain/decision-message/index";
import { EVENT_TYPES, type EventType } from "#shared/domain/event/index";

/**
 * What a risk report shows, and how it is computed from audit documents. The same definitions
 * drive both readers: in memory here (local audit files) and as OpenSearch aggregations
 * (`opensearch-report-reader.ts`), so the two give equal numbers for equal documents.
 *
 * - Decisions count by `@timestamp` (decidedAt) in [since, until).
 * - Time buckets are `bucketMs` wide, aligned to the epoch (as a `date_histogram` with
 *   `fixed_interval`), from the bucket holding `since` to the one holding `until - 1 ms`.
 * - Score bins are floor(score / 0.1) (OpenSearch's histogram rule), the bin of 1.0 folded into
 *   the last one; decisions without a score are counted apart.
 * - Top rules: the `top` active rules and the `top` shadow rules by hits (count desc, id asc),
 *   merged per rule id, ordered by total hits.
 * - Top risky entities: per entity kind, the `top` pseudonyms by decisions other than pass (count
 *   desc, id asc), with their blocks and highest score; merged and ordered by risky decisions,
 *   then blocks, then kind and id; the first `top` kept.
 */

/** Entity kinds the report ranks (email domains are shared by too many people to be telling). */
export const REPORT_ENTITY_KINDS = [
  "user",
  "device",
  "ip",
  "card",
  "phone",
  "email",
] as const satisfies readonly (keyof MessageEntities)[];
/** One of REPORT_ENTITY_KINDS. */
export type ReportEntityKind = (typeof REPORT_ENTITY_KINDS)[number];

/** Score histogram bins: [0, 0.1), [0.1, 0.2), ..., [0.9, 1.0]. */
export const SCORE_BINS = 10;

/** The slice of a report asked for. */
export interface ReportQuery {
  readonly since: Date;
  readonly until: Date;
  readonly bucketMs: number;
  /** Length of the top-N lists. */
  readonly top: number;
}

/** One ranked rule. */
export interface RuleRow {
  readonly id: string;
  readonly active: number;
  readonly shadow: number;
}

/** One ranked entity. */
export interface EntityRow {
  readonly kind: ReportEntityKind;
  /** The pseudonym. */
  readonly id: string;
  /** Decisions other than pass. */
  readonly risky: number;
  readonly blocks: number;
  readonly maxScore: number | null;
}

/** Everything a report shows. */
export interface ReportData {
  readonly since: string;
  readonly until: string;
  readonly bucketMs: number;
  readonly total: number;
  /** Decisions over time: bucket starts (ISO) and, per action, one count per bucket. */
  readonly overTime: {
    readonly buckets: readonly string[];
    readonly byAction: Readonly<Record<Action, readonly number[]>>;
  };
  /** Actions per scenario (event type). */
  readonly byScenario: Readonly<Record<EventType, Readonly<Record<Action, number>>>>;
  readonly topRules: readonly RuleRow[];
  readonly scores: { readonly bins: readonly number[]; readonly noScore: number };
  readonly topEntities: readonly EntityRow[];
  /** Quarantined records by reason (score's and audit's), or null when the quarantine was not readable. */
  readonly quarantine: ReadonlyArray<{ readonly reason: string; readonly count: number }> | null;
}

/** The fields of an audit document a report reads. */
export interface ReportDocument {
  readonly eventId: string;
  readonly "@timestamp": string;
  readonly type: EventType;
  readonly action: Action;
  readonly score: number | null;
  readonly activeRules: readonly string[];
  readonly shadowRules: readonly string[];
  readonly entities: Partial<Record<keyof MessageEntities, string>>;
}

/** A bucket width that gives about 48 buckets over the span, rounded to a readable interval. */
export function bucketFor(spanMs: number): number {
  const steps = [
    60_000, 300_000, 900_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
  ];
  for (const step of steps) if (spanMs / step <= 48) return step;
  return 86_400_000 * Math.ceil(spanMs / 86_400_000 / 48);
}

/** Bucket starts (epoch ms) covering [since, until). */
export function bucketStarts(query: ReportQuery): number[] {
  const b = query.bucketMs;
  const first = Math.floor(query.since.getTime() / b) * b;
  const last = Math.floor((query.until.getTime() - 1) / b) * b;
  const starts: number[] = [];
  for (let t = first; t <= last; t += b) starts.push(t);
  return starts;
}

/** Score bin of a score (see the module comment). */
export function scoreBin(score: number): number {
  return Math.min(SCORE_BINS - 1, Math.floor(score / 0.1));
}

const emptyActions = (): Record<Action, number> =>
  Object.fromEntries(ACTIONS.map((a) => [a, 0])) as Record<Action, number>;

/** Count desc, then key asc: the order of an OpenSearch terms aggregation. */
export function topTerms(counts: ReadonlyMap<string, number>, n: number): Array<[string, number]> {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, n);
}

/** Merges the active and shadow top lists per rule, ordered by total hits. */
export function mergeRules(
  active: ReadonlyArray<[string, number]>,
  shadow: ReadonlyArray<[string, number]>,
): RuleRow[] {
  const rows = new Map<string, { id: string; active: number; shadow: number }>();
  for (const [id, n] of active) rows.set(id, { id, active: n, shadow: 0 });
  for (const [id, n] of shadow) {
    const row = rows.get(id) ?? { id, active: 0, shadow: 0 };
    row.shadow = n;
    rows.set(id, row);
  }
  return [...rows.values()].sort(
    (a, b) => b.active + b.shadow - (a.active + a.shadow) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/** Merges the per-kind entity lists and keeps the first `top`. */
export function rankEntities(rows: readonly EntityRow[], top: number): EntityRow[] {
  const kindOrder = (k: ReportEntityKind) => REPORT_ENTITY_KINDS.indexOf(k);
  return [...rows]
    .sort(
      (a, b) =>
        b.risky - a.risky ||
        b.blocks - a.blocks ||
        kindOrder(a.kind) - kindOrder(b.kind) ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    )
    .slice(0, top);
}

/**
 * The report of a set of audit documents (already de-duplicated by eventId or not: documents of
 * the same eventId count once, the first seen). Quarantine counts come from elsewhere.
 */
export function aggregateDocuments(
  documents: Iterable<ReportDocument>,
  query: ReportQuery,
  quarantine: ReportData["quarantine"],
): ReportData {
  const starts = bucketStarts(query);
  const index = new Map(starts.map((t, i) => [t, i]));
  const byAction = Object.fromEntries(ACTIONS.map((a) => [a, starts.map(() => 0)])) as Record<
    Action,
    number[]
  >;
  const byScenario = Object.fromEntries(EVENT_TYPES.map((t) => [t, emptyActions()])) as Record<
    EventType,
    Record<Action, number>
  >;
  const active = new Map<string, number>();
  const shadow = new Map<string, number>();
  const bins = Array.from({ length: SCORE_BINS }, () => 0);
  let noScore = 0;
  const entities = new Map<
    ReportEntityKind,
    Map<string, { risky: number; blocks: number; maxScore: number | null }>
  >(REPORT_ENTITY_KINDS.map((k) => [k, new Map()]));
  const seen = new Set<string>();
  const since = query.since.getTime();
  const until = query.until.getTime();
  let total = 0;

  for (const doc of documents) {
    const t = Date.parse(doc["@timestamp"]);
    if (!(t >= since && t < until) || seen.has(doc.eventId)) continue;
    seen.add(doc.eventId);
    total++;
    const bucket = index.get(Math.floor(t / query.bucketMs) * query.bucketMs);
    const series = byAction[doc.action];
    if (bucket !== undefined) series[bucket] = (series[bucket] ?? 0) + 1;
    byScenario[doc.type][doc.action]++;
    for (const id of new Set(doc.activeRules)) active.set(id, (active.get(id) ?? 0) + 1);
    for (const id of new Set(doc.shadowRules)) shadow.set(id, (shadow.get(id) ?? 0) + 1);
    if (doc.score === null || doc.score === undefined) noScore++;
    else {
      const bin = scoreBin(doc.score);
      bins[bin] = (bins[bin] ?? 0) + 1;
    }
    if (doc.action === "pass") continue;
    for (const kind of REPORT_ENTITY_KINDS) {
      const id = doc.entities[kind];
      if (!id) continue;
      const perKind = entities.get(kind) as Map<
        string,
        { risky: number; blocks: number; maxScore: number | null }
      >;
      const row = perKind.get(id) ?? { risky: 0, blocks: 0, maxScore: null };
      row.risky++;
      if (doc.action === "block") row.blocks++;
      if (doc.score !== null && (row.maxScore === null || doc.score > row.maxScore)) row.maxScore = doc.score;
      perKind.set(id, row);
    }
  }

  const entityRows: EntityRow[] = [];
  for (const [kind, perKind] of entities) {
    const counts = new Map([...perKind.entries()].map(([id, r]) => [id, r.risky]));
    for (const [id] of topTerms(counts, query.top)) {
      const r = perKind.get(id);
      if (r) entityRows.push({ kind, id, ...r });
    }
  }

  return {
    since: query.since.toISOString(),
    until: query.until.toISOString(),
    bucketMs: query.bucketMs,
    total,
    overTime: { buckets: starts.map((t) => new Date(t).toISOString()), byAction },
    byScenario,
    topRules: mergeRules(topTerms(active, query.top), topTerms(shadow, query.top)),
    scores: { bins, noScore },
    topEntities: rankEntities(entityRows, query.top),
    quarantine,
  };
}

/** Quarantine counts by reason, most frequent first (then by reason). */
export function quarantineRows(
  counts: ReadonlyMap<string, number>,
): Array<{ reason: string; count: number }> {
  return topTerms(counts, Number.POSITIVE_INFINITY).map(([reason, count]) => ({ reason, count }));
}
