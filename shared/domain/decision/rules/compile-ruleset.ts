import { type ConfigIssue, ConfigValidationError, zodIssues } from "#shared/domain/decision/issues";
import type { ListKind } from "#shared/domain/decision/lists/list-schema";
import { resolvePolicies, type ScenarioPolicy } from "#shared/domain/decision/policy/policy-schema";
import {
  type CompiledRule,
  compileRule,
  type RuleCompileOptions,
} from "#shared/domain/decision/rules/compile-rule";
import { type RulesDocument, rulesDocumentSchema } from "#shared/domain/decision/rules/rule-schema";
import { EVENT_TYPES, type EventType } from "#shared/domain/event/index";

/** A rules document compiled for one version. */
export interface CompiledRuleset {
  readonly document: RulesDocument;
  /** Rules that take part in decisions (active and shadow), in document order. */
  readonly rules: readonly CompiledRule[];
  /** Every rule, disabled ones too, in document order (what the document reads, for checks). */
  readonly allRules: readonly CompiledRule[];
  /** The same rules by scenario, so an event only meets the rules written for its type. */
  readonly byScenario: Readonly<Record<EventType, readonly CompiledRule[]>>;
  readonly policies: Readonly<Record<EventType, ScenarioPolicy>>;
  /** List name and kind pairs some rule reads (looked up once per event, shared by all rules). */
  readonly lists: readonly { readonly name: string; readonly kind: ListKind }[];
  /**
   * The list pairs compiled conditions read, by slot (`RuleView.lists[slot]`): every pair of every
   * compiled rule, disabled ones included, in the order first met.
   */
  readonly listSlots: readonly { readonly name: string; readonly kind: ListKind }[];
  /**
   * Feature ids the scenario's rules read (CEL analysis): `active` rules' reads decide whether a
   * late feature raises the action, all evaluated rules' reads the shadow outcome.
   */
  readonly featureReads: Readonly<Record<EventType, FeatureReads>>;
}

/** Feature ids read by a scenario's active rules, and by its active and shadow rules. */
export interface FeatureReads {
  readonly active: ReadonlySet<string>;
  readonly all: ReadonlySet<string>;
}

/**
 * Validates a rules document and compiles every rule, disabled ones too (a disabled rule must
 * still be valid, so that enabling it cannot fail). Throws ConfigValidationError listing every
 * problem with the rule id and, in expressions, the line and column.
 */
export function compileRuleset(input: unknown, options: RuleCompileOptions = {}): CompiledRuleset {
  const parsed = rulesDocumentSchema.safeParse(input);
  if (!parsed.success) {
    const raw = input as { rules?: { id?: unknown }[] } | undefined;
    const idAt = (i: number) => {
      const id = Array.isArray(raw?.rules) ? raw.rules[i]?.id : undefined;
      return typeof id === "string" ? id : undefined;
    };
    throw new ConfigValidationError("rules", zodIssues(parsed.error.issues, idAt));
  }
  const document = parsed.data;
  const slotOf = new Map<string, number>();
  const listSlots: { name: string; kind: ListKind }[] = [];
  const slots = {
    slot(name: string, kind: ListKind): number {
      const key = `${name}.${kind}`;
      let slot = slotOf.get(key);
      if (slot === undefined) {
        slot = listSlots.length;
        slotOf.set(key, slot);
        listSlots.push({ name, kind });
      }
      return slot;
    },
  };
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  const allRules: CompiledRule[] = [];
  document.rules.forEach((rule, i) => {
    const path = `rules[${i}]`;
    if (seen.has(rule.id)) issues.push({ path: `${path}.id`, ruleId: rule.id, message: "duplicate rule id" });
    seen.add(rule.id);
    const c = compileRule(rule, path, issues, { ...options, listSlots: slots });
    if (c !== undefined) allRules.push(c);
  });
  const compiled = allRules.filter((c) => c.rule.mode !== "disabled");
  if (issues.length > 0) throw new ConfigValidationError("rules", issues);

  const byScenario = {} as Record<EventType, CompiledRule[]>;
  const featureReads = {} as Record<EventType, FeatureReads>;
  for (const scenario of EVENT_TYPES) {
    const rules = compiled.filter((r) => r.rule.scenarios.includes(scenario));
    byScenario[scenario] = rules;
    const reads = (rs: readonly CompiledRule[]) => new Set(rs.flatMap((r) => r.analysis.features));
    featureReads[scenario] = {
      active: reads(rules.filter((r) => r.rule.mode === "active")),
      all: reads(rules),
    };
  }
  const lists = new Map<string, { name: string; kind: ListKind }>();
  for (const r of compiled) for (const l of r.analysis.lists) lists.set(`${l.name}.${l.kind}`, l);
  return {
    document,
    rules: compiled,
    allRules,
    byScenario,
    policies: resolvePolicies(document.policy),
    lists: [...lists.values()],
    listSlots,
    featureReads,
  };
}
