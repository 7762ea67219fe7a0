import type { Client } from "@opensearch-project/opensearch";
import { auditIndexPattern } from "#shared/domain/audit/audit-document";
import { ACTIONS, type Action } from "#shared/domain/decision/action";
import { EVENT_TYPES, type EventType } from "#shared/domain/event/index";
import {
  bucketStarts,
  type EntityRow,
  mergeRules,
  quarantineRows,
  REPORT_ENTITY_KINDS,
  type ReportData,
  type ReportQuery,
  rankEntities,
  SCORE_BINS,
} from "#shared/domain/report/report-data";
import type { QuarantineCounter, ReportReader } from "#shared/ports/report-reader";

interface TermsBucket {
  readonly key: string;
  readonly doc_count: number;
}
interface Aggs {
  readonly over_time: { buckets: Array<{ key: number; action: { buckets: TermsBucket[] } }> };
  readonly by_scenario: { buckets: Array<TermsBucket & { action: { buckets: TermsBucket[] } }> };
  readonly active_rules: { buckets: TermsBucket[] };
  readonly shadow_rules: { buckets: TermsBucket[] };
  readonly scores: { buckets: Array<{ key: number; doc_count: number }> };
  readonly no_score: { doc_count: number };
  readonly risky: Record<
    string,
    { buckets: Array<TermsBucket & { blocks: { doc_count: number }; max_score: { value: number | null } }> }
  >;
}

/** The `_search` body of a report: one request, every number as an aggregation. */
export function reportSearchBody(query: ReportQuery) {
  const entityAggs = Object.fromEntries(
    REPORT_ENTITY_KINDS.map((kind) => [
      kind,
      {
        terms: { field: `entities.${kind}`, size: query.top, order: [{ _count: "desc" }, { _key: "asc" }] },
        aggs: {
          blocks: { filter: { term: { action: "block" } } },
          max_score: { max: { field: "score" } },
        },
      },
    ]),
  );
  const terms = (field: string, size: number) => ({
    terms: { field, size, order: [{ _count: "desc" }, { _key: "asc" }] },
  });
  return {
    size: 0,
    track_total_hits: true,
    query: { range: { "@timestamp": { gte: query.since.toISOString(), lt: query.until.toISOString() } } },
    aggs: {
      over_time: {
        date_histogram: {
          field: "@timestamp",
          fixed_interval: `${query.bucketMs / 1000}s`,
          min_doc_count: 0,
          extended_bounds: { min: query.since.getTime(), max: query.until.getTime() - 1 },
        },
        aggs: { action: terms("action", ACTIONS.length) },
      },
      by_scenario: {
        ...terms("type", EVENT_TYPES.length),
        aggs: { action: terms("action", ACTIONS.length) },
      },
      active_rules: terms("activeRules", query.top),
      shadow_rules: terms("shadowRules", query.top),
      scores: {
        histogram: { field: "score", interval: 0.1, min_doc_count: 0, extended_bounds: { min: 0, max: 0.9 } },
      },
      no_score: { missing: { field: "score" } },
      risky: { filter: { bool: { must_not: [{ term: { action: "pass" } }] } }, aggs: entityAggs },
    },
  };
}

/** Reads a `_search` response of {@link reportSearchBody} into report data. */
export function parseReportResponse(
  body: { hits: { total: number | { value: number } }; aggregations: Aggs },
  query: ReportQuery,
  quarantine: ReportData["quarantine"],
): ReportData {
  const a = body.aggregations;
  const starts = bucketStarts(query);
  const index = new Map(starts.map((t, i) => [t, i]));
  const byAction = Object.fromEntries(ACTIONS.map((x) => [x, starts.map(() => 0)])) as Record<
    Action,
    number[]
  >;
  for (const bucket of a.over_time.buckets) {
    const i = index.get(bucket.key);
    if (i === undefined) continue;
    for (const b of bucket.action.buckets) {
      const series = byAction[b.key as Action];
      if (series) series[i] = b.doc_count;
    }
  }
  const byScenario = Object.fromEntries(
    EVENT_TYPES.map((t) => [t, Object.fromEntries(ACTIONS.map((x) => [x, 0]))]),
  ) as Record<EventType, Record<Action, number>>;
  for (const s of a.by_scenario.buckets) {
    const row = byScenario[s.key as EventType];
    if (row) for (const b of s.action.buckets) if (b.key in row) row[b.key as Action] = b.doc_count;
  }
  const bins = Array.from({ length: SCORE_BINS }, () => 0);
  for (const b of a.scores.buckets) {
    const bin = Math.min(SCORE_BINS - 1, Math.max(0, Math.round(b.key * 10)));
    bins[bin] = (bins[bin] ?? 0) + b.doc_count;
  }
  const entityRows: EntityRow[] = REPORT_ENTITY_KINDS.flatMap((kind) =>
    (a.risky[kind]?.buckets ?? []).map((b) => ({
      kind,
      id: b.key,
      risky: b.doc_count,
      blocks: b.blocks.doc_count,
      maxScore: b.max_score.value,
    })),
  );
  const pairs = (buckets: TermsBucket[]) => buckets.map((b) => [b.key, b.doc_count] as [string, number]);
  const total = typeof body.hits.total === "number" ? body.hits.total : body.hits.total.value;
  return {
    since: query.since.toISOString(),
    until: query.until.toISOString(),
    bucketMs: query.bucketMs,
    total,
    overTime: { buckets: starts.map((t) => new Date(t).toISOString()), byAction },
    byScenario,
    topRules: mergeRules(pairs(a.active_rules.buckets), pairs(a.shadow_rules.buckets)),
    scores: { bins, noScore: a.no_score.doc_count },
    topEntities: rankEntities(entityRows, query.top),
    quarantine,
  };
}

/**
 * The AWS report reader: one `_search` with aggregations over the daily audit indices (the
 * definitions are those of report-data.ts), quarantine counts from the table. Needs a role mapped
 * to the FGAC reader role (`vigil:auditReaderRoleArns`).
 */
export class OpenSearchReportReader implements ReportReader {
  constructor(
    private readonly client: Pick<Client, "search">,
    private readonly indexPrefix: string,
    private readonly quarantine?: QuarantineCounter,
  ) {}

  async read(query: ReportQuery): Promise<ReportData> {
    const response = await this.client.search({
      index: auditIndexPattern(this.indexPrefix),
      body: reportSearchBody(query) as never,
      ignore_unavailable: true,
      allow_no_indices: true,
    });
    const quarantine = this.quarantine
      ? quarantineRows(await this.quarantine.countByReason(query.since, query.until))
      : null;
    return parseReportResponse(response.body as never, query, quarantine);
  }
}
