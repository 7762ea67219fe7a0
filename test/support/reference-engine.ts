/**
 * The decision engine as it was before its hot path was optimized (issue 15, item 7), kept verbatim
 * apart from this comment and its name: every rule on Buf's CEL interpreter, every model term through
 * `score()`. test/unit/decision/engine-equivalence.test.ts requires the optimized engine to give deeply
 * equal decisions on random inputs.
 */
import type { CelInput } from "@bufbuild/cel";
import { type Action, actionRank, severityRank } from "#shared/domain/decision/action";
import type {
  DecisionVersions,
  EngineDecision,
  ListHit,
  RuleError,
  RuleHit,
} from "#shared/domain/decision/decision";
import { type ListIndex, listSubject } from "#shared/domain/decision/lists/list-index";
import { ALLOW_LIST, BLOCK_LIST, type ListKind } from "#shared/domain/decision/lists/list-schema";
import {
  type CompiledModel,
  type ModelScore,
  topContributions,
} from "#shared/domain/decision/model/compile-model";
import type { ScenarioPolicy } from "#shared/domain/decision/policy/policy-schema";
import { resolvePolicies } from "#shared/domain/decision/policy/policy-schema";
import { resolveAction } from "#shared/domain/decision/policy/resolve-action";
import { eventInput, featuresInput } from "#shared/domain/decision/rules/cel-input";
import type { CompiledRuleset } from "#shared/domain/decision/rules/compile-ruleset";
import type { CleanEvent } from "#shared/domain/event/index";

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

/**
 * Decides events with one configuration: built once per configuration version (compiling is the
 * expensive part and happens before), then called per batch. Pure and synchronous: the caller
 * passes `now` (epoch ms) for list expiry, so the same inputs always give the same decision.
 */
export class ReferenceEngine {
  private readonly contributionCount: number;
  private readonly modelReasonCount: number;
  /** Feature ids the active model reads, and the model of the shadow outcome (challenger, else active). */
  private readonly modelReads: { readonly active: ReadonlySet<string>; readonly shadow: ReadonlySet<string> };

  constructor(
    readonly parts: EngineParts,
    options: EngineOptions = {},
  ) {
    this.contributionCount = options.contributions ?? 5;
    this.modelReasonCount = options.modelReasons ?? 3;
    const active = new Set(parts.model?.active.features ?? []);
    const shadow = parts.model?.shadow ? new Set(parts.model.shadow.features) : active;
    this.modelReads = { active, shadow };
  }

  /** Decides every event of a batch at the same evaluation time. */
  decideBatch(inputs: readonly DecisionInput[], now: number): EngineDecision[] {
    return inputs.map((input) => this.decide(input, now));
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

    // Lists: the policy's kinds and every pair a rule reads, looked up once.
    const subject = listSubject(event);
    const index = this.parts.lists?.index;
    // The policy and the rules often ask the same (list, kind): look each up once per event.
    const seen = new Map<string, string | undefined>();
    const match = (name: string, kind: ListKind): string | undefined => {
      if (index === undefined) return undefined;
      const key = `${name}.${kind}`;
      if (seen.has(key)) return seen.get(key);
      const entry = index.match(name, kind, subject, now);
      seen.set(key, entry);
      return entry;
    };
    const blockHits: ListHit[] = [];
    for (const kind of policy.blockList) {
      const entry = match(BLOCK_LIST, kind);
      if (entry !== undefined) blockHits.push({ list: "block", kind, entry });
    }
    const allowHits: ListHit[] = [];
    for (const kind of policy.allowList) {
      const entry = match(ALLOW_LIST, kind);
      if (entry !== undefined) allowHits.push({ list: "allow", kind, entry });
    }

    // Models.
    const modelInput = { event, eventMs, features: input.features.values };
    const active: ModelScore | undefined = this.parts.model?.active.score(modelInput);
    const challenger: ModelScore | undefined = this.parts.model?.shadow?.score(modelInput);
    const score = active?.score ?? null;

    // Rules. A failed evaluation is recorded, and its onError says what it means.
    const hits: RuleHit[] = [];
    const errors: RuleError[] = [];
    /** Actions of failed rules whose onError acts (hit: the rule's action; review). */
    const errorActions: { action: Action; shadow: boolean; reason: string | undefined }[] = [];
    const rules = ruleset?.byScenario[event.type] ?? [];
    if (rules.length > 0 && ruleset) {
      const lists = new Map<string, Map<string, CelInput>>();
      for (const { name, kind } of ruleset.lists) {
        let kinds = lists.get(name);
        if (kinds === undefined) {
          kinds = new Map();
          lists.set(name, kinds);
        }
        kinds.set(kind, match(name, kind) !== undefined);
      }
      const activation: Record<string, CelInput> = {
        event: eventInput(event),
        features: featuresInput(input.features.values),
        lists,
      };
      if (score !== null) activation.score = score;
      for (const compiled of rules) {
        const rule = compiled.rule;
        const shadow = rule.mode === "shadow";
        const outcome = compiled.evaluate(activation);
        if (!outcome.ok) {
          const { message, line, column } = outcome;
          const onError = compiled.onError;
          errors.push({ id: rule.id, version: rule.version ?? null, shadow, message, line, column, onError });
          if (onError === "hit") errorActions.push({ action: rule.action, shadow, reason: compiled.reason });
          else if (onError === "review") errorActions.push({ action: "review", shadow, reason: undefined });
        } else if (outcome.hit) {
          hits.push({
            id: rule.id,
            version: rule.version ?? null,
            action: rule.action,
            severity: rule.severity,
            reason: compiled.reason,
            shadow,
          });
        }
      }
      sortHits(hits);
    }

    // Late features: those the decision needed (read by the scenario's rules or the model).
    const late = input.features.late;
    let lateActive: string[] = [];
    let lateShadow: string[] = [];
    if (late !== undefined && late.length > 0) {
      const reads = ruleset?.featureReads[event.type];
      lateActive = late.filter((id) => reads?.active.has(id) || this.modelReads.active.has(id));
      lateShadow = late.filter((id) => reads?.all.has(id) || this.modelReads.shadow.has(id));
    }

    const activeHits = hits.filter((h) => !h.shadow);
    // Failures are rare: no extra arrays on the common path.
    const activeErrors = errorActions.length === 0 ? errorActions : errorActions.filter((e) => !e.shadow);
    const lateFloor = policy.lateEventAction;
    const findings = (ruleHits: readonly RuleHit[], acting: typeof errorActions, s: number | null) => ({
      blockListed: blockHits.length > 0,
      allowListed: allowHits.length > 0,
      ruleActions:
        acting.length === 0
          ? ruleHits.map((h) => h.action)
          : [...ruleHits.map((h) => h.action), ...acting.map((e) => e.action)],
      score: s,
    });
    const verdict = resolveAction(policy, {
      ...findings(activeHits, activeErrors, score),
      ...(lateActive.length > 0 ? { floor: lateFloor } : {}),
    });
    const modelReasons = (s: ModelScore | undefined) =>
      s ? topContributions(s.contributions, this.modelReasonCount).map((c) => c.reason) : [];
    const reasonsFor = (
      v: typeof verdict,
      ruleHits: readonly RuleHit[],
      acting: typeof errorActions,
      lateRead: boolean,
      modelScore: ModelScore | undefined,
      s: number | null,
    ): string[] => {
      if (v.decidedBy === "allow_list") return allowHits.map((h) => listReason(h));
      const errorReasons: string[] = [];
      if (acting.length > 0) {
        for (const e of acting) if (e.reason !== undefined) errorReasons.push(e.reason);
        errorReasons.push(RULE_ERROR_REASON);
      }
      // The late floor is the most decisive reason when it alone raised the action.
      const lateDecided =
        lateRead &&
        actionRank(resolveAction(policy, findings(ruleHits, acting, s)).action) < actionRank(lateFloor);
      const out = [
        ...(lateDecided ? [LATE_EVENT_REASON] : []),
        ...(v.decidedBy === "block_list" ? blockHits.map((h) => listReason(h)) : []),
        ...ruleHits.map((h) => h.reason),
        ...errorReasons,
        ...(lateRead && !lateDecided && lateFloor !== "pass" ? [LATE_EVENT_REASON] : []),
      ];
      if (v.band && v.band.action !== "pass") out.push(v.band.reason, ...modelReasons(modelScore));
      return [...new Set(out)];
    };

    const shadowScore = challenger?.score ?? score;
    const shadowVerdict = resolveAction(policy, {
      ...findings(hits, errorActions, shadowScore),
      ...(lateShadow.length > 0 ? { floor: lateFloor } : {}),
    });
    const versions: DecisionVersions = {
      rules: this.parts.rules?.version ?? null,
      lists: this.parts.lists?.version ?? null,
      model: this.parts.model?.active.version ?? null,
      shadowModel: this.parts.model?.shadow?.version ?? null,
      features: input.features.version,
    };
    return {
      action: verdict.action,
      decidedBy: verdict.decidedBy,
      score,
      ruleHits: hits,
      ruleErrors: errors,
      reasons: reasonsFor(verdict, activeHits, activeErrors, lateActive.length > 0, active, score),
      contributions: active ? topContributions(active.contributions, this.contributionCount) : [],
      listHits:
        verdict.decidedBy === "block_list" ? blockHits : verdict.decidedBy === "allow_list" ? allowHits : [],
      band: verdict.band,
      shadow: {
        action: shadowVerdict.action,
        score: challenger?.score ?? null,
        reasons: reasonsFor(
          shadowVerdict,
          hits,
          errorActions,
          lateShadow.length > 0,
          challenger ?? active,
          shadowScore,
        ),
      },
      versions,
      ...(lateActive.length > 0 ? { late: { features: lateActive, action: lateFloor } } : {}),
    };
  }
}

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
