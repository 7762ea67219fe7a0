import * as z from "zod";
import { EVENT_TYPES } from "#shared/domain/event/index";
import { CATEGORY_PATTERN, type Label, labelAsOf, parseLabel } from "#shared/domain/labels/index";

/**
 * What is known about decided events, for measuring quality: a label (fraud or legit) with an
 * open category, from label files (the label contract, docs/labels.md) or the simulator's ground
 * truth. Pure.
 */

/** The known outcome of one event. */
export interface Outcome {
  readonly label: "fraud" | "legit";
  /** The operator's category (any name the label contract accepts); `uncategorized` when none. */
  readonly category: string;
}

/** Category of a label that names none. */
export const UNCATEGORIZED = "uncategorized";

const category = z.string().regex(CATEGORY_PATTERN, "a category: letters, digits and _ . / - (at most 64)");

/**
 * One line of a simulator ground-truth file (`vigil simulate --truth`): attack and legitimate
 * kinds are open names, so truth files from other generators work too.
 */
export const truthLineSchema = z.discriminatedUnion("label", [
  z.looseObject({
    eventId: z.string().min(1),
    type: z.enum(EVENT_TYPES),
    occurredAt: z.string().min(1),
    label: z.literal("legit"),
    kind: category,
  }),
  z.looseObject({
    eventId: z.string().min(1),
    type: z.enum(EVENT_TYPES),
    occurredAt: z.string().min(1),
    label: z.literal("attack"),
    attack: category,
    variant: category.optional(),
  }),
]);

/** A ground-truth line as a label: fraud for attacks (`<attack>/<variant>`), legit with its kind. */
export function truthAsLabel(line: z.infer<typeof truthLineSchema>): Label {
  const cat =
    line.label === "attack" ? (line.variant ? `${line.attack}/${line.variant}` : line.attack) : line.kind;
  return parseLabel({
    schemaVersion: 1,
    subject: { eventId: line.eventId },
    label: line.label === "attack" ? "fraud" : "legit",
    category: cat,
    source: "import",
    // Ground truth is known from the start: as of the event itself.
    observedAt: new Date(Date.parse(line.occurredAt)).toISOString(),
    author: "ground-truth",
  });
}

/** A label or truth file that does not parse; the message names the line. */
export class OutcomeFileError extends Error {
  override readonly name = "OutcomeFileError";
}

/**
 * Reads a label NDJSON file (the label contract) or a ground-truth NDJSON file, line by line
 * (each line may be either). Throws OutcomeFileError naming the first bad line.
 */
export function parseOutcomeFile(text: string, what = "labels"): Label[] {
  const out: Label[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new OutcomeFileError(`${what} line ${i + 1}: not JSON`);
    }
    if (typeof value === "object" && value !== null && "schemaVersion" in value && "subject" in value) {
      try {
        out.push(parseLabel(value));
      } catch (error) {
        throw new OutcomeFileError(`${what} line ${i + 1}: ${(error as Error).message}`);
      }
      return;
    }
    const truth = truthLineSchema.safeParse(value);
    if (!truth.success) {
      const issue = truth.error.issues[0];
      throw new OutcomeFileError(
        `${what} line ${i + 1}: neither a label nor a ground-truth line: ${issue?.path.join(".") || "line"}: ${issue?.message}`,
      );
    }
    out.push(truthAsLabel(truth.data));
  });
  return out;
}

/**
 * The outcome of every event that has an event label known at `cutoffMs` (labelAsOf: the latest
 * observed at or before it). Labels about entities are not outcomes of single events and are left
 * out (counted in `entityLabels`).
 */
export function outcomesAsOf(
  labels: readonly Label[],
  cutoffMs: number,
): { readonly outcomes: ReadonlyMap<string, Outcome>; readonly entityLabels: number } {
  const bySubject = new Map<string, Label[]>();
  let entityLabels = 0;
  for (const label of labels) {
    if (!("eventId" in label.subject)) {
      entityLabels++;
      continue;
    }
    const list = bySubject.get(label.subject.eventId) ?? [];
    list.push(label);
    bySubject.set(label.subject.eventId, list);
  }
  const outcomes = new Map<string, Outcome>();
  for (const [eventId, list] of bySubject) {
    const known = labelAsOf(list, cutoffMs);
    if (known) outcomes.set(eventId, { label: known.label, category: known.category ?? UNCATEGORIZED });
  }
  return { outcomes, entityLabels };
}
