import { ACTIONS, type Action, strongerAction } from "#shared/domain/decision/action";
import { EVENT_TYPES, type EventType } from "#shared/domain/event/index";
import {
  ATTACK_TYPES,
  ATTACK_VARIANTS,
  type GroundTruth,
  LEGIT_KINDS,
  PASSABLE_CHALLENGES,
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
 *
 * Categories are open: the simulator's attacks and legitimate kinds come first in their own order,
 * any other names after them, alphabetically. The combined action is also split by strength
 * (review, challenge, block), so that a challenge is not counted as a block: a challenged attacker
 * may pass the challenge, and a challenged customer bears friction a block would not show.
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

/** Events of a slice by the strength of the combined action (flagged = their sum). */
export interface ActionStrength {
  readonly review: number;
  /** challenge_sms or challenge_face. */
  readonly challenged: number;
  readonly blocked: number;
}

/**
 * Customers of a slice of legitimate traffic (truth lines naming their `customer`): how many there
 * were, and how many had at least one event challenged (SMS or face) or blocked.
 */
export interface CustomerFriction {
  readonly customers: number;
  readonly challenged: number;
  readonly blocked: number;
}

/** Quality on one slice of attack traffic. */
export interface AttackRow {
  /** The attack category, or `all`. */
  readonly attack: string;
  /** The variant, `all` for both variants together, or `` for a category without variants. */
  readonly variant: string;
  readonly events: number;
  /** The slice's events by strength of the combined action. */
  readonly strength: ActionStrength;
  /**
   * Events the combined action stopped: blocked, held for review, or challenged with a challenge
   * the attack cannot pass (PASSABLE_CHALLENGES); a passable challenge is not a catch.
   */
  readonly stopped: number;
  /** Events challenged with a challenge the attack passes (counted in `strength.challenged`). */
  readonly passedChallenges: number;
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
  /** The legitimate kind (category), or `all`. */
  readonly kind: string;
  readonly events: number;
  /** The slice's events by strength of the combined action. */
  readonly strength: ActionStrength;
  /** Customers of the slice, and those challenged or blocked at least once (null without customer names). */
  readonly friction: CustomerFriction | null;
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

type Strength = { review: number; challenged: number; blocked: number };
const noStrength = (): Strength => ({ review: 0, challenged: 0, blocked: 0 });
function countStrength(into: Strength, action: Action): void {
  if (action === "review") into.review++;
  else if (action === "challenge_sms" || action === "challenge_face") into.challenged++;
  else if (action === "block") into.blocked++;
}

/** Customers seen, and those challenged or blocked at least once. */
interface CustomerSets {
  readonly all: Set<string>;
  readonly challenged: Set<string>;
  readonly blocked: Set<string>;
}
const noCustomers = (): CustomerSets => ({ all: new Set(), challenged: new Set(), blocked: new Set() });
function countCustomer(into: CustomerSets, customer: string, action: Action): void {
  into.all.add(customer);
  if (action === "challenge_sms" || action === "challenge_face") into.challenged.add(customer);
  else if (action === "block") into.blocked.add(customer);
}

/** The names present: the known ones in their order, then the others alphabetically. */
function openOrder(known: readonly string[], present: readonly string[]): string[] {
  const set = new Set(present);
  const others = [...set].filter((n) => !known.includes(n)).sort();
  return [...known.filter((n) => set.has(n)), ...others];
}

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
  const legitByKind = new Map<string, { events: number; flagged: PerDetector; strength: Strength }>();
  const customersByKind = new Map<string, CustomerSets>();
  const allCustomers = noCustomers();
  const attackSlices = new Map<
    string,
    {
      events: number;
      caught: PerDetector;
      types: Set<EventType>;
      strength: Strength;
      stopped: number;
      passed: number;
    }
  >();
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
      const byKind = legitByKind.get(t.kind) ?? { events: 0, flagged: zero(), strength: noStrength() };
      byKind.events++;
      countStrength(byKind.strength, decision.action);
      for (const d of DETECTORS) {
        if (!f[d]) continue;
        byType[d]++;
        byKind.flagged[d]++;
      }
      legitFlagsByType.set(t.type, byType);
      legitByKind.set(t.kind, byKind);
      if (t.customer !== undefined) {
        const sets = customersByKind.get(t.kind) ?? noCustomers();
        for (const into of [sets, allCustomers]) countCustomer(into, t.customer, decision.action);
        customersByKind.set(t.kind, sets);
      }
      continue;
    }
    const passable: readonly Action[] = PASSABLE_CHALLENGES[t.attack] ?? [];
    const challenged = decision.action === "challenge_sms" || decision.action === "challenge_face";
    const passed = challenged && passable.includes(decision.action);
    for (const key of [`${t.attack}/${t.variant ?? ""}`, `${t.attack}/all`, "all/all"]) {
      const slice = attackSlices.get(key) ?? {
        events: 0,
        caught: zero(),
        types: new Set<EventType>(),
        strength: noStrength(),
        stopped: 0,
        passed: 0,
      };
      slice.events++;
      if (passed) slice.passed++;
      else if (decision.action !== "pass") slice.stopped++;
      countStrength(slice.strength, decision.action);
      slice.types.add(t.type);
      for (const d of DETECTORS) if (f[d]) slice.caught[d]++;
      attackSlices.set(key, slice);
    }
  }

  const attackRow = (attack: string, variant: string): AttackRow | undefined => {
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
      strength: { ...slice.strength },
      stopped: slice.stopped,
      passedChallenges: slice.passed,
      caught: slice.caught,
      falseAlarms,
      recall: per((d) => ratio(slice.caught[d], slice.events)),
      precision: per((d) => ratio(slice.caught[d], slice.caught[d] + falseAlarms[d])),
    };
  };
  const attacks: AttackRow[] = [];
  const sliceNames = [...attackSlices.keys()].map((k) => k.split("/") as [string, string]);
  const attackNames = openOrder(
    ATTACK_TYPES,
    sliceNames.map(([a]) => a).filter((a) => a !== "all"),
  );
  for (const attack of attackNames) {
    const variants = openOrder(
      ["", ...ATTACK_VARIANTS],
      sliceNames.filter(([a, v]) => a === attack && v !== "all").map(([, v]) => v),
    );
    for (const variant of variants) {
      const row = attackRow(attack, variant);
      if (row) attacks.push(row);
    }
    const both = attackRow(attack, "all");
    if (both && attacks.filter((r) => r.attack === attack).length > 1) attacks.push(both);
  }
  const all = attackRow("all", "all");
  if (all) attacks.push(all);

  const legitRow = (
    kind: string,
    events: number,
    flagged: PerDetector,
    strength: Strength,
    customers: CustomerSets | undefined,
  ): LegitRow => ({
    kind,
    events,
    strength: { ...strength },
    friction:
      customers && customers.all.size > 0
        ? {
            customers: customers.all.size,
            challenged: customers.challenged.size,
            blocked: customers.blocked.size,
          }
        : null,
    flagged,
    rate: Object.fromEntries(DETECTORS.map((d) => [d, ratio(flagged[d], events)])) as Record<
      Detector,
      number | null
    >,
  });
  const legit: LegitRow[] = [];
  const total = { events: 0, flagged: zero(), strength: noStrength() };
  for (const kind of openOrder(LEGIT_KINDS, [...legitByKind.keys()])) {
    const row = legitByKind.get(kind);
    if (!row) continue;
    legit.push(legitRow(kind, row.events, row.flagged, row.strength, customersByKind.get(kind)));
    total.events += row.events;
    for (const d of DETECTORS) total.flagged[d] += row.flagged[d];
    total.strength.review += row.strength.review;
    total.strength.challenged += row.strength.challenged;
    total.strength.blocked += row.strength.blocked;
  }
  if (total.events > 0)
    legit.push(legitRow("all", total.events, total.flagged, total.strength, allCustomers));

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
    const name = attackName(row);
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

/** How a row is named in the tables: `card_testing (burst)`, `card_testing (both)`, `all attacks`. */
function attackName(row: AttackRow): string {
  if (row.attack === "all") return "all attacks";
  if (row.variant === "") return row.attack;
  return `${row.attack} (${row.variant === "all" ? "both" : row.variant})`;
}

/**
 * The combined action by strength: per attack slice and kind of legitimate traffic, the share of
 * events flagged, and of them reviewed, challenged (SMS or face) and blocked.
 */
export function formatStrengthTable(report: QualityReport): string {
  const lines: string[] = [];
  const head = `${"events".padStart(7)}   ${"flagged".padStart(8)}${"review".padStart(9)}${"challenged".padStart(12)}${"blocked".padStart(9)}`;
  const cells = (events: number, s: ActionStrength) => {
    const flagged = s.review + s.challenged + s.blocked;
    return `${String(events).padStart(7)}   ${pct(ratio(flagged, events)).padStart(8)}${pct(ratio(s.review, events)).padStart(9)}${pct(ratio(s.challenged, events)).padStart(12)}${pct(ratio(s.blocked, events)).padStart(9)}`;
  };
  lines.push(`${"attack (variant)".padEnd(30)}${head}`);
  for (const row of report.attacks)
    lines.push(`${attackName(row).padEnd(30)}${cells(row.events, row.strength)}`);
  lines.push("");
  lines.push(`${"legitimate traffic".padEnd(30)}${head}`);
  for (const row of report.legit) {
    const name = row.kind === "all" ? "all legitimate" : row.kind.replaceAll("_", " ");
    lines.push(`${name.padEnd(30)}${cells(row.events, row.strength)}`);
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

/**
 * Friction and stopping power of the combined action. Per kind of legitimate traffic: events
 * challenged or blocked (% of events) and customers challenged or blocked at least once (count
 * and % of the kind's customers). Per attack slice: events caught by block, by review, by a
 * challenge the attack cannot pass, events challenged with one it passes (not a catch), and
 * stopped = all but the passed challenges and passes (% of events).
 */
export function formatFrictionTable(report: QualityReport): string {
  const lines: string[] = [];
  lines.push(
    `${"legitimate traffic".padEnd(30)}${"events".padStart(7)}${"chall.%".padStart(9)}${"block%".padStart(8)}${"customers".padStart(11)}${"challenged".padStart(13)}${"blocked".padStart(12)}`,
  );
  for (const row of report.legit) {
    const name = row.kind === "all" ? "all legitimate" : row.kind.replaceAll("_", " ");
    const f = row.friction;
    const people = (n: number) => (f ? `${n} (${pct(ratio(n, f.customers)).trim()}%)` : "–");
    lines.push(
      `${name.padEnd(30)}${String(row.events).padStart(7)}${pct(ratio(row.strength.challenged, row.events)).padStart(9)}${pct(ratio(row.strength.blocked, row.events)).padStart(8)}${(f ? String(f.customers) : "–").padStart(11)}${(f ? people(f.challenged) : "–").padStart(13)}${(f ? people(f.blocked) : "–").padStart(12)}`,
    );
  }
  lines.push("");
  lines.push(
    `${"attack (variant)".padEnd(30)}${"events".padStart(7)}${"block".padStart(8)}${"review".padStart(8)}${"chall.".padStart(8)}${"passed".padStart(8)}${"stopped".padStart(9)}   passes`,
  );
  for (const row of report.attacks) {
    const held = row.strength.challenged - row.passedChallenges;
    const passes = row.attack === "all" ? "" : (PASSABLE_CHALLENGES[row.attack] ?? []).join(", ") || "none";
    lines.push(
      `${attackName(row).padEnd(30)}${String(row.events).padStart(7)}${pct(ratio(row.strength.blocked, row.events)).padStart(8)}${pct(ratio(row.strength.review, row.events)).padStart(8)}${pct(ratio(held, row.events)).padStart(8)}${pct(ratio(row.passedChallenges, row.events)).padStart(8)}${pct(ratio(row.stopped, row.events)).padStart(9)}   ${passes}`.trimEnd(),
    );
  }
  return lines.join("\n");
}
