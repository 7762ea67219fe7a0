import * as z from "zod";
import { ACTIONS, type Action, SEVERITIES } from "#shared/domain/decision/action";
import { policySchema } from "#shared/domain/decision/policy/policy-schema";
import { EVENT_TYPES } from "#shared/domain/event/index";

/**
 * Rules as data. Operators write `id`, `description`, `scenarios`, `when` (a CEL condition),
 * `action`, `severity`, `mode` and optionally `reason` and `onError`; `version`, `author`, `createdAt` and
 * `updatedAt` are stamped by `vigil rules apply` (see stamp-rules.ts) and may be left out of a
 * file, or kept from `vigil rules show` output, where apply recomputes them.
 */

/** Longest CEL condition accepted, in characters. */
export const MAX_EXPRESSION_CHARS = 2_000;
/** Most rules in one document. */
export const MAX_RULES = 500;

/** How a rule takes part in decisions. */
export const RULE_MODES = ["active", "shadow", "disabled"] as const;
/** One of RULE_MODES: active rules act, shadow rules are evaluated and recorded only, disabled rules are skipped. */
export type RuleMode = (typeof RULE_MODES)[number];

/**
 * What a rule's failed evaluation means for the decision (docs/decision-engine.md, "When a rule
 * fails"): `miss` counts it as not hit, `hit` as hit (the rule's action), `review` gives the
 * decision at least `review`. Every failure is recorded in the decision and counted either way.
 */
export const RULE_ON_ERROR = ["miss", "hit", "review"] as const;
/** One of RULE_ON_ERROR. */
export type RuleOnError = (typeof RULE_ON_ERROR)[number];

const RULE_ID = /^[a-z][a-z0-9_]{0,63}$/;
const REASON_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** One rule. */
export const ruleSchema = z.strictObject({
  id: z.string().regex(RULE_ID, "a rule id: lower snake case, starting with a letter, at most 64 characters"),
  description: z.string().min(1).max(500),
  /** Event types the rule is evaluated for. */
  scenarios: z
    .array(z.enum(EVENT_TYPES))
    .min(1)
    .refine((s) => new Set(s).size === s.length, "scenarios must not repeat"),
  /** CEL condition over `event`, `features`, `lists` and `score`; the rule hits when it is true. */
  when: z.string().min(1).max(MAX_EXPRESSION_CHARS),
  action: z.enum(ACTIONS),
  severity: z.enum(SEVERITIES),
  mode: z.enum(RULE_MODES),
  /** Reason code a hit adds to the decision; default: the id in upper case. */
  reason: z.string().regex(REASON_CODE, "an upper-case reason code such as CARD_TESTING").optional(),
  /** What a failed evaluation means; default {@link defaultOnError} of the action. */
  onError: z.enum(RULE_ON_ERROR).optional(),
  version: z.int().min(1).optional(),
  author: z.string().min(1).max(128).optional(),
  createdAt: z.iso.datetime({ offset: true }).optional(),
  updatedAt: z.iso.datetime({ offset: true }).optional(),
});

/** The rules document: the rules and the per-scenario policy that turns findings into actions. */
export const rulesDocumentSchema = z.strictObject({
  policy: policySchema.optional(),
  rules: z.array(ruleSchema).max(MAX_RULES),
});

/** A rule as written. */
export type RuleDefinition = z.infer<typeof ruleSchema>;
/** The rules document as written. */
export type RulesDocument = z.infer<typeof rulesDocumentSchema>;

/** A rule with its lifecycle metadata, as stored by `apply`. */
export type StampedRule = RuleDefinition & {
  readonly version: number;
  readonly author: string;
  readonly createdAt: string;
  readonly updatedAt: string;
};

/** The reason code of a rule hit. */
export function ruleReason(rule: RuleDefinition): string {
  return rule.reason ?? rule.id.toUpperCase();
}

/**
 * The default `onError` of a rule with this action: `miss` for `pass` rules (their hit changes
 * nothing), `review` for every other action. A failed block or challenge rule neither passes the
 * event silently (as `miss` would: an attack goes through and nobody looks) nor acts on a bug (as
 * `hit` would: a broken rule would block or challenge every good customer of its scenario); the
 * event is queued for a person, and the RuleErrors metric says which rule failed.
 */
export function defaultOnError(action: Action): RuleOnError {
  return action === "pass" ? "miss" : "review";
}

/** The rule's `onError`, its default applied. */
export function ruleOnError(rule: RuleDefinition): RuleOnError {
  return rule.onError ?? defaultOnError(rule.action);
}
