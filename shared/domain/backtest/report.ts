import type { BacktestPath } from "#shared/domain/backtest/configuration";
import { type BacktestTally, entry } from "#shared/domain/backtest/tally";
import { ACTIONS, type Action } from "#shared/domain/decision/action";
import type { DecisionKind } from "#shared/domain/decision/index";
import { EVENT_TYPES } from "#shared/domain/event/index";

/**
 * The backtest report: what `vigil backtest` prints as text or JSON (the JSON shape is pinned by
 * test/unit/backtest/report.test.ts). Pure.
 */

/** Where a backtest's events came from. */
export type BacktestSource =
  | { readonly kind: "archive"; readonly from: string; readonly to: string; readonly objects: number }
  | { readonly kind: "file"; readonly path: string };

/** Rates at one strength of action among a group's events. */
export interface ActionShare {
  readonly events: number;
  /** events / the group's events; null for an empty group. */
  readonly rate: number | null;
}

/**
 * One side (before or after) of a quality row. `flagged`: any action but pass; `challenged`:
 * challenge_sms or challenge_face; `blocked`: block (review is flagged, neither challenged nor
 * blocked). For fraud rows the rates are recall, for legitimate rows false-positive rates.
 */
export interface QualitySide {
  readonly flagged: ActionShare;
  readonly challenged: ActionShare;
  readonly blocked: ActionShare;
  /**
   * Fraud rows: flagged events of the row / (those + the flagged legitimate events of the row's
   * scenarios); null for legitimate rows and when nothing was flagged.
   */
  readonly precision: number | null;
}

/** Quality on one label category (or all of a label). */
export interface QualityRow {
  readonly label: "fraud" | "legit";
  /** The category, or `all` for every event of the label. */
  readonly category: string;
  readonly events: number;
  readonly before: QualitySide;
  readonly after: QualitySide;
}

/** Everything `vigil backtest` reports. */
export interface BacktestReport {
  readonly path: BacktestPath;
  readonly source: BacktestSource;
  /** Config-table versions of the configuration in force (null: not configured; 0: fallback). */
  readonly inForce: Readonly<Partial<Record<DecisionKind, number | null>>>;
  /** Kinds the candidate changes. */
  readonly candidate: readonly DecisionKind[];
  readonly records: BacktestTally["records"];
  readonly compared: number;
  readonly changed: number;
  readonly actions: { readonly before: Record<Action, number>; readonly after: Record<Action, number> };
  /** Changed events by scenario and action pair, most first. */
  readonly transitions: ReadonlyArray<{
    readonly scenario: string;
    readonly from: Action;
    readonly to: Action;
    readonly events: number;
    readonly examples: readonly string[];
  }>;
  /** Hits per rule before and after, by the largest change first. */
  readonly rules: ReadonlyArray<{
    readonly rule: string;
    readonly before: number;
    readonly after: number;
    readonly delta: number;
  }>;
  /** Quality per label category; null when no compared event is labelled. */
  readonly quality: {
    readonly cutoff: string;
    readonly labelled: number;
    readonly rows: readonly QualityRow[];
  } | null;
  /** Things the reader should know about the figures. */
  readonly notes: readonly string[];
}

const FLAGGED: ReadonlySet<Action> = new Set(["review", "challenge_sms", "challenge_face", "block"]);
const CHALLENGED: ReadonlySet<Action> = new Set(["challenge_sms", "challenge_face"]);

const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);

function splitPair(pair: string): [Action, Action] {
  const [from, to] = pair.split(">") as [Action, Action];
  return [from, to];
}

interface SideCounts {
  events: number;
  flagged: number;
  challenged: number;
  blocked: number;
}

function sideCounts(pairs: Readonly<Record<string, number>>, side: 0 | 1): SideCounts {
  const out = { events: 0, flagged: 0, challenged: 0, blocked: 0 };
  for (const [pair, n] of Object.entries(pairs)) {
    const action = splitPair(pair)[side];
    out.events += n;
    if (FLAGGED.has(action)) out.flagged += n;
    if (CHALLENGED.has(action)) out.challenged += n;
    if (action === "block") out.blocked += n;
  }
  return out;
}

function qualitySide(c: SideCounts, fraud: boolean, legitFlagged: number): QualitySide {
  const share = (n: number): ActionShare => ({ events: n, rate: ratio(n, c.events) });
  return {
    flagged: share(c.flagged),
    challenged: share(c.challenged),
    blocked: share(c.blocked),
    precision: fraud ? ratio(c.flagged, c.flagged + legitFlagged) : null,
  };
}

/**
 * The quality rows of a tally: each category, then `all` per label; fraud first. A fraud row's
 * precision counts as false alarms the flagged legitimate events of the scenarios its events
 * belong to (flagging an event of another attack is no false alarm); `all` fraud counts every
 * flagged legitimate event.
 */
export function qualityRows(outcomes: BacktestTally["outcomes"]): QualityRow[] {
  const groups = Object.entries(outcomes).map(([key, byType]) => {
    const slash = key.indexOf("/");
    return { label: key.slice(0, slash) as "fraud" | "legit", category: key.slice(slash + 1), byType };
  });
  const add = (into: Record<string, number>, pairs: Readonly<Record<string, number>>) => {
    for (const [pair, n] of Object.entries(pairs)) into[pair] = (into[pair] ?? 0) + n;
  };
  const flatten = (byType: Readonly<Record<string, Readonly<Record<string, number>>>>) => {
    const all: Record<string, number> = {};
    for (const pairs of Object.values(byType)) add(all, pairs);
    return all;
  };
  /** Legitimate events per scenario, all categories together. */
  const legitByType: Record<string, Record<string, number>> = {};
  for (const g of groups)
    if (g.label === "legit")
      for (const [type, pairs] of Object.entries(g.byType))
        add(
          entry(legitByType, type, () => ({})),
          pairs,
        );
  const legitFlagged = (types: Iterable<string>, side: 0 | 1) => {
    let n = 0;
    for (const type of types) n += sideCounts(legitByType[type] ?? {}, side).flagged;
    return n;
  };
  const row = (
    label: "fraud" | "legit",
    category: string,
    byType: Readonly<Record<string, Readonly<Record<string, number>>>>,
    types: Iterable<string>,
  ): QualityRow => {
    const pairs = flatten(byType);
    const before = sideCounts(pairs, 0);
    const typeList = [...types];
    return {
      label,
      category,
      events: before.events,
      before: qualitySide(before, label === "fraud", legitFlagged(typeList, 0)),
      after: qualitySide(sideCounts(pairs, 1), label === "fraud", legitFlagged(typeList, 1)),
    };
  };
  const rows: QualityRow[] = [];
  for (const label of ["fraud", "legit"] as const) {
    const mine = groups.filter((g) => g.label === label).sort((a, b) => (a.category < b.category ? -1 : 1));
    if (mine.length === 0) continue;
    for (const g of mine) rows.push(row(label, g.category, g.byType, Object.keys(g.byType)));
    const all: Record<string, Record<string, number>> = {};
    for (const g of mine)
      for (const [type, pairs] of Object.entries(g.byType))
        add(
          entry(all, type, () => ({})),
          pairs,
        );
    rows.push(row(label, "all", all, Object.keys(legitByType)));
  }
  return rows;
}

/** What the report needs besides the tally. */
export interface ReportContext {
  readonly path: BacktestPath;
  readonly source: BacktestSource;
  readonly inForce: BacktestReport["inForce"];
  readonly candidate: readonly DecisionKind[];
  /** Label cutoff (ISO), when labels were given. */
  readonly cutoff?: string;
  readonly notes?: readonly string[];
}

/** The report of a (merged) tally. */
export function buildReport(tally: BacktestTally, context: ReportContext): BacktestReport {
  const zero = () => Object.fromEntries(ACTIONS.map((a) => [a, 0])) as Record<Action, number>;
  const before = zero();
  const after = zero();
  const transitions: BacktestReport["transitions"][number][] = [];
  for (const [scenario, pairs] of Object.entries(tally.transitions)) {
    for (const [pair, n] of Object.entries(pairs)) {
      const [from, to] = splitPair(pair);
      before[from] += n;
      after[to] += n;
      if (from !== to)
        transitions.push({ scenario, from, to, events: n, examples: tally.examples[scenario]?.[pair] ?? [] });
    }
  }
  const typeOrder = (s: string) => EVENT_TYPES.indexOf(s as (typeof EVENT_TYPES)[number]);
  transitions.sort(
    (a, b) =>
      b.events - a.events ||
      typeOrder(a.scenario) - typeOrder(b.scenario) ||
      ACTIONS.indexOf(a.from) - ACTIONS.indexOf(b.from) ||
      ACTIONS.indexOf(a.to) - ACTIONS.indexOf(b.to),
  );
  const rules = Object.entries(tally.ruleHits)
    .map(([rule, h]) => ({ rule, before: h.before, after: h.after, delta: h.after - h.before }))
    .sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || b.after - a.after || (a.rule < b.rule ? -1 : 1));
  const rows = qualityRows(tally.outcomes);
  let labelled = 0;
  for (const byType of Object.values(tally.outcomes))
    for (const pairs of Object.values(byType)) for (const n of Object.values(pairs)) labelled += n;
  const notes = [...(context.notes ?? [])];
  if (tally.storedDiffers > 0)
    notes.push(
      `${tally.storedDiffers} stored decision(s) differ from the configuration in force on the same features: it changed during the period; "before" is the configuration in force now`,
    );
  if (tally.otherFeatureVersion > 0)
    notes.push(
      `${tally.otherFeatureVersion} stored vector(s) come from another feature set than the one in force; features it lacks read as absent`,
    );
  if (tally.records.withoutDecision > 0)
    notes.push(
      `${tally.records.withoutDecision} event(s) have no stored decision (expired by TTL, or not decided yet) and are left out`,
    );
  return {
    path: context.path,
    source: context.source,
    inForce: context.inForce,
    candidate: context.candidate,
    records: tally.records,
    compared: tally.compared,
    changed: tally.changed,
    actions: { before, after },
    transitions,
    rules,
    quality:
      rows.length > 0 && context.cutoff !== undefined ? { cutoff: context.cutoff, labelled, rows } : null,
    notes,
  };
}

const pct = (x: number | null) => (x === null ? "–" : (x * 100).toFixed(1));
const num = (n: number) => n.toLocaleString("en-US");

/** The report as text: summary, action diff, rules, quality. */
export function formatReport(report: BacktestReport): string {
  const lines: string[] = [];
  const source =
    report.source.kind === "archive"
      ? `archive ${report.source.from} to ${report.source.to} (${num(report.source.objects)} objects)`
      : `file ${report.source.path}`;
  const versions = Object.entries(report.inForce)
    .map(([k, v]) => `${k} ${v === null ? "none" : `v${v}`}`)
    .join(", ");
  lines.push(`Backtest of a candidate changing ${report.candidate.join(", ") || "nothing"}`);
  lines.push(`events: ${source}`);
  lines.push(`in force: ${versions}`);
  lines.push(
    `path: ${report.path === "stored-vectors" ? "stored feature vectors (exact, from the decisions)" : "features recomputed from the events in event-time order"}`,
  );
  const q = Object.entries(report.records.quarantined);
  lines.push(
    `records: ${num(report.records.read)} read, ${num(report.compared)} decided both ways; ` +
      `${num(q.reduce((n, [, k]) => n + k, 0))} quarantined${q.length > 0 ? ` (${q.map(([r, n]) => `${r} ${n}`).join(", ")})` : ""}, ` +
      `${num(report.records.resent)} re-sent, ${num(report.records.copies)} archive copies, ${num(report.records.withoutDecision)} without a stored decision`,
  );
  lines.push("");
  lines.push(
    `Action changes: ${num(report.changed)} of ${num(report.compared)} events (${pct(report.compared === 0 ? null : report.changed / report.compared)}%)`,
  );
  if (report.transitions.length === 0) lines.push("  (no event changes action)");
  else {
    lines.push(
      `  ${"scenario".padEnd(14)}${"from".padEnd(16)}${"to".padEnd(16)}${"events".padStart(8)}  examples`,
    );
    for (const t of report.transitions)
      lines.push(
        `  ${t.scenario.padEnd(14)}${t.from.padEnd(16)}${t.to.padEnd(16)}${num(t.events).padStart(8)}  ${t.examples.slice(0, 3).join(" ")}`,
      );
  }
  lines.push("");
  lines.push(`  ${"action".padEnd(16)}${"before".padStart(9)}${"after".padStart(9)}`);
  for (const a of ACTIONS)
    lines.push(
      `  ${a.padEnd(16)}${num(report.actions.before[a]).padStart(9)}${num(report.actions.after[a]).padStart(9)}`,
    );
  lines.push("");
  lines.push("Rule hits");
  lines.push(`  ${"rule".padEnd(40)}${"before".padStart(9)}${"after".padStart(9)}${"change".padStart(9)}`);
  for (const r of report.rules)
    lines.push(
      `  ${r.rule.padEnd(40)}${num(r.before).padStart(9)}${num(r.after).padStart(9)}${(r.delta > 0 ? `+${num(r.delta)}` : num(r.delta)).padStart(9)}`,
    );
  if (report.rules.length === 0) lines.push("  (no rule hit)");
  lines.push("");
  if (report.quality === null) lines.push("Quality: no labelled event among those compared (give --labels)");
  else {
    lines.push(
      `Quality (labels known at ${report.quality.cutoff}: ${num(report.quality.labelled)} labelled events; % of events: recall for fraud, false-positive rate for legit)`,
    );
    const head = "flag  chal  block  prec";
    lines.push(`  ${"".padEnd(36)}${"".padStart(8)}   ${"before".padEnd(25)}   after`);
    lines.push(`  ${"label / category".padEnd(36)}${"events".padStart(8)}   ${head.padEnd(25)}   ${head}`);
    const side = (s: QualitySide) =>
      `${pct(s.flagged.rate).padStart(5)} ${pct(s.challenged.rate).padStart(5)} ${pct(s.blocked.rate).padStart(5)} ${(s.precision === null ? "" : pct(s.precision)).padStart(6)}`;
    for (const row of report.quality.rows) {
      const name = `${row.label} ${row.category === "all" ? "(all)" : row.category}`;
      lines.push(
        `  ${name.padEnd(36)}${num(row.events).padStart(8)}   ${side(row.before).padEnd(25)}   ${side(row.after)}`,
      );
    }
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  return `${lines.join("\n")}\n`;
}
