import type { CelInput } from "@bufbuild/cel";
import { type Action, actionRank, severityRank, strongerAction } from "#shared/domain/decision/action";
import type {
  DecisionVersions,
  EngineDecision,
  ListHit,
  RuleError,
  RuleHit,
} from "#shared/domain/decision/decision";
import type { ListIndex } from "#shared/domain/decision/lists/list-index";
import { ALLOW_LIST, BLOCK_LIST, type ListKind } from "#shared/domain/decision/lists/list-schema";
import {
  type CompiledModel,
  type Contribution,
  type ModelInput,
  topContributions,
} from "#shared/domain/decision/model/compile-model";
import type { ScenarioPolicy } from "#shared/domain/decision/policy/policy-schema";
import { resolvePolicies } from "#shared/domain/decision/policy/policy-schema";
import { bandFor, type PolicyVerdict } from "#shared/domain/decision/policy/resolve-action";
import { eventInput, featuresInput } from "#shared/domain/decision/rules/cel-input";
import type { RuleView } from "#shared/domain/decision/rules/compile-cel";
import type { CompiledRuleset } from "#shared/domain/decision/rules/compile-ruleset";
import { type CleanEvent, EVENT_TYPES, type EventType, minorUnits } from "#shared/domain/event/index";

/** The compiled configuration an engine decides with; every part is optional. */
export interface EngineParts {
  readonly rules?: { readonly version: number | null; readonly ruleset: CompiledRuleset };
  readonly lists?: { readonly version: number | null; readonly index: ListIndex };
  readonly model?: { readonly active: CompiledModel; readonly shadow?: CompiledModel };
}

/** One event to decide, with the features computed for it. */
export interface DecisionInput {
  readonly event: CleanEvent;
  /**
   * The feature vector (`FeatureVector` fits): values by id, null when unknown, its version, and
   * the ids the event was too late for (their value is null; see "Late events" in
   * docs/decision-engine.md). Without `late`, no feature is late.
   */
  readonly features: {
    readonly version: string | null;
    readonly values: Readonly<Record<string, number | null | undefined>>;
    readonly late?: readonly string[];
  };
}

/** Reason code of a decision that a failed rule's onError (hit or review) acted on. */
export const RULE_ERROR_REASON = "RULE_ERROR";
/** Reason code of a decision that needed a feature the event was too late for. */
export const LATE_EVENT_REASON = "LATE_EVENT";

/** Tuning of the engine's output. */
export interface EngineOptions {
  /** Model contributions kept in a decision. Default 5. */
  readonly contributions?: number;
  /** Model reason codes added to the reasons when the score falls in a non-pass band. Default 3. */
  readonly modelReasons?: number;
}

const NO_RULES_POLICIES = resolvePolicies(undefined);

/** A model's output as the engine uses it: the score and its largest contributions. */
interface Scored {
  readonly score: number;
  /** The largest positive contributions, largest first (as many as the engine keeps or needs). */
  readonly top: readonly Contribution[];
}

/** An action a failed rule's onError contributes (hit: the rule's action; review). */
interface ErrorAction {
  readonly action: Action;
  readonly shadow: boolean;
  readonly reason: string | undefined;
}

/** The list pairs of one scenario: the policy's kinds, by slot of the engine's pair table. */
interface ScenarioLists {
  readonly block: readonly { readonly kind: ListKind; readonly slot: number }[];
  readonly allow: readonly { readonly kind: ListKind; readonly slot: number }[];
}

/** The value of an event a list kind is looked up by (listSubject's, without building one). */
function subjectValue(event: CleanEvent, kind: ListKind): string | undefined {
  switch (kind) {
    case "user":
      return event.userId;
    case "device":
      return event.deviceId;
    case "ip":
      return event.ip;
    case "card":
      return event.type === "payment" ? event.cardFingerprint : undefined;
    case "phone":
      return event.phone;
    case "emailDomain": {
      const at = event.email?.lastIndexOf("@") ?? -1;
      return event.email !== undefined && at >= 0 ? event.email.slice(at + 1) : undefined;
    }
  }
}

/**
 * Decides events with one configuration: built once per configuration version (compiling is the
 * expensive part and happens before), then called per batch. Pure and synchronous: the caller
 * passes `now` (epoch ms) for list expiry, so the same inputs always give the same decision.
 *
 * The hot path (docs/decision-engine.md, "Speed"): rules run as compiled closures over one reused
 * view of the event (their CEL inputs are built only for a rule that defers to the interpreter),
 * each list pair is looked up at most once per event and not at all for a kind a list has no entry
 * of, and the model builds only the contributions a decision keeps.
 */
export class DecisionEngine {
  private readonly contributionCount: number;
  private readonly modelReasonCount: number;
  /** Feature ids the active model reads, and the model of the shadow outcome (challenger, else active). */
  private readonly modelReads: { readonly active: ReadonlySet<string>; readonly shadow: ReadonlySet<string> };
  /** Every (list, kind) pair the policies and rules read, by slot, with its matcher (none: no entry). */
  private readonly pairs: {
    readonly name: string;
    readonly kind: ListKind;
    readonly match: ((value: string | undefined, now: number) => string | undefined) | undefined;
  }[] = [];
  /** The slot of each of the ruleset's list slots in `pairs`. */
  private readonly ruleSlots: readonly number[];
  private readonly scenarioLists: Readonly<Record<EventType, ScenarioLists>>;
  /** Per-event scratch (decide is synchronous and not reentrant): list entries by pair slot. */
  private readonly entries: (string | undefined)[];
  /** The view compiled conditions read, refreshed per event. */
  private readonly view: RuleView & { lists: boolean[] };
  /** Contributions the model must produce: enough for the decision and for its reasons. */
  private readonly topCount: number;
  /** The model's input, refreshed per event. */
  private readonly modelInput: { event: CleanEvent; eventMs: number; features: ModelInput["features"] } = {
    event: undefined as unknown as CleanEvent,
    eventMs: 0,
    features: {},
  };
  /** The versions of the last decision (shared by decisions with the same feature version). */
  private versions: DecisionVersions | undefined;

  constructor(
    readonly parts: EngineParts,
    options: EngineOptions = {},
  ) {
    this.contributionCount = options.contributions ?? 5;
    this.modelReasonCount = options.modelReasons ?? 3;
    this.topCount = Math.max(this.contributionCount, this.modelReasonCount);
    const active = new Set(parts.model?.active.features ?? []);
    const shadow = parts.model?.shadow ? new Set(parts.model.shadow.features) : active;
    this.modelReads = { active, shadow };

    const slotOf = new Map<string, number>();
    const slot = (name: string, kind: ListKind): number => {
      const key = `${name}.${kind}`;
      let s = slotOf.get(key);
      if (s === undefined) {
        s = this.pairs.length;
        slotOf.set(key, s);
        this.pairs.push({ name, kind, match: parts.lists?.index.matcher(name, kind) });
      }
      return s;
    };
    const ruleset = parts.rules?.ruleset;
    const policies = ruleset?.policies ?? NO_RULES_POLICIES;
    const scenarioLists = {} as Record<EventType, ScenarioLists>;
    for (const type of EVENT_TYPES) {
      const policy = policies[type];
      scenarioLists[type] = {
        block: policy.blockList.map((kind) => ({ kind, slot: slot(BLOCK_LIST, kind) })),
        allow: policy.allowList.map((kind) => ({ kind, slot: slot(ALLOW_LIST, kind) })),
      };
    }
    this.scenarioLists = scenarioLists;
    this.ruleSlots = (ruleset?.listSlots ?? []).map((p) => slot(p.name, p.kind));
    for (const p of ruleset?.lists ?? []) slot(p.name, p.kind);
    this.entries = new Array(this.pairs.length).fill(undefined);
    this.view = {
      event: undefined as unknown as CleanEvent,
      eventMs: 0,
      amountMinor: undefined,
      emailDomain: undefined,
      features: {},
      lists: new Array(this.ruleSlots.length).fill(false),
      score: null,
    };
  }

  /** Decides every event of a batch at the same evaluation time. */
  decideBatch(inputs: readonly DecisionInput[], now: number): EngineDecision[] {
    const out = new Array<EngineDecision>(inputs.length);
    for (let i = 0; i < inputs.length; i++) out[i] = this.decide(inputs[i] as DecisionInput, now);
    return out;
  }

  /** Scores with a model: its fast path when it has one, else `score` and `topContributions`. */
  private scoreWith(model: CompiledModel, input: ModelInput): Scored {
    if (model.scoreTop) return model.scoreTop(input, this.topCount);
    const s = model.score(input);
    return { score: s.score, top: topContributions(s.contributions, this.topCount) };
  }

  /**
   * Decides one event. Never throws for an event: a rule failure is recorded in ruleErrors and
   * acts as its rule's onError says; a late feature the rules or model read raises the action to
   * the scenario's lateEventAction (unless a list decided) and is recorded in `late`.
   */
  decide(input: DecisionInput, now: number): EngineDecision {
    const { event } = input;
    const ruleset = this.parts.rules?.ruleset;
    const policy: ScenarioPolicy = (ruleset?.policies ?? NO_RULES_POLICIES)[event.type];
    const eventMs = Date.parse(event.occurredAt);
    const values = input.features.values;

    // Lists: each pair looked up once, and not at all for a kind without entries.
    const entries = this.entries;
    for (let s = 0; s < this.pairs.length; s++) {
      const pair = this.pairs[s] as (typeof this.pairs)[number];
      entries[s] = pair.match === undefined ? undefined : pair.match(subjectValue(event, pair.kind), now);
    }
    const lists = this.scenarioLists[event.type];
    let blockHits: ListHit[] | undefined;
    for (const { kind, slot } of lists.block) {
      const entry = entries[slot];
      if (entry === undefined) continue;
      blockHits ??= [];
      blockHits.push({ list: "block", kind, entry });
    }
    let allowHits: ListHit[] | undefined;
    for (const { kind, slot } of lists.allow) {
      const entry = entries[slot];
      if (entry === undefined) continue;
      allowHits ??= [];
      allowHits.push({ list: "allow", kind, entry });
    }

    // Models.
    const model = this.parts.model;
    const modelInput = this.modelInput;
    modelInput.event = event;
    modelInput.eventMs = eventMs;
    modelInput.features = values;
    const active = model ? this.scoreWith(model.active, modelInput) : undefined;
    const challenger = model?.shadow ? this.scoreWith(model.shadow, modelInput) : undefined;
    const score = active?.score ?? null;

    // Rules: compiled conditions on the shared view; a rule that defers (or is not compiled) runs on
    // the interpreter with the CEL inputs, built once for the event when first needed.
    let hits: RuleHit[] = NO_RULE_HITS;
    let errors: RuleError[] | undefined;
    let errorActions: ErrorAction[] | undefined;
    const rules = ruleset?.byScenario[event.type];
    if (rules !== undefined && rules.length > 0 && ruleset) {
      const view = this.view;
      view.event = event;
      view.eventMs = eventMs;
      view.amountMinor =
        event.type === "order" || event.type === "payment"
          ? minorUnits({ amount: event.amount, currency: event.currency })
          : undefined;
      view.emailDomain =
        event.email === undefined ? undefined : event.email.slice(event.email.lastIndexOf("@") + 1);
      view.features = values;
      view.score = score;
      for (let i = 0; i < this.ruleSlots.length; i++)
        view.lists[i] = entries[this.ruleSlots[i] as number] !== undefined;
      let activation: Record<string, CelInput> | undefined;
      for (const compiled of rules) {
        const rule = compiled.rule;
        const fast = compiled.condition?.(view);
        let hit: boolean;
        if (fast === true || fast === false) hit = fast;
        else {
          activation ??= this.activation(input, entries, score);
          const outcome = compiled.evaluate(activation);
          if (!outcome.ok) {
            const shadow = rule.mode === "shadow";
            const { message, line, column } = outcome;
            const onError = compiled.onError;
            errors ??= [];
            errors.push({
              id: rule.id,
              version: rule.version ?? null,
              shadow,
              message,
              line,
              column,
              onError,
            });
            if (onError === "hit" || onError === "review") {
              errorActions ??= [];
              errorActions.push(
                onError === "hit"
                  ? { action: rule.action, shadow, reason: compiled.reason }
                  : { action: "review", shadow, reason: undefined },
              );
            }
            continue;
          }
          hit = outcome.hit;
        }
        if (hit) {
          if (hits === NO_RULE_HITS) hits = [];
          hits.push({
            id: rule.id,
            version: rule.version ?? null,
            action: rule.action,
            severity: rule.severity,
            reason: compiled.reason,
            shadow: rule.mode === "shadow",
          });
        }
      }
      if (hits.length > 1) sortHits(hits);
    }

    // Late features: those the decision needed (read by the scenario's rules or the model).
    const late = input.features.late;
    let lateActive: string[] | undefined;
    let lateShadow: string[] | undefined;
    if (late !== undefined && late.length > 0) {
      const reads = ruleset?.featureReads[event.type];
      lateActive = late.filter((id) => reads?.active.has(id) || this.modelReads.active.has(id));
      lateShadow = late.filter((id) => reads?.all.has(id) || this.modelReads.shadow.has(id));
    }
    const lateRead = lateActive !== undefined && lateActive.length > 0;
    const lateShadowRead = lateShadow !== undefined && lateShadow.length > 0;

    let anyShadowHit = false;
    for (const h of hits) if (h.shadow) anyShadowHit = true;
    const activeHits = anyShadowHit ? hits.filter((h) => !h.shadow) : hits;
    const allErrors = errorActions ?? NONE;
    const activeErrors = errorActions === undefined ? NONE : errorActions.filter((e) => !e.shadow);
    const at: Findings = {
      policy,
      blockHits,
      allowHits,
      modelReasons: this.modelReasonCount,
    };
    const verdict = verdictOf(at, activeHits, activeErrors, score, lateRead);
    const reasons = reasonsFor(at, verdict, activeHits, activeErrors, lateRead, active, score);
    const shadowScore = challenger?.score ?? score;
    // The shadow outcome differs only with shadow hits, shadow errors, a challenger or late features
    // only shadow readers read; otherwise it is the active outcome.
    const sameShadow =
      !anyShadowHit &&
      allErrors.length === activeErrors.length &&
      challenger === undefined &&
      lateShadowRead === lateRead;
    const shadowVerdict = sameShadow ? verdict : verdictOf(at, hits, allErrors, shadowScore, lateShadowRead);
    // Decisions are read-only: the active and shadow outcomes share what is equal.
    const shadowReasons = sameShadow
      ? reasons
      : reasonsFor(at, shadowVerdict, hits, allErrors, lateShadowRead, challenger ?? active, shadowScore);
    let versions = this.versions;
    if (versions?.features !== input.features.version) {
      versions = {
        rules: this.parts.rules?.version ?? null,
        lists: this.parts.lists?.version ?? null,
        model: model?.active.version ?? null,
        shadowModel: model?.shadow?.version ?? null,
        features: input.features.version,
      };
      this.versions = versions;
    }
    return {
      action: verdict.action,
      decidedBy: verdict.decidedBy,
      score,
      ruleHits: hits,
      ruleErrors: errors ?? NO_RULE_ERRORS,
      reasons,
      contributions: active
        ? active.top.length > this.contributionCount
          ? active.top.slice(0, this.contributionCount)
          : active.top
        : [],
      listHits:
        verdict.decidedBy === "block_list"
          ? (blockHits ?? NO_HITS)
          : verdict.decidedBy === "allow_list"
            ? (allowHits ?? NO_HITS)
            : NO_HITS,
      band: verdict.band,
      shadow: { action: shadowVerdict.action, score: challenger?.score ?? null, reasons: shadowReasons },
      versions,
      ...(lateRead ? { late: { features: lateActive as string[], action: policy.lateEventAction } } : {}),
    };
  }

  /** The CEL inputs of an event, for rules that run on the interpreter. */
  private activation(
    input: DecisionInput,
    entries: readonly (string | undefined)[],
    score: number | null,
  ): Record<string, CelInput> {
    const lists = new Map<string, Map<string, CelInput>>();
    for (const { name, kind } of this.parts.rules?.ruleset.lists ?? []) {
      let kinds = lists.get(name);
      if (kinds === undefined) {
        kinds = new Map();
        lists.set(name, kinds);
      }
      const slot = this.pairs.findIndex((p) => p.name === name && p.kind === kind);
      kinds.set(kind, entries[slot] !== undefined);
    }
    const activation: Record<string, CelInput> = {
      event: eventInput(input.event),
      features: featuresInput(input.features.values),
      lists,
    };
    if (score !== null) activation.score = score;
    return activation;
  }
}

const NONE: readonly ErrorAction[] = [];
/** Shared empty arrays of decisions (decisions are read-only). */
const NO_RULE_HITS: RuleHit[] = Object.freeze([]) as unknown as RuleHit[];
const NO_RULE_ERRORS: readonly RuleError[] = Object.freeze([]);

/** What the policy and the reasons of one event read besides the rule outcomes. */
interface Findings {
  readonly policy: ScenarioPolicy;
  readonly blockHits: ListHit[] | undefined;
  readonly allowHits: ListHit[] | undefined;
  readonly modelReasons: number;
}

/** The policy's verdict on the event's lists, these rule outcomes and score, with the late floor or not. */
function verdictOf(
  at: Findings,
  ruleHits: readonly RuleHit[],
  acting: readonly ErrorAction[],
  score: number | null,
  floor: boolean,
): PolicyVerdict {
  // resolveAction's precedence, without building its findings (the engine-equivalence test holds
  // the two together).
  const band = bandFor(at.policy, score);
  if (at.blockHits !== undefined) return { action: "block", decidedBy: "block_list", band };
  if (at.allowHits !== undefined) return { action: "pass", decidedBy: "allow_list", band };
  let action: Action = strongerAction(band?.action ?? "pass", floor ? at.policy.lateEventAction : "pass");
  for (const h of ruleHits) action = strongerAction(action, h.action);
  for (const e of acting) action = strongerAction(action, e.action);
  return { action, decidedBy: "rules_and_score", band };
}

/**
 * A decision's reasons, most decisive first, each once: LATE_EVENT when the late floor alone raised
 * the action; the block list's; the rule hits'; failed rules' that acted and RULE_ERROR; LATE_EVENT
 * when late features were needed but something stronger decided; the band's and the model's top
 * reasons when the score is in a non-pass band. An allow-list pass has only the allow list's.
 */
function reasonsFor(
  at: Findings,
  v: PolicyVerdict,
  ruleHits: readonly RuleHit[],
  acting: readonly ErrorAction[],
  lateNeeded: boolean,
  modelScore: Scored | undefined,
  score: number | null,
): string[] {
  if (v.decidedBy === "allow_list") return (at.allowHits ?? NO_HITS).map(listReason);
  const lateFloor = at.policy.lateEventAction;
  const lateDecided =
    lateNeeded && actionRank(verdictOf(at, ruleHits, acting, score, false).action) < actionRank(lateFloor);
  const out: string[] = [];
  if (lateDecided) addOnce(out, LATE_EVENT_REASON);
  if (v.decidedBy === "block_list") for (const h of at.blockHits ?? NO_HITS) addOnce(out, listReason(h));
  for (const h of ruleHits) addOnce(out, h.reason);
  if (acting.length > 0) {
    for (const e of acting) if (e.reason !== undefined) addOnce(out, e.reason);
    addOnce(out, RULE_ERROR_REASON);
  }
  if (lateNeeded && !lateDecided && lateFloor !== "pass") addOnce(out, LATE_EVENT_REASON);
  if (v.band && v.band.action !== "pass") {
    addOnce(out, v.band.reason);
    if (modelScore) {
      const top = modelScore.top;
      for (let i = 0; i < top.length && i < at.modelReasons; i++)
        addOnce(out, (top[i] as Contribution).reason);
    }
  }
  return out;
}

/** Appends a reason unless it is already there (reasons are few: a scan beats a Set). */
function addOnce(out: string[], reason: string): void {
  if (!out.includes(reason)) out.push(reason);
}
const NO_HITS: readonly ListHit[] = Object.freeze([]);

/** `LIST_BLOCK_DEVICE`, `LIST_ALLOW_EMAIL_DOMAIN`. */
function listReason(hit: ListHit): string {
  const kind = hit.kind.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  return `LIST_${hit.list.toUpperCase()}_${kind}`;
}

/** Strongest action first, then highest severity, then document order (sort is stable). */
function sortHits(hits: RuleHit[]): void {
  hits.sort(
    (a, b) =>
      actionRank(b.action) - actionRank(a.action) || severityRank(b.severity) - severityRank(a.severity),
  );
}
