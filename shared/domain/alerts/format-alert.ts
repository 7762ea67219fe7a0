import type { Severity } from "#shared/domain/decision/action";
import type { DecisionMessage } from "#shared/domain/decision-message/index";

/**
 * Alert texts. Everything here is built from a decision message, which carries pseudonyms only,
 * so no text can contain raw personal data. SMS is plain ASCII of at most {@link SMS_MAX_LENGTH}
 * characters (one GSM-7 segment with room for the carrier's sender prefix); email is a subject SNS
 * accepts (ASCII, no line breaks, under 100 characters) and a plain-text body.
 */

/** Longest SMS text. */
export const SMS_MAX_LENGTH = 140;
/** Longest email subject (SNS: fewer than 100 characters). */
export const SUBJECT_MAX_LENGTH = 99;
/** Longest email body; SNS allows 256 KiB per message, a readable alert is far below that. */
export const BODY_MAX_LENGTH = 64_000;
/** Features listed in an email at most (the decision in the audit index has them all). */
const MAX_FEATURES_LISTED = 200;

/** What an alert text is about. */
export interface AlertContent {
  readonly message: DecisionMessage;
  readonly severity: Severity;
  /** Alerts of the same channel, finding and entity suppressed since the previous one was sent. */
  readonly suppressedBefore: number;
}

/** Printable ASCII only: anything else (control characters, non-ASCII) becomes `?`. */
function ascii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?");
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 3))}...`;
}

const score = (value: number | null, digits = 2) => (value === null ? "n/a" : value.toFixed(digits));

/** The most decisive reason, or the strongest active rule, or the action. */
export function topReason(message: DecisionMessage): string {
  return message.reasons[0] ?? message.ruleHits.find((h) => !h.shadow)?.reason ?? message.action;
}

/**
 * The SMS text: severity, action, scenario, top reason, score, pseudonymous user and device, and
 * the suppressed count. Parts are dropped from the least important (device, then the count) and the
 * reason is shortened until the text fits {@link SMS_MAX_LENGTH}.
 */
export function formatSms(content: AlertContent): string {
  const { message } = content;
  const head = `Vigil ${content.severity.toUpperCase()}: ${message.action} ${message.type}`;
  let reason = ascii(topReason(message));
  const scorePart = `score ${score(message.score)}`;
  const user = `user ${message.entities.user}`;
  const device = `dev ${message.entities.device}`;
  const more = content.suppressedBefore > 0 ? `+${content.suppressedBefore} suppressed` : undefined;
  const build = (withDevice: boolean, withMore: boolean) =>
    [head, reason, scorePart, user, withDevice ? device : undefined, withMore ? more : undefined]
      .filter((p): p is string => p !== undefined)
      .join(" ");
  for (const [withDevice, withMore] of [
    [true, true],
    [false, true],
    [false, false],
  ] as const) {
    const text = build(withDevice, withMore);
    if (text.length <= SMS_MAX_LENGTH) return text;
  }
  const over = build(false, false).length - SMS_MAX_LENGTH;
  reason = clip(reason, Math.max(4, reason.length - over));
  return clip(build(false, false), SMS_MAX_LENGTH);
}

/** The email subject. */
export function formatEmailSubject(content: AlertContent): string {
  const { message } = content;
  const subject = `[Vigil ${content.severity.toUpperCase()}] ${message.action} on ${message.type}: ${topReason(message)} (score ${score(message.score)})`;
  return clip(ascii(subject), SUBJECT_MAX_LENGTH);
}

function table(rows: ReadonlyArray<readonly [string, string]>, indent = ""): string[] {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v}`);
}

/** The email body: the decision in full (rule hits, reasons, contributions, list hits, features, versions). */
export function formatEmailBody(content: AlertContent): string {
  const { message: m } = content;
  const lines: string[] = [];
  lines.push(
    `Vigil decided ${m.action.toUpperCase()} for a ${m.type} event (severity ${content.severity}).`,
    "",
  );
  const facts: Array<[string, string]> = [
    ["Event", m.eventId],
    ["Scenario", m.type],
    ["Action", `${m.action} (decided by ${m.decidedBy})`],
    [
      "Score",
      `${score(m.score, 3)}${m.band ? ` (band ${m.band.reason}: >= ${m.band.minScore} -> ${m.band.action})` : ""}`,
    ],
    ["Occurred at", m.occurredAt],
    ["Decided at", m.decidedAt],
  ];
  if (m.amount !== undefined) facts.push(["Amount", `${m.amount} ${m.currency ?? ""}`.trim()]);
  if (m.country !== undefined) facts.push(["Country", m.country]);
  if (m.campaignId !== undefined) facts.push(["Campaign", `${m.campaignId} / coupon ${m.couponId ?? "-"}`]);
  lines.push(...table(facts));
  if (content.suppressedBefore > 0)
    lines.push(
      "",
      `Throttled: ${content.suppressedBefore} similar alert(s) (same finding and entity) were suppressed since the previous one.`,
    );

  lines.push("", "Entities (pseudonymous):");
  lines.push(
    ...table(
      Object.entries(m.entities).flatMap(([k, v]) => (v ? [[k, v] as [string, string]] : [])),
      "  ",
    ),
  );

  lines.push("", "Rule hits:");
  if (m.ruleHits.length === 0) lines.push("  none");
  for (const h of m.ruleHits)
    lines.push(
      `  [${h.shadow ? "shadow" : "active"}] ${h.id} v${h.version ?? "-"}: ${h.action}, ${h.severity}, ${h.reason}`,
    );
  if (m.ruleErrors.length > 0)
    lines.push(
      "",
      "Rule errors (counted as not hit):",
      ...m.ruleErrors.map((e) => `  [${e.shadow ? "shadow" : "active"}] ${e.id} v${e.version ?? "-"}`),
    );

  lines.push("", `Reasons: ${m.reasons.length > 0 ? m.reasons.join(", ") : "none"}`);

  lines.push("", `Model contributions (model ${m.versions.model ?? "none"}):`);
  if (m.contributions.length === 0) lines.push("  none");
  lines.push(
    ...table(
      m.contributions.map((c) => [
        c.term,
        `input ${c.input} = ${c.value ?? "null"} -> ${c.transformed.toFixed(3)} x ${c.weight.toFixed(3)} = ${c.contribution >= 0 ? "+" : ""}${c.contribution.toFixed(3)}  ${c.reason}`,
      ]),
      "  ",
    ),
  );

  if (m.listHits.length > 0)
    lines.push("", "List hits:", ...m.listHits.map((h) => `  ${h.list} list, ${h.kind}: ${h.entry}`));

  lines.push(
    "",
    `Shadow outcome: ${m.shadow.action} (score ${score(m.shadow.score, 3)})${m.shadow.reasons.length > 0 ? `: ${m.shadow.reasons.join(", ")}` : ""}`,
  );

  const features = Object.entries(m.features).sort(([a], [b]) => a.localeCompare(b));
  lines.push("", `Features (${features.length}):`);
  lines.push(
    ...table(
      features.slice(0, MAX_FEATURES_LISTED).map(([k, v]) => [k, v === null ? "null" : String(v)]),
      "  ",
    ),
  );
  if (features.length > MAX_FEATURES_LISTED)
    lines.push(`  ... ${features.length - MAX_FEATURES_LISTED} more in the audit index`);

  const v = m.versions;
  lines.push(
    "",
    `Versions: rules ${v.rules ?? "-"}, lists ${v.lists ?? "-"}, model ${v.model ?? "-"}, shadow model ${v.shadowModel ?? "-"}, features ${v.features ?? "-"}`,
    "",
    `Look it up: vigil decision ${m.eventId}`,
  );
  return clip(lines.join("\n"), BODY_MAX_LENGTH);
}
