import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { resolveTarget } from "#cli/env";
import { CliError, say } from "#cli/output";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbLabelStore } from "#shared/adapters/dynamodb-label-store";
import { KEY_FIELDS } from "#shared/domain/features/fields";
import {
  type Label,
  type LabelFileFormat,
  labelAsOf,
  labelFileFormat,
  parseLabelFile,
  subjectKey,
} from "#shared/domain/labels/index";
import type { LabelStore } from "#shared/ports/label-store";

/** Exit codes of the label commands: invalid input, not found. */
export const LABELS_EXIT = { invalid: 2, notFound: 3 } as const;

/** The labels table of the target environment (local stack or the process environment). */
export function labelStore(): LabelStore {
  const target = resolveTarget();
  return new DynamoDbLabelStore(createDynamoDbClient(target.env), target.table("labels"));
}

/** Lines of errors printed before the rest are only counted. */
const ERRORS_SHOWN = 50;
/** Labels per write chunk (a progress line after each). */
const IMPORT_CHUNK = 500;

/** What `vigil labels import` did. */
export interface ImportSummary {
  readonly file: string;
  readonly format: LabelFileFormat;
  readonly labels: number;
  /** Lines naming a label already seen earlier in the file (same labelId and time). */
  readonly repeatedInFile: number;
  readonly stored: number;
  /** Labels stored by an earlier import (the same fact again): left as they were. */
  readonly alreadyStored: number;
}

/**
 * Imports a label file all or nothing: every line is validated first, and if any is bad nothing
 * is written and the error lists each bad line with its number. Re-importing a file stores
 * nothing new (labels are idempotent). Progress goes to `progress`.
 */
export async function importLabels(
  store: LabelStore,
  file: string,
  text: string,
  format: LabelFileFormat,
  progress: (message: string) => void = () => {},
): Promise<ImportSummary> {
  const parsed = parseLabelFile(text, format);
  if (parsed.errors.length > 0) {
    const shown = parsed.errors.slice(0, ERRORS_SHOWN).map((e) => `  ${file}:${e.line}: ${e.message}`);
    const more = parsed.errors.length - shown.length;
    throw new CliError(
      `${parsed.errors.length} invalid line(s) in ${file}; nothing was imported:\n${shown.join("\n")}${more > 0 ? `\n  … and ${more} more` : ""}`,
      LABELS_EXIT.invalid,
    );
  }
  const seen = new Set<string>();
  const unique: Label[] = [];
  for (const { label } of parsed.labels) {
    const key = `${subjectKey(label.subject)} ${label.observedAt} ${label.labelId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(label);
  }
  let stored = 0;
  let alreadyStored = 0;
  for (let start = 0; start < unique.length; start += IMPORT_CHUNK) {
    const result = await store.put(unique.slice(start, start + IMPORT_CHUNK));
    stored += result.stored;
    alreadyStored += result.existing;
    progress(`  ${Math.min(start + IMPORT_CHUNK, unique.length)} of ${unique.length} labels written`);
  }
  return {
    file,
    format,
    labels: parsed.labels.length,
    repeatedInFile: parsed.labels.length - unique.length,
    stored,
    alreadyStored,
  };
}

/** `vigil labels import|show`. */
export function registerLabelsCommands(program: Command): void {
  const labels = program
    .command("labels")
    .description("Outcomes (fraud or legit) known about decided events: import and inspect (docs/labels.md)");

  labels
    .command("import")
    .description(
      "Import labels from NDJSON (one label per line, docs/label.schema.json) or CSV with a header row; every line is validated first and nothing is written if one is bad; importing again stores nothing twice",
    )
    .argument("<file>", "file.ndjson | file.jsonl | file.csv")
    .option("--format <format>", "ndjson | csv (default: from the file name)")
    .action(async (file: string, opts: { format?: string }) => {
      const format = (opts.format ?? labelFileFormat(file)) as LabelFileFormat | undefined;
      if (format !== "ndjson" && format !== "csv")
        throw new CliError(`say --format ndjson or csv for ${file}`, LABELS_EXIT.invalid);
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (error) {
        throw new CliError(
          `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
          LABELS_EXIT.invalid,
        );
      }
      const summary = await importLabels(labelStore(), file, text, format, say);
      say(
        `Imported ${file}: ${summary.labels} label(s), ${summary.stored} new, ${summary.alreadyStored} already stored` +
          `${summary.repeatedInFile > 0 ? `, ${summary.repeatedInFile} repeated in the file` : ""}.`,
      );
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    });

  labels
    .command("show")
    .description(
      "Every label of an event (or, with --entity, of an entity), oldest first, and the one in force",
    )
    .argument("<subject...>", "an eventId, or with --entity: <type> <value> (type: userId, deviceId, ...)")
    .option("--entity", "the subject is an entity: <type> <value>")
    .option("--as-of <time>", "which label was in force at this time (ISO-8601; default now)")
    .option("--json", "one JSON label per line")
    .action(async (args: string[], opts: { entity?: boolean; asOf?: string; json?: boolean }) => {
      const subject = subjectFromArgs(args, opts.entity === true);
      const asOf = opts.asOf === undefined ? Date.now() : Date.parse(opts.asOf);
      if (Number.isNaN(asOf)) throw new CliError(`--as-of: not a time: ${opts.asOf}`, LABELS_EXIT.invalid);
      const found = await labelStore().forSubject(subjectKey(subject));
      if (found.length === 0)
        throw new CliError(`no labels for ${subjectKey(subject)}`, LABELS_EXIT.notFound);
      const inForce = labelAsOf(found, asOf);
      for (const label of found) {
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...label, inForce: label === inForce })}\n`);
          continue;
        }
        process.stdout.write(
          `${label.observedAt}  ${label.label.padEnd(5)}  ${label.source.padEnd(10)} ${label.category ?? "-"}  by ${label.author}${label === inForce ? "  (in force)" : ""}\n` +
            `    ${label.labelId}${label.note ? `  ${label.note}` : ""}\n`,
        );
      }
    });
}

function subjectFromArgs(args: readonly string[], entity: boolean): Label["subject"] {
  if (!entity) {
    if (args.length !== 1)
      throw new CliError("give one eventId (or --entity <type> <value>)", LABELS_EXIT.invalid);
    return { eventId: args[0] as string };
  }
  const [type, value] = args;
  if (args.length !== 2 || type === undefined || value === undefined)
    throw new CliError("--entity takes <type> <value>", LABELS_EXIT.invalid);
  if (!(KEY_FIELDS as readonly string[]).includes(type))
    throw new CliError(`entity type ${type}: one of ${KEY_FIELDS.join(", ")}`, LABELS_EXIT.invalid);
  return { entity: { type, value } };
}
