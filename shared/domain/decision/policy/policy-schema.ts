import * as z from "zod";
import { ACTIONS, type Action } from "#shared/domain/decision/action";
import { LIST_KINDS, type ListKind } from "#shared/domain/decision/lists/list-schema";
import { EVENT_TYPES, type EventType } from "#shared/domain/event/index";

/**
 * The policy maps what the engine found (list memberships, rule hits, the model score) to one
 * action per scenario. It is part of the rules document, so thresholds are versioned, applied
 * and rolled back together with the rules they work with.
 */

const REASON_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** A score band: events whose score is at least `minScore` get `action` (highest band first). */
export const scoreBandSchema = z.strictObject({
  minScore: z.number().min(0).max(1),
  action: z.enum(ACTIONS),
  /** Reason code the band adds to the decision; default MODEL_SCORE_<ACTION>. */
  reason: z.string().regex(REASON_CODE, "an upper-case reason code such as MODEL_SCORE_HIGH").optional(),
});

const listKinds = z
  .array(z.enum(LIST_KINDS))
  .refine((kinds) => new Set(kinds).size === kinds.length, "list kinds must not repeat");

/** One scenario's policy; every field may be left out to inherit the default policy's value. */
export const scenarioPolicySchema = z.strictObject({
  /** Score bands, any order; the band with the highest minScore at or below the score applies. */
  bands: z
    .array(scoreBandSchema)
    .max(10)
    .refine(
      (bands) => new Set(bands.map((b) => b.minScore)).size === bands.length,
      "two bands share a minScore",
    )
    .optional(),
  /** Kinds whose block-list entries force `block` (default: every kind). */
  blockList: listKinds.optional(),
  /** Kinds whose allow-list entries force `pass` when no block-list entry matched (default: user). */
  allowList: listKinds.optional(),
  /**
   * The least action of a decision that needed a feature the event was too late for (a feature
   * an active rule or the model reads; default `review`; `pass` switches the floor off).
   */
  lateEventAction: z.enum(ACTIONS).optional(),
});

/** The policy section of the rules document. */
export const policySchema = z.strictObject({
  default: scenarioPolicySchema.optional(),
  scenarios: z.partialRecord(z.enum(EVENT_TYPES), scenarioPolicySchema).optional(),
});

/** The policy as written. */
export type PolicyDefinition = z.infer<typeof policySchema>;
/** One scenario's policy as written. */
export type ScenarioPolicyDefinition = z.infer<typeof scenarioPolicySchema>;

/** A score band with its reason resolved. */
export interface ScoreBand {
  readonly minScore: number;
  readonly action: Action;
  readonly reason: string;
}

/** A scenario's policy with every default applied; bands sorted highest first. */
export interface ScenarioPolicy {
  readonly scenario: EventType;
  readonly bands: readonly ScoreBand[];
  readonly blockList: readonly ListKind[];
  readonly allowList: readonly ListKind[];
  /** The least action when a feature the decision needed was late (see docs/decision-engine.md). */
  readonly lateEventAction: Action;
}

/** Block-list kinds that force `block` unless a policy says otherwise: all of them. */
export const DEFAULT_BLOCK_LIST_KINDS: readonly ListKind[] = LIST_KINDS;
/**
 * Allow-list kinds that force `pass` unless a policy says otherwise: only the account. An allowed
 * IP or email domain is shared by many people, so it is a signal for rules, not a free pass.
 */
export const DEFAULT_ALLOW_LIST_KINDS: readonly ListKind[] = ["user"];
/**
 * The least action of a decision whose rules or model needed a late feature, unless a policy
 * says otherwise: a person looks at it, and the customer is not stopped for the producer's delay.
 */
export const DEFAULT_LATE_EVENT_ACTION: Action = "review";

/** The effective policy of every scenario: scenario fields over default fields over built-ins. */
export function resolvePolicies(
  policy: PolicyDefinition | undefined,
): Readonly<Record<EventType, ScenarioPolicy>> {
  const base = policy?.default ?? {};
  const out = {} as Record<EventType, ScenarioPolicy>;
  for (const scenario of EVENT_TYPES) {
    const own = policy?.scenarios?.[scenario] ?? {};
    const bands = (own.bands ?? base.bands ?? [])
      .map((b) => ({
        minScore: b.minScore,
        action: b.action,
        reason: b.reason ?? `MODEL_SCORE_${b.action.toUpperCase()}`,
      }))
      .sort((a, b) => b.minScore - a.minScore);
    out[scenario] = {
      scenario,
      bands,
      blockList: own.blockList ?? base.blockList ?? DEFAULT_BLOCK_LIST_KINDS,
      allowList: own.allowList ?? base.allowList ?? DEFAULT_ALLOW_LIST_KINDS,
      lateEventAction: own.lateEventAction ?? base.lateEventAction ?? DEFAULT_LATE_EVENT_ACTION,
    };
  }
  return out;
}
