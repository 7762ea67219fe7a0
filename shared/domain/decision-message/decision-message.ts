import * as z from "zod";
import { ACTIONS, SEVERITIES } from "#shared/domain/decision/action";
import type { EngineDecision } from "#shared/domain/decision/decision";
import {
  ENTITY_KINDS,
  type EntityKind,
  PSEUDONYM_PATTERN,
  type Pseudonymizer,
} from "#shared/domain/decision-message/pseudonymize";
import type { StoredDecisionContent } from "#shared/domain/decision-message/stored-decision";
import { type CleanEvent, EVENT_TYPES } from "#shared/domain/event/index";

/**
 * The decision message: one JSON object per record on the decisions stream, put by score,
 * consumed by alert and audit (see docs/decisions-stream.md).
 *
 * It carries everything needed to alert on, audit, report on and retrain from a decision, and no
 * raw personal data: every entity identifier is a keyed pseudonym (see pseudonymize.ts), city and
 * the free-form `attributes` map are left out, rule errors carry no message text, and a model
 * input that read the email domain carries its pseudonym.
 *
 * Versioning: `messageVersion` names the contract. Within a version changes are additive only
 * (a new optional field); consumers parse with {@link decisionMessageSchema}, which ignores
 * unknown keys, so they may deploy after producers. Anything else needs a new version.
 */

/** The contract version this code writes. */
export const DECISION_MESSAGE_VERSION = 1;

const pseudonym = z.string().regex(PSEUDONYM_PATTERN);
const action = z.enum(ACTIONS);
const isoTime = z.iso.datetime({ offset: true });
const finite = z.number().refine(Number.isFinite, "a finite number");

/** A rule whose condition held (active or shadow). */
export const messageRuleHitSchema = z.object({
  id: z.string().min(1),
  version: z.number().int().nullable(),
  action,
  severity: z.enum(SEVERITIES),
  /** The rule's reason code. */
  reason: z.string().min(1),
  /** Shadow rules are recorded, never act. */
  shadow: z.boolean(),
});

/** A rule that failed to evaluate for this event (counted as not hit). No message: it may quote values. */
export const messageRuleErrorSchema = z.object({
  id: z.string().min(1),
  version: z.number().int().nullable(),
  shadow: z.boolean(),
});

/** One model term's share of the logit. */
export const messageContributionSchema = z.object({
  term: z.string().min(1),
  /** A feature id, `age(<feature id>)` or `event.<field>`. */
  input: z.string().min(1),
  /** The raw input; for `event.emailDomain` its pseudonym. Null when absent. */
  value: z.union([finite, z.string()]).nullable(),
  transformed: finite,
  weight: finite,
  contribution: finite,
  reason: z.string(),
});

/** A list entry the policy acted on; the entry itself pseudonymized with its list kind. */
export const messageListHitSchema = z.object({
  list: z.enum(["block", "allow"]),
  kind: z.enum(ENTITY_KINDS),
  entry: pseudonym,
});

/** Pseudonyms of the entities the event names. */
export const messageEntitiesSchema = z.object({
  user: pseudonym,
  device: pseudonym,
  ip: pseudonym,
  card: pseudonym.optional(),
  phone: pseudonym.optional(),
  email: pseudonym.optional(),
  emailDomain: pseudonym.optional(),
});

/** The decision message. Parsing ignores unknown keys (see the versioning note above). */
export const decisionMessageSchema = z.object({
  messageVersion: z.literal(DECISION_MESSAGE_VERSION),
  eventId: z.string().min(1).max(128),
  /** The event type, which is also the scenario whose policy decided. */
  type: z.enum(EVENT_TYPES),
  action,
  decidedBy: z.enum(["block_list", "allow_list", "rules_and_score"]),
  /** Active model probability of fraud (null without a model). */
  score: z.number().min(0).max(1).nullable(),
  /** The score band the score fell into, if any. */
  band: z.object({ minScore: finite, action, reason: z.string() }).nullable(),
  /** Hits of active and shadow rules, strongest action first. */
  ruleHits: z.array(messageRuleHitSchema),
  ruleErrors: z.array(messageRuleErrorSchema),
  /** Reason codes, most decisive first. */
  reasons: z.array(z.string()),
  /** Largest positive model contributions, largest first. */
  contributions: z.array(messageContributionSchema),
  listHits: z.array(messageListHitSchema),
  /** What shadow rules and the challenger model would have done. */
  shadow: z.object({ action, score: z.number().min(0).max(1).nullable(), reasons: z.array(z.string()) }),
  /** The exact feature values the event was scored with, by feature id (null: absent). */
  features: z.record(z.string(), finite.nullable()),
  versions: z.object({
    rules: z.number().int().nullable(),
    lists: z.number().int().nullable(),
    model: z.string().nullable(),
    shadowModel: z.string().nullable(),
    features: z.string().nullable(),
  }),
  /** Event time (UTC, ms precision). */
  occurredAt: isoTime,
  /** When score decided. */
  decidedAt: isoTime,
  /** geo.country (ISO-3166-1 alpha-2), when the producer sent one. */
  country: z.string().length(2).optional(),
  /** Orders and payments: canonical decimal amount and ISO-4217 currency. */
  amount: z.string().optional(),
  currency: z.string().length(3).optional(),
  /** Coupon claims: business identifiers, not personal data. */
  campaignId: z.string().optional(),
  couponId: z.string().optional(),
  entities: messageEntitiesSchema,
});

/** A decision message as put on the decisions stream. */
export type DecisionMessage = z.infer<typeof decisionMessageSchema>;
/** One rule hit in a decision message. */
export type MessageRuleHit = z.infer<typeof messageRuleHitSchema>;
/** The pseudonymous entities of a decision message. */
export type MessageEntities = z.infer<typeof messageEntitiesSchema>;
/** The entity fields of {@link MessageEntities}, in a fixed order. */
export const MESSAGE_ENTITY_KINDS: readonly (keyof MessageEntities)[] = [
  "user",
  "device",
  "ip",
  "card",
  "phone",
  "email",
  "emailDomain",
];

/** Model inputs whose string values are not personal and are carried as they are. */
const PLAIN_STRING_INPUTS: ReadonlySet<string> = new Set([
  "event.type",
  "event.geo.country",
  "event.currency",
]);
/** Model inputs whose string values are identifiers: carried as their pseudonym. */
const PSEUDONYMIZED_INPUTS: Readonly<Record<string, EntityKind>> = { "event.emailDomain": "emailDomain" };
/** What replaces a string input value of any other input (an input added later, not yet classified). */
export const REDACTED = "[redacted]";

function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf("@") + 1);
}

/**
 * Builds the decision message for a decided event. Pure: the clock reading (`decidedAt`) and the
 * keyed pseudonymizer come in. `decision` is the engine's, or a stored one whose list entries are
 * pseudonymized already (stored-decision.ts; both give the same message). `features` are the
 * values the event was scored with (a feature vector's `values`). The result satisfies
 * {@link decisionMessageSchema}.
 */
export function toDecisionMessage(
  event: CleanEvent,
  decision: EngineDecision | StoredDecisionContent,
  features: Readonly<Record<string, number | null>>,
  pseudonymizer: Pseudonymizer,
  decidedAt: Date | string,
): DecisionMessage {
  const p = pseudonymizer;
  const entities: MessageEntities = {
    user: p("user", event.userId),
    device: p("device", event.deviceId),
    ip: p("ip", event.ip),
    ...("cardFingerprint" in event && event.cardFingerprint !== undefined
      ? { card: p("card", event.cardFingerprint) }
      : {}),
    ...(event.phone !== undefined ? { phone: p("phone", event.phone) } : {}),
    ...(event.email !== undefined
      ? { email: p("email", event.email), emailDomain: p("emailDomain", emailDomain(event.email)) }
      : {}),
  };
  return {
    messageVersion: DECISION_MESSAGE_VERSION,
    eventId: event.eventId,
    type: event.type,
    action: decision.action,
    decidedBy: decision.decidedBy,
    score: decision.score,
    band: decision.band ? { ...decision.band } : null,
    ruleHits: decision.ruleHits.map((h) => ({
      id: h.id,
      version: h.version,
      action: h.action,
      severity: h.severity,
      reason: h.reason,
      shadow: h.shadow,
    })),
    ruleErrors: decision.ruleErrors.map((e) => ({ id: e.id, version: e.version, shadow: e.shadow })),
    reasons: [...decision.reasons],
    contributions: decision.contributions.map((c) => ({
      term: c.term,
      input: c.input,
      value: contributionValue(c.input, c.value, p),
      transformed: c.transformed,
      weight: c.weight,
      contribution: c.contribution,
      reason: c.reason,
    })),
    listHits: decision.listHits.map((h) => ({
      list: h.list,
      kind: h.kind,
      entry: "entryPseudonym" in h ? h.entryPseudonym : p(h.kind, h.entry),
    })),
    shadow: {
      action: decision.shadow.action,
      score: decision.shadow.score,
      reasons: [...decision.shadow.reasons],
    },
    features: { ...features },
    versions: { ...decision.versions },
    occurredAt: event.occurredAt,
    decidedAt: typeof decidedAt === "string" ? decidedAt : decidedAt.toISOString(),
    ...(event.geo ? { country: event.geo.country } : {}),
    ...("amount" in event ? { amount: event.amount, currency: event.currency } : {}),
    ...(event.type === "coupon_claim" ? { campaignId: event.campaignId, couponId: event.couponId } : {}),
    entities,
  };
}

function contributionValue(
  input: string,
  value: number | string | null,
  p: Pseudonymizer,
): number | string | null {
  if (typeof value !== "string" || PLAIN_STRING_INPUTS.has(input)) return value;
  const kind = PSEUDONYMIZED_INPUTS[input];
  return kind ? p(kind, value) : REDACTED;
}

/** The partition key of a decision message on the decisions stream: the pseudonymous userId. */
export function decisionPartitionKey(message: DecisionMessage): string {
  return message.entities.user;
}

/** The record bytes of a decision message (UTF-8 JSON). */
export function encodeDecisionMessage(message: DecisionMessage): Uint8Array {
  return Buffer.from(JSON.stringify(message), "utf8");
}

/** The outcome of reading one decisions-stream record. */
export type DecodeDecisionResult =
  | { readonly ok: true; readonly message: DecisionMessage }
  | { readonly ok: false; readonly error: string };

/** Reads a decisions-stream record. The error names fields and rules, never values. */
export function decodeDecisionMessage(bytes: Uint8Array): DecodeDecisionResult {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return { ok: false, error: "not JSON" };
  }
  const parsed = decisionMessageSchema.safeParse(json);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.code}`);
  return { ok: false, error: `not a decision message v${DECISION_MESSAGE_VERSION} (${issues.join("; ")})` };
}
