import * as z from "zod";
import {
  ACTIONS,
  type Action,
  SEVERITIES,
  type Severity,
  severityRank,
} from "#shared/domain/decision/action";
import type { DecisionMessage, MessageEntities } from "#shared/domain/decision-message/index";
import { EVENT_TYPES } from "#shared/domain/event/index";

/**
 * Which decisions raise an alert, how serious it is, and how alerts are throttled. Pure: the
 * policy is data (env `VIGIL_ALERT_POLICY`, JSON), validated once at cold start; see docs/alerts.md.
 */

/** Where an alert goes. Each channel is a separate SNS message, filtered by subscriptions. */
export const ALERT_CHANNELS = ["sms", "email"] as const;
/** One of ALERT_CHANNELS. */
export type AlertChannel = (typeof ALERT_CHANNELS)[number];

/** Entity kinds an alert can be throttled by (email domains are shared by millions: not one of them). */
export const THROTTLE_ENTITY_KINDS = ["user", "device", "ip", "card", "phone", "email"] as const;
/** One of THROTTLE_ENTITY_KINDS. */
export type ThrottleEntityKind = (typeof THROTTLE_ENTITY_KINDS)[number];

/** One alert rule: the first rule whose conditions all hold decides the alert. */
export const alertRuleSchema = z.strictObject({
  /** Actions that alert. */
  actions: z.array(z.enum(ACTIONS)).min(1),
  /** Scenarios (event types) the rule applies to. Default: all. */
  scenarios: z.array(z.enum(EVENT_TYPES)).min(1).optional(),
  /** Only decisions whose model score is at least this (a decision without a score does not match). */
  minScore: z.number().min(0).max(1).optional(),
  /** Severity of the alert. Default: derived (see {@link deriveSeverity}). */
  severity: z.enum(SEVERITIES).optional(),
  /** Channels to publish on. Default: all; subscriptions then filter by severity. */
  channels: z.array(z.enum(ALERT_CHANNELS)).min(1).optional(),
});

/** Alert throttling: at most one alert per channel, finding and entity per window. */
export const throttleSchema = z.strictObject({
  /** Window length; 0 turns throttling off. */
  windowSeconds: z.number().int().min(0).max(86_400),
  /** Entities an alert holds a window for; an alert is suppressed if any of them is held. */
  entities: z.array(z.enum(THROTTLE_ENTITY_KINDS)),
});

/** The alert policy document. */
export const alertPolicySchema = z.strictObject({
  rules: z.array(alertRuleSchema).max(100),
  throttle: throttleSchema.optional(),
  /** Decisions older than this (by decidedAt) never alert: an alert about an old decision is noise. */
  maxAgeSeconds: z
    .number()
    .int()
    .positive()
    .max(7 * 86_400)
    .optional(),
});

/** The policy as written. */
export type AlertPolicyDocument = z.infer<typeof alertPolicySchema>;
/** One alert rule. */
export type AlertRule = z.infer<typeof alertRuleSchema>;

/** The policy with every default applied. */
export interface AlertPolicy {
  readonly rules: readonly AlertRule[];
  readonly throttle: { readonly windowSeconds: number; readonly entities: readonly ThrottleEntityKind[] };
  readonly maxAgeSeconds: number;
}

/** Default throttle: 10 minutes per channel, finding and entity, over every throttle entity kind. */
export const DEFAULT_THROTTLE: AlertPolicy["throttle"] = {
  windowSeconds: 600,
  entities: THROTTLE_ENTITY_KINDS,
};

/** Default: block is critical, challenge_face is high; alerts older than a day are dropped. */
export const DEFAULT_ALERT_POLICY: AlertPolicy = {
  rules: [
    { actions: ["block"], severity: "critical" },
    { actions: ["challenge_face"], severity: "high" },
  ],
  throttle: DEFAULT_THROTTLE,
  maxAgeSeconds: 86_400,
};

/** An alert policy that does not validate. */
export class AlertPolicyError extends Error {
  override readonly name = "AlertPolicyError";
}

/** Parses a policy (JSON text), applying defaults; undefined or empty text gives the default policy. */
export function parseAlertPolicy(text: string | undefined): AlertPolicy {
  if (text === undefined || text.trim() === "") return DEFAULT_ALERT_POLICY;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AlertPolicyError("alert policy is not JSON");
  }
  const parsed = alertPolicySchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new AlertPolicyError(`alert policy is invalid: ${problems.join("; ")}`);
  }
  return {
    rules: parsed.data.rules,
    throttle: parsed.data.throttle ?? DEFAULT_THROTTLE,
    maxAgeSeconds: parsed.data.maxAgeSeconds ?? DEFAULT_ALERT_POLICY.maxAgeSeconds,
  };
}

/** Severity an action implies when a rule names none. */
export const ACTION_SEVERITY: Readonly<Record<Action, Severity>> = {
  pass: "low",
  review: "low",
  challenge_sms: "medium",
  challenge_face: "high",
  block: "critical",
};

/** The higher of the action's severity and the highest severity among active rule hits. */
export function deriveSeverity(message: DecisionMessage): Severity {
  let severity = ACTION_SEVERITY[message.action];
  for (const hit of message.ruleHits)
    if (!hit.shadow && severityRank(hit.severity) > severityRank(severity)) severity = hit.severity;
  return severity;
}

/**
 * The finding an alert is about, for throttling: the strongest active rule (`rule:<id>`), else the
 * list that decided (`list:<kind>`), else the score band (`band:<reason>`), else the action.
 */
export function alertFinding(message: DecisionMessage): string {
  const rule = message.ruleHits.find((h) => !h.shadow);
  if (rule) return `rule:${rule.id}`;
  const list = message.listHits[0];
  if (message.decidedBy !== "rules_and_score" && list) return `list:${list.kind}`;
  if (message.band) return `band:${message.band.reason}`;
  return `action:${message.action}`;
}

/** An alert to raise for a decision. */
export interface AlertPlan {
  readonly severity: Severity;
  readonly channels: readonly AlertChannel[];
  /** What the alert is about (see {@link alertFinding}). */
  readonly finding: string;
  /** Pseudonyms whose throttle windows the alert needs (empty: not throttled). */
  readonly throttleEntities: readonly string[];
  /** Index of the policy rule that matched. */
  readonly rule: number;
}

/** Why a decision raises no alert. */
export type NoAlert = { readonly alert: false; readonly why: "no_rule" | "stale" };

/**
 * Applies the policy to one decision at `now`: the alert to raise, or why there is none.
 * Rules are tried in order and the first match decides.
 */
export function planAlert(
  message: DecisionMessage,
  policy: AlertPolicy,
  now: Date,
): ({ readonly alert: true } & AlertPlan) | NoAlert {
  const index = policy.rules.findIndex((rule) => matches(rule, message));
  const rule = policy.rules[index];
  if (!rule) return { alert: false, why: "no_rule" };
  if (now.getTime() - Date.parse(message.decidedAt) > policy.maxAgeSeconds * 1000)
    return { alert: false, why: "stale" };
  const entities = policy.throttle.windowSeconds > 0 ? throttleEntities(message.entities, policy) : [];
  return {
    alert: true,
    severity: rule.severity ?? deriveSeverity(message),
    channels: rule.channels ?? ALERT_CHANNELS,
    finding: alertFinding(message),
    throttleEntities: entities,
    rule: index,
  };
}

function matches(rule: AlertRule, message: DecisionMessage): boolean {
  if (!rule.actions.includes(message.action)) return false;
  if (rule.scenarios && !rule.scenarios.includes(message.type)) return false;
  if (rule.minScore !== undefined && (message.score === null || message.score < rule.minScore)) return false;
  return true;
}

function throttleEntities(entities: MessageEntities, policy: AlertPolicy): string[] {
  return policy.throttle.entities.flatMap((kind) => {
    const id = entities[kind];
    return id ? [id] : [];
  });
}
