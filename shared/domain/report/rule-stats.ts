import type { Outcome } from "#shared/domain/backtest/outcomes";
import { ACTIONS, type Action } from "#shared/domain/decision/action";

/**
 * Rule monitoring: what each rule did over a window of decisions (`vigil rules stats`, the rules
 * table of the HTML report). Pure; the decisions come from the audit trail or the decisions table.
 *
 * - `hits`: decisions the rule hit (active and shadow rules apart);
 * - `actions`: the actions of those decisions;
 * - `drove`: hits whose decision took the rule's own action (for an active rule: the rule decided,
 *   alone or with others of the same strength; a list decision is never driven by a rule);
 * - `fraud` / `legit`: hits on events labelled so (labels known at the cutoff), and their share of
 *   the hits; unlabelled hits count in neither;
 * - `trend`: hits per bucket over the window, and `change`: hits in the second half of the window
 *   over the first (null when the first half had none).
 */

/** The slice of a decision the statistics read (a decisions-table item or an audit document fits). */
export interface RuleStatsDecision {
  readonly eventId: string;
  readonly decidedAt: string;
  readonly action: Action;
  readonly decidedBy?: string;
  readonly ruleHits: ReadonlyArray<{
    readonly id: string;
    readonly action: Action;
    readonly shadow: boolean;
  }>;
}

/** The window and its buckets. */
export interface RuleStatsQuery {
  readonly since: Date;
  readonly until: Date;
  /** Buckets of the trend. Default 12. */
  readonly buckets?: number;
}

/** One rule's statistics. */
export interface RuleStatsRow {
  readonly id: string;
  readonly shadow: boolean;
  readonly hits: number;
  readonly actions: Readonly<Record<Action, number>>;
  readonly drove: number;
  readonly fraud: number;
  readonly legit: number;
  /** fraud / hits (null without hits). */
  readonly fraudShare: number | null;
  readonly legitShare: number | null;
  readonly trend: readonly number[];
  readonly change: number | null;
}

/** Everything the rules table shows. */
export interface RuleStats {
  readonly since: string;
  readonly until: string;
  /** Decisions in the window (each eventId once). */
  readonly decisions: number;
  /** Bucket starts (ISO) of the trend. */
  readonly buckets: readonly string[];
  /** Whether labels were given (shares are then meaningful). */
  readonly labelled: boolean;
  readonly rules: readonly RuleStatsRow[];
}

/** The statistics of the decisions made in [since, until) (each eventId counted once, the first seen). */
export function ruleStats(
  decisions: Iterable<RuleStatsDecision>,
  query: RuleStatsQuery,
  outcomes?: ReadonlyMap<string, Outcome>,
): RuleStats {
  const since = query.since.getTime();
  const until = query.until.getTime();
  const n = Math.max(1, query.buckets ?? 12);
  const width = (until - since) / n;
  const rows = new Map<
    string,
    {
      id: string;
      shadow: boolean;
      hits: number;
      actions: Record<Action, number>;
      drove: number;
      fraud: number;
      legit: number;
      trend: number[];
    }
  >();
  const seen = new Set<string>();
  for (const d of decisions) {
    const t = Date.parse(d.decidedAt);
    if (!(t >= since && t < until) || seen.has(d.eventId)) continue;
    seen.add(d.eventId);
    const bucket = Math.min(n - 1, Math.floor((t - since) / width));
    const outcome = outcomes?.get(d.eventId);
    const counted = new Set<string>();
    for (const hit of d.ruleHits) {
      const key = `${hit.id}\u0000${hit.shadow}`;
      if (counted.has(key)) continue;
      counted.add(key);
      let row = rows.get(key);
      if (row === undefined) {
        row = {
          id: hit.id,
          shadow: hit.shadow,
          hits: 0,
          actions: Object.fromEntries(ACTIONS.map((a) => [a, 0])) as Record<Action, number>,
          drove: 0,
          fraud: 0,
          legit: 0,
          trend: Array.from({ length: n }, () => 0),
        };
        rows.set(key, row);
      }
      row.hits++;
      row.actions[d.action]++;
      if (!hit.shadow && hit.action === d.action && (d.decidedBy ?? "rules_and_score") === "rules_and_score")
        row.drove++;
      if (outcome?.label === "fraud") row.fraud++;
      if (outcome?.label === "legit") row.legit++;
      row.trend[bucket] = (row.trend[bucket] ?? 0) + 1;
    }
  }
  const half = Math.floor(n / 2);
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    since: query.since.toISOString(),
    until: query.until.toISOString(),
    decisions: seen.size,
    buckets: Array.from({ length: n }, (_, i) => new Date(since + i * width).toISOString()),
    labelled: outcomes !== undefined,
    rules: [...rows.values()]
      .map((r) => {
        const first = sum(r.trend.slice(0, half));
        // The halves are equally long when n is even; an odd middle bucket is left out.
        const second = sum(r.trend.slice(n - half));
        return {
          ...r,
          fraudShare: r.hits === 0 ? null : r.fraud / r.hits,
          legitShare: r.hits === 0 ? null : r.legit / r.hits,
          change: first === 0 ? null : second / first,
        };
      })
      .sort(
        (a, b) =>
          b.hits - a.hits || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) || Number(a.shadow) - Number(b.shadow),
      ),
  };
}

const pct = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(1)}%`);
const SPARK = "▁▂▃▄▅▆▇█";

/** A small bar per bucket (for text); an empty bucket is a space. */
export function sparkline(trend: readonly number[]): string {
  const max = Math.max(0, ...trend);
  return trend
    .map((v) => (v === 0 ? " " : (SPARK[Math.min(7, Math.floor((v / max) * 7.999))] ?? " ")))
    .join("");
}

/** The rules table as text. */
export function formatRuleStats(stats: RuleStats): string {
  const lines = [
    `Rules from ${stats.since} to ${stats.until}: ${stats.decisions} decisions${stats.labelled ? "" : " (no labels given: fraud/legit shares unknown)"}`,
    `${"rule".padEnd(36)}${"hits".padStart(7)}${"drove".padStart(7)}  ${"actions of its hits".padEnd(34)}${"fraud".padStart(7)}${"legit".padStart(7)}  trend${" ".repeat(Math.max(0, stats.buckets.length - 5))}  change`,
  ];
  const short: Record<Action, string> = {
    pass: "pass",
    review: "rev",
    challenge_sms: "sms",
    challenge_face: "face",
    block: "block",
  };
  for (const r of stats.rules) {
    const actions = ACTIONS.filter((a) => r.actions[a] > 0)
      .map((a) => `${short[a]} ${r.actions[a]}`)
      .join(", ");
    lines.push(
      `${(r.shadow ? `${r.id} (shadow)` : r.id).padEnd(36)}${String(r.hits).padStart(7)}${String(r.drove).padStart(7)}  ${actions.padEnd(34)}${(stats.labelled ? pct(r.fraudShare) : "–").padStart(7)}${(stats.labelled ? pct(r.legitShare) : "–").padStart(7)}  ${sparkline(r.trend).padEnd(Math.max(5, stats.buckets.length))}  ${r.change === null ? "–" : `×${r.change.toFixed(2)}`}`,
    );
  }
  if (stats.rules.length === 0) lines.push("(no rule hit in the window)");
  return lines.join("\n");
}
