import { createHash } from "node:crypto";
import * as z from "zod";
import { IDENTIFIER_PATTERN } from "#shared/domain/event/schema";
import { KEY_FIELDS } from "#shared/domain/features/fields";

/**
 * The label contract: an outcome that became known about an event (or an entity) — a review
 * verdict, a chargeback, a challenge result, an analyst's call, an imported file line. Labels are
 * facts with the time they became known (`observedAt`), so that a training set or a backtest can
 * use exactly the labels known at a cutoff (docs/labels.md). Pure: no I/O, no clock.
 */

/** Schema version of the label contract. */
export const LABEL_SCHEMA_VERSION = 1;

/** What the label says about its subject. */
export const LABEL_VALUES = ["fraud", "legit"] as const;
/** One of LABEL_VALUES. */
export type LabelValue = (typeof LABEL_VALUES)[number];

/** Where a label came from. */
export const LABEL_SOURCES = ["review", "chargeback", "challenge", "manual", "import"] as const;
/** One of LABEL_SOURCES. */
export type LabelSource = (typeof LABEL_SOURCES)[number];

/**
 * Categories are the operator's own words for kinds of fraud or legitimate traffic
 * (`card_testing`, `friendly_fraud`, `coupon_farming/slow`), not a fixed list: letters, digits and
 * `_ . / -`, starting with a letter or digit.
 */
export const CATEGORY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$/;

const identifier = z.string().min(1).max(128).regex(IDENTIFIER_PATTERN);

/** The subject of a label: one event, or one entity (an account, a device, a card...). */
export const labelSubjectSchema = z.union([
  z.strictObject({ eventId: identifier.meta({ description: "The decided event the label is about." }) }),
  z.strictObject({
    entity: z.strictObject({
      type: z.enum(KEY_FIELDS).meta({ description: "The entity's key field, as features name it." }),
      value: z.string().min(1).max(320),
    }),
  }),
]);

/** One label as written by producers, files and the CLI. */
export const labelSchema = z.strictObject({
  schemaVersion: z.literal(LABEL_SCHEMA_VERSION),
  /** Optional: derived from the content when absent, so importing the same file twice is idempotent. */
  labelId: identifier.optional(),
  subject: labelSubjectSchema,
  label: z.enum(LABEL_VALUES),
  category: z
    .string()
    .regex(CATEGORY_PATTERN, "a category: letters, digits and _ . / - (at most 64), e.g. card_testing")
    .optional(),
  source: z.enum(LABEL_SOURCES),
  observedAt: z.iso.datetime({ offset: true }).meta({
    description: "When the outcome became known (the review was resolved, the chargeback arrived).",
  }),
  author: z.string().min(1).max(128).meta({ description: "Who gave the label: a person or a system." }),
  note: z.string().max(1_000).optional(),
});

/** A label as written (labelId optional). */
export type LabelInput = z.input<typeof labelSchema>;

/** A validated label with its id and its time normalized to UTC milliseconds precision. */
export interface Label {
  readonly schemaVersion: typeof LABEL_SCHEMA_VERSION;
  readonly labelId: string;
  readonly subject:
    | { readonly eventId: string }
    | { readonly entity: { readonly type: string; readonly value: string } };
  readonly label: LabelValue;
  readonly category?: string;
  readonly source: LabelSource;
  /** ISO-8601 UTC with milliseconds. */
  readonly observedAt: string;
  readonly author: string;
  readonly note?: string;
}

/** A label that does not satisfy the contract; `issues` name the path and the rule. */
export class LabelValidationError extends Error {
  override readonly name = "LabelValidationError";
  constructor(readonly issues: readonly { readonly path: string; readonly message: string }[]) {
    super(issues.map((i) => `${i.path || "label"}: ${i.message}`).join("; "));
  }
}

/** The subject's key: `event#<eventId>` or `entity#<type>#<value>` (labels table partition key). */
export function subjectKey(subject: Label["subject"]): string {
  return "eventId" in subject
    ? `event#${subject.eventId}`
    : `entity#${subject.entity.type}#${subject.entity.value}`;
}

/**
 * The labels table's sort key: observedAt (UTC with milliseconds, fixed width) then labelId, so a
 * subject's labels sort by the time they became known and the same label always has the same key.
 */
export function labelSortKey(label: Pick<Label, "observedAt" | "labelId">): string {
  return `${label.observedAt}#${label.labelId}`;
}

/**
 * The id a label gets when none is given: 24 hex digits of SHA-256 over its content (subject,
 * value, category, source, time, author), so the same fact imported twice is stored once.
 */
export function deriveLabelId(label: Omit<Label, "labelId" | "note" | "schemaVersion">): string {
  const text = JSON.stringify([
    subjectKey(label.subject),
    label.label,
    label.category ?? null,
    label.source,
    label.observedAt,
    label.author,
  ]);
  return `lbl_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
}

/** Validates one label; throws LabelValidationError naming every problem. */
export function parseLabel(value: unknown): Label {
  const parsed = labelSchema.safeParse(value);
  if (!parsed.success) {
    throw new LabelValidationError(
      parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  const l = parsed.data;
  const base = {
    subject: l.subject,
    label: l.label,
    ...(l.category === undefined ? {} : { category: l.category }),
    source: l.source,
    observedAt: new Date(l.observedAt).toISOString(),
    author: l.author,
  };
  return {
    schemaVersion: LABEL_SCHEMA_VERSION,
    labelId: l.labelId ?? deriveLabelId(base),
    ...base,
    ...(l.note === undefined ? {} : { note: l.note }),
  };
}

/** Where the committed JSON Schema of the label contract lives, relative to the repository root. */
export const LABEL_JSON_SCHEMA_PATH = "docs/label.schema.json";

/** The label contract as JSON Schema (draft 2020-12). */
export function labelJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(labelSchema, { target: "draft-2020-12", io: "input" });
}
