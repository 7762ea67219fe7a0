import type { Outcome } from "#shared/domain/backtest/outcomes";
import type { Action } from "#shared/domain/decision/action";
import type { EventType } from "#shared/domain/event/index";

/**
 * The counts a backtest gathers, as plain JSON so that slices counted in worker threads or Lambda
 * invocations merge into one ({@link mergeTallies}). Pure.
 */

/** The slice of a decision a backtest compares. */
export interface ComparedDecision {
  readonly action: Action;
  readonly ruleHits: ReadonlyArray<{ readonly id: string; readonly shadow: boolean }>;
}

/** One event decided both ways. */
export interface Comparison {
  readonly eventId: string;
  readonly type: EventType;
  readonly before: ComparedDecision;
  readonly after: ComparedDecision;
  /** The event's known outcome, when labelled. */
  readonly outcome?: Outcome;
  /**
   * Stored-vector path: the action the pipeline stored, to report decisions the configuration in
   * force would now decide differently (it changed during the period).
   */
  readonly stored?: Action;
  /** Stored-vector path: whether the stored vector came from another feature set than the one in force. */
  readonly otherFeatureVersion?: boolean;
}

/** Examples kept per scenario and transition. */
export const EXAMPLES_PER_TRANSITION = 5;

/** What was read and what became of it. */
export interface RecordCounts {
  /** Archived records (or file lines) read, copies included. */
  read: number;
  /** Copies of one record in two archive objects (a re-written batch), counted once. */
  copies: number;
  /** Records the decoder refuses, by reason (quarantined live too). */
  quarantined: Record<string, number>;
  /** Re-sent events: a later record of an eventId already decided. */
  resent: number;
  /** Decodable events with no stored decision (stored-vector path). */
  withoutDecision: number;
}

/** Everything a backtest counts; merge with {@link mergeTallies}. */
export interface BacktestTally {
  records: RecordCounts;
  /** Events decided both ways. */
  compared: number;
  /** Of those, events whose action differs. */
  changed: number;
  /** Events per scenario and `from>to` action pair (unchanged pairs included). */
  transitions: Record<string, Record<string, number>>;
  /** Up to {@link EXAMPLES_PER_TRANSITION} eventIds per scenario and changed pair (smallest ids). */
  examples: Record<string, Record<string, string[]>>;
  /** Hits per rule (`id` or `id (shadow)`), before and after. */
  ruleHits: Record<string, { before: number; after: number }>;
  /** Labelled events per `label/category`, scenario and `from>to` pair. */
  outcomes: Record<string, Record<string, Record<string, number>>>;
  /** Stored decisions whose action differs from the configuration in force on the same vector. */
  storedDiffers: number;
  /** Stored vectors computed by another feature set than the one in force. */
  otherFeatureVersion: number;
  /** Every compared event's actions, when asked for ({@link emptyTally}`(true)`): `--decisions-out`. */
  events?: EventActions[];
}

/** One compared event's actions before and after. */
export interface EventActions {
  readonly eventId: string;
  readonly type: EventType;
  readonly before: Action;
  readonly after: Action;
  /** Rules that hit with the candidate (`id` or `id (shadow)`). */
  readonly afterRules: readonly string[];
}

/** A tally with nothing counted; with `collectEvents`, it also lists every compared event. */
export function emptyTally(collectEvents = false): BacktestTally {
  return {
    ...(collectEvents ? { events: [] } : {}),
    records: { read: 0, copies: 0, quarantined: {}, resent: 0, withoutDecision: 0 },
    compared: 0,
    changed: 0,
    transitions: {},
    examples: {},
    ruleHits: {},
    outcomes: {},
    storedDiffers: 0,
    otherFeatureVersion: 0,
  };
}

/** `card_testing` or `card_testing (shadow)`. */
export function ruleKey(hit: { readonly id: string; readonly shadow: boolean }): string {
  return hit.shadow ? `${hit.id} (shadow)` : hit.id;
}

/** The key of an outcome group: `fraud/card_testing`. */
export function outcomeKey(outcome: Outcome): string {
  return `${outcome.label}/${outcome.category}`;
}

const bump = (record: Record<string, number>, key: string, by = 1) => {
  record[key] = (record[key] ?? 0) + by;
};

/** The value at `key`, created with `make` when absent. */
export function entry<T>(record: Record<string, T>, key: string, make: () => T): T {
  let value = record[key];
  if (value === undefined) {
    value = make();
    record[key] = value;
  }
  return value;
}

const obj = <T>(): Record<string, T> => ({});
const noHits = () => ({ before: 0, after: 0 });

function keepExamples(list: string[], more: readonly string[]): string[] {
  return [...new Set([...list, ...more])].sort().slice(0, EXAMPLES_PER_TRANSITION);
}

/** Counts one event decided both ways. */
export function addComparison(tally: BacktestTally, c: Comparison): void {
  tally.compared++;
  const pair = `${c.before.action}>${c.after.action}`;
  const byType = entry(tally.transitions, c.type, obj<number>);
  bump(byType, pair);
  if (c.before.action !== c.after.action) {
    tally.changed++;
    const examples = entry(tally.examples, c.type, obj<string[]>);
    examples[pair] = keepExamples(examples[pair] ?? [], [c.eventId]);
  }
  for (const hit of c.before.ruleHits) entry(tally.ruleHits, ruleKey(hit), noHits).before++;
  for (const hit of c.after.ruleHits) entry(tally.ruleHits, ruleKey(hit), noHits).after++;
  if (c.outcome)
    bump(
      entry(entry(tally.outcomes, outcomeKey(c.outcome), obj<Record<string, number>>), c.type, obj<number>),
      pair,
    );
  tally.events?.push({
    eventId: c.eventId,
    type: c.type,
    before: c.before.action,
    after: c.after.action,
    afterRules: c.after.ruleHits.map(ruleKey),
  });
  if (c.stored !== undefined && c.stored !== c.before.action) tally.storedDiffers++;
  if (c.otherFeatureVersion) tally.otherFeatureVersion++;
}

/** Counts a record the decoder refuses. */
export function addQuarantined(tally: BacktestTally, reason: string): void {
  bump(tally.records.quarantined, reason);
}

/** The sum of several tallies (slices of one backtest); events listed when any slice lists them. */
export function mergeTallies(tallies: readonly BacktestTally[]): BacktestTally {
  const out = emptyTally(tallies.some((t) => t.events !== undefined));
  for (const t of tallies) {
    if (t.events) out.events?.push(...t.events);
    out.records.read += t.records.read;
    out.records.copies += t.records.copies;
    out.records.resent += t.records.resent;
    out.records.withoutDecision += t.records.withoutDecision;
    for (const [reason, n] of Object.entries(t.records.quarantined)) bump(out.records.quarantined, reason, n);
    out.compared += t.compared;
    out.changed += t.changed;
    out.storedDiffers += t.storedDiffers;
    out.otherFeatureVersion += t.otherFeatureVersion;
    for (const [type, pairs] of Object.entries(t.transitions)) {
      const into = entry(out.transitions, type, obj<number>);
      for (const [pair, n] of Object.entries(pairs)) bump(into, pair, n);
    }
    for (const [type, pairs] of Object.entries(t.examples)) {
      const into = entry(out.examples, type, obj<string[]>);
      for (const [pair, ids] of Object.entries(pairs)) into[pair] = keepExamples(into[pair] ?? [], ids);
    }
    for (const [rule, hits] of Object.entries(t.ruleHits)) {
      const into = entry(out.ruleHits, rule, noHits);
      into.before += hits.before;
      into.after += hits.after;
    }
    for (const [group, byType] of Object.entries(t.outcomes)) {
      const intoGroup = entry(out.outcomes, group, obj<Record<string, number>>);
      for (const [type, pairs] of Object.entries(byType)) {
        const into = entry(intoGroup, type, obj<number>);
        for (const [pair, n] of Object.entries(pairs)) bump(into, pair, n);
      }
    }
  }
  return out;
}
