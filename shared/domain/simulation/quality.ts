import { ACTIONS, type Action, strongerAction } from "#shared/domain/decision/action";
import { EVENT_TYPES, type EventType } from "#shared/domain/event/index";
import {
  ATTACK_TYPES,
  ATTACK_VARIANTS,
  type AttackType,
  type AttackVariant,
  type GroundTruth,
  LEGIT_KINDS,
  type LegitKind,
  type Phase,
} from "#shared/domain/simulation/ground-truth";

/**
 * Detection quality: decisions joined with ground truth. Pure; `vigil evaluate` and `npm start`
 * print what {@link evaluateQuality} returns with {@link formatQualityTable}.
 *
 * An event is **flagged** by a detector when that detector's action is anything but `pass`.
 * Three detectors are read off every stored decision, so one run measures all three:
 *
 * - `rules`: the block/allow lists and the active rules, as the policy combines them, without
 *   the score band (shadow rules never act);
 * - `model`: the score band's action alone (`band.action`, pass when no band applies);
 * - `combined`: the action the pipeline took.
 */

/** The slice of a stored decision the evaluation reads (the decisions table item fits). */
export interface ScoredDecision {
  readonly eventId: string;
  readonly action: Action;
  readonly decidedBy?: string;
  readonly ruleHits: ReadonlyArray<{
    readonly id: string;
    readonly action: Action;
    readonly shadow: boolean;
  }>;
  readonly band?: { readonly action: Action } | null;
}

export const DETECTORS = ["rules", "model", "combined"] as const;
export type Detector = (typeof DETECTORS)[number];

/** The action a detector would have taken on this decision's evidence. */
export function detectorAction(decision: ScoredDecision, detector: Detector): Action {
  switch (detector) {
    case "combined":
      return decision.action;
    case "model":
      return decision.band?.action ?? "pass";
    case "rules": {
      if (decision.decidedBy === "block_list") return "block";
      if (decision.decidedBy === "allow_list") return "pass";
      let action: Action = "pass";
      for (const hit of decision.ruleHits) if (!hit.shadow) action = strongerAction(action, hit.action);
      return action;
    }
  }
}

type PerDetector = Record<Detector, number>;
const zero = (): PerDetector => ({ rules: 0, model: 0, combined: 0 });

/** Quality on one slice of attack traffic. */
export interface AttackRow {
  readonly attack: AttackType | "all";
  readonly variant: AttackVariant | "all";
  readonly events: number;
  /** Attack events of the slice each detector flagged. */
  readonly caught: PerDetector;
  /** Legitimate events of the slice's event types each detector flagged (its false alarms). */
  readonly falseAlarms: PerDetector;
  /** caught / events. */
  readonly recall: Record<Detector, number | null>;
  /** caught / (caught + falseAlarms); null when nothing was flagged. */
  readonly precision: Record<Detector, number | null>;
}

/** False-positive rates on one slice of legitimate traffic. */
export interface LegitRow {
  readonly kind: LegitKind | "all";
  readonly events: number;
  readonly flagged: PerDetector;
  /** flagged / events. */
  readonly rate: Record<Detector, number | null>;
}

/** Hits of one rule on the evaluated events. */
export interface RuleRow {
  readonly id: string;
  readonly shadow: boolean;
  readonly hits: number;
  readonly onAttacks: number;
  readonly onLegit: number;
}

/** Everything `vigil evaluate` reports. */
export interface QualityReport {
  readonly phases: readonly Phase[];
  /** Events of those phases with ground truth. */
  readonly events: number;
  readonly decided: number;
  /** Events with ground truth but no decision (left out of every rate). */
  readonly undecided: number;
  readonly attacks: readonly AttackRow[];
  readonly legit: readonly LegitRow[];
  /** Combined actions per scenario (event type). */
  readonly actionsByType: Readonly<Record<EventType, Readonly<Record<Action, number>>>>;
  readonly rules: readonly RuleRow[];
}

const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);

/**
 * Joins decisions with ground truth over the given phases (default: the live window only; the
 * history phase is set-up, not measured).
 *
 * Precision per attack slice is one-against-legitimate: the slice's caught events against the
 * legitimate events of the same event types that were flagged. Events of other attacks count
 * for neither, since flagging them is not a false alarm. The "all attacks" row is ordinary
 * precision over all flagged events.
 */
export function evaluateQuality(
  truth: readonly GroundTruth[],
  decisions: ReadonlyMap<string, ScoredDecision>,
  phases: readonly Phase[] = ["live"],
): QualityReport {
  const inScope = truth.filter((t) => phases.includes(t.phase));
  const joined = inScope.flatMap((t) => {
    const decision = decisions.get(t.eventId);
    return decision ? [{ t, decision }] : [];
  });

  const flags = (decision: ScoredDecision): Record<Detector, boolean> => ({
    rules: detectorAction(decision, "rules") !== "pass",
    model: detectorAction(decision, "model") !== "pass",
    combined: decision.action !== "pass",
  });

  // Flagged legitimate events per event type, the false alarms of every attack slice of that type.
  const legitFlagsByType = new Map<EventType, PerDetector>();
  const legitByKind = new Map<LegitKind, { events: number; flagged: PerDetector }>();
  const attackSlices = new Map<string, { events: number; caught: PerDetector; types: Set<EventType> }>();
  const actionsByType = Object.fromEntries(
    EVENT_TYPES.map((type) => [
      type,
      Object.fromEntries(ACTIONS.map((a) => [a, 0])) as Record<Action, number>,
    ]),
  ) as Record<EventType, Record<Action, number>>;
  const rules = new Map<
    string,
    { id: string; shadow: boolean; hits: number; onAttacks: number; onLegit: number }
  >();

  for (const { t, decision } of joined) {
    actionsByType[t.type][decision.action]++;
    for (const hit of decision.ruleHits) {
      const key = `${hit.id}\u0000${hit.shadow}`;
      const row = rules.get(key) ?? { id: hit.id, shadow: hit.shadow, hits: 0, onAttacks: 0, onLegit: 0 };
      row.hits++;
      if (t.label === "attack") row.onAttacks++;
      else row.onLegit++;
      rules.set(key, row);
    }
    const f = flags(decision);
    if (t.label === "legit") {
      const byType = legitFlagsByType.get(t.type) ?? zero();
      const byKind = legitByKind.get(t.kind) ?? { events: 0, flagged: zero() };
      byKind.events++;
      for (const d of DETECTORS) {
        if (!f[d]) continue;
        byType[d]++;
        byKind.flagged[d]++;
      }
      legitFlagsByType.set(t.type, byType);
      legitByKind.set(t.kind, byKind);
      continue;
    }
    for (const key of [`${t.attack}/${t.variant}`, `${t.attack}/all`, "all/all"]) {
      const slice = attackSlices.get(key) ?? { events: 0, caught: zero(), types: new Set<EventType>() };
      slice.events++;
      slice.types.add(t.type);
      for (const d of DETECTORS) if (f[d]) slice.caught[d]++;
      attackSlices.set(key, slice);
    }
  }

  const attackRow = (attack: AttackType | "all", variant: AttackVariant | "all"): AttackRow | undefined => {
    const slice = attackSlices.get(`${attack}/${variant}`);
    if (!slice) return undefined;
    const falseAlarms = zero();
    for (const type of attack === "all" ? EVENT_TYPES : slice.types) {
      const flagged = legitFlagsByType.get(type);
      if (flagged) for (const d of DETECTORS) falseAlarms[d] += flagged[d];
    }
    const per = (f: (d: Detector) => number | null) =>
      Object.fromEntries(DETECTORS.map((d) => [d, f(d)])) as Record<Detector, number | null>;
    return {
      attack,
      variant,
      events: slice.events,
      caught: slice.caught,
      falseAlarms,
      recall: per((d) => ratio(slice.caught[d], slice.events)),
      precision: per((d) => ratio(slice.caught[d], slice.caught[d] + falseAlarms[d])),
    };
  };
  const attacks: AttackRow[] = [];
  for (const attack of ATTACK_TYPES) {
    for (const variant of ATTACK_VARIANTS) {
      const row = attackRow(attack, variant);
      if (row) attacks.push(row);
    }
    const both = attackRow(attack, "all");
    if (both && attacks.filter((r) => r.attack === attack).length > 1) attacks.push(both);
  }
  const all = attackRow("all", "all");
  if (all) attacks.push(all);

  const legitRow = (kind: LegitKind | "all", events: number, flagged: PerDetector): LegitRow => ({
    kind,
    events,
    flagged,
    rate: Object.fromEntries(DETECTORS.map((d) => [d, ratio(flagged[d], events)])) as Record<
      Detector,
      number | null
    >,
  });
  const legit: LegitRow[] = [];
  const total = { events: 0, flagged: zero() };
  for (const kind of LEGIT_KINDS) {
    const row = legitByKind.get(kind);
    if (!row) continue;
    legit.push(legitRow(kind, row.events, row.flagged));
    total.events += row.events;
    for (const d of DETECTORS) total.flagged[d] += row.flagged[d];
  }
  if (total.events > 0) legit.push(legitRow("all", total.events, total.flagged));

  return {
    phases,
    events: inScope.length,
    decided: joined.length,
    undecided: inScope.length - joined.length,
    attacks,
    legit,
    actionsByType,
    rules: [...rules.values()].sort((a, b) => b.hits - a.hits || a.id.localeCompare(b.id)),
  };
}

const pct = (x: number | null) => (x === null ? "    –" : `${(x * 100).toFixed(1).padStart(5)}`);

/**
 * The quality table as text: recall and precision per attack and variant for each detector,
 * then false-positive rates per kind of legitimate traffic. Percentages, one decimal.
 */
export function formatQualityTable(report: QualityReport): string {
  const lines: string[] = [];
  const head = (title: string) =>
    `${title.padEnd(30)}${"events".padStart(7)}   ${DETECTORS.map((d) => `${d === "rules" ? "rules only" : d === "model" ? "model only" : "combined"}`.padEnd(15)).join("")}`;
  lines.push(head("attack (variant)").trimEnd());
  lines.push(
    `${"".padEnd(30)}${"".padStart(7)}   ${DETECTORS.map(() => "recall  prec   ").join("")}`.trimEnd(),
  );
  for (const row of report.attacks) {
    const name =
      row.attack === "all"
        ? "all attacks"
        : `${row.attack} (${row.variant === "all" ? "both" : row.variant})`;
    lines.push(
      `${name.padEnd(30)}${String(row.events).padStart(7)}   ${DETECTORS.map((d) => `${pct(row.recall[d])}  ${pct(row.precision[d])}   `).join("")}`.trimEnd(),
    );
  }
  lines.push("");
  lines.push(
    `${"legitimate traffic".padEnd(30)}${"events".padStart(7)}   ${DETECTORS.map(() => "false pos.     ").join("")}`.trimEnd(),
  );
  for (const row of report.legit) {
    const name = row.kind === "all" ? "all legitimate" : row.kind.replaceAll("_", " ");
    lines.push(
      `${name.padEnd(30)}${String(row.events).padStart(7)}   ${DETECTORS.map((d) => `${pct(row.rate[d])}          `).join("")}`.trimEnd(),
    );
  }
  return lines.join("\n");
}

/** Combined actions per scenario, as a small matrix. */
export function formatActionsByType(report: QualityReport): string {
  const lines = [`${"scenario".padEnd(14)}${ACTIONS.map((a) => a.padStart(16)).join("")}`];
  for (const type of EVENT_TYPES) {
    const counts = report.actionsByType[type];
    lines.push(`${type.padEnd(14)}${ACTIONS.map((a) => String(counts[a]).padStart(16)).join("")}`);
  }
  return lines.join("\n");
}

/** The `limit` rules with the most hits, with how many hits fell on attack and legitimate events. */
export function formatTopRules(report: QualityReport, limit = 10): string {
  const lines = [`${"rule".padEnd(34)}${"hits".padStart(7)}${"attack".padStart(9)}${"legit".padStart(8)}`];
  for (const rule of report.rules.slice(0, limit)) {
    const name = rule.shadow ? `${rule.id} (shadow)` : rule.id;
    lines.push(
      `${name.padEnd(34)}${String(rule.hits).padStart(7)}${String(rule.onAttacks).padStart(9)}${String(rule.onLegit).padStart(8)}`,
    );
  }
  if (report.rules.length === 0) lines.push("(no rule hit)");
  return lines.join("\n");
}
