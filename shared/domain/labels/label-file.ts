import { CsvError, parse } from "csv-parse/sync";
import {
  LABEL_SCHEMA_VERSION,
  type Label,
  LabelValidationError,
  parseLabel,
} from "#shared/domain/labels/label-schema";

/**
 * Label files as operators and acquirers send them: NDJSON (one label object per line, the
 * contract of label-schema.ts) or CSV with a header row. Parsing is all or nothing by design: it
 * returns every problem with its line number, and callers write nothing unless there is none.
 */

/** A file format `vigil labels import` reads. */
export type LabelFileFormat = "ndjson" | "csv";

/** A line that is not a valid label, 1-based. */
export interface LabelLineError {
  readonly line: number;
  readonly message: string;
}

/** What a label file holds: the labels in file order (with their lines), or what is wrong with it. */
export interface ParsedLabelFile {
  readonly labels: readonly { readonly line: number; readonly label: Label }[];
  readonly errors: readonly LabelLineError[];
}

/**
 * CSV columns. `eventId` names an event subject; `entityType` and `entityValue` an entity subject
 * (exactly one of the two per row). An empty cell is an absent field; `schemaVersion` defaults
 * to the current contract version.
 */
export const LABEL_CSV_COLUMNS = [
  "eventId",
  "entityType",
  "entityValue",
  "label",
  "category",
  "source",
  "observedAt",
  "author",
  "note",
  "labelId",
  "schemaVersion",
] as const;

/** The format from a file name: `.csv` is CSV, `.ndjson`, `.jsonl` and `.json` are NDJSON. */
export function labelFileFormat(fileName: string): LabelFileFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".ndjson") || lower.endsWith(".jsonl") || lower.endsWith(".json")) return "ndjson";
  return undefined;
}

/** Parses a label file; never throws for its content. */
export function parseLabelFile(text: string, format: LabelFileFormat): ParsedLabelFile {
  return format === "csv" ? parseCsv(text) : parseNdjson(text);
}

/** A file being parsed: labels and errors found so far. */
interface Collected {
  readonly labels: { line: number; label: Label }[];
  readonly errors: LabelLineError[];
}

function validate(value: unknown, line: number, out: Collected): void {
  try {
    out.labels.push({ line, label: parseLabel(value) });
  } catch (error) {
    if (!(error instanceof LabelValidationError)) throw error;
    out.errors.push({ line, message: error.message });
  }
}

function parseNdjson(text: string): ParsedLabelFile {
  const out: Collected = { labels: [], errors: [] };
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      out.errors.push({ line: i + 1, message: "not JSON" });
      return;
    }
    validate(value, i + 1, out);
  });
  return out;
}

type CsvRow = Readonly<Record<string, string>>;

function parseCsv(text: string): ParsedLabelFile {
  const out: Collected = { labels: [], errors: [] };
  let rows: { record: CsvRow; info: { lines: number; raw?: string } }[];
  try {
    rows = parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim()),
      info: true,
      raw: true,
      skip_empty_lines: true,
      trim: true,
      bom: true,
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = (error as CsvError & { lines?: number }).lines ?? 1;
    return { labels: [], errors: [{ line, message: `not valid CSV: ${error.message}` }] };
  }
  const header = rows[0] ? Object.keys(rows[0].record) : firstLineColumns(text);
  const unknown = header.filter((h) => !(LABEL_CSV_COLUMNS as readonly string[]).includes(h));
  if (unknown.length > 0) {
    return {
      labels: [],
      errors: [
        {
          line: 1,
          message: `unknown column(s) ${unknown.join(", ")}; columns: ${LABEL_CSV_COLUMNS.join(", ")}`,
        },
      ],
    };
  }
  for (const { record, info } of rows) {
    // info.lines is where the record ended; a quoted cell may span lines. The raw text ends with
    // the record delimiter, except for the file's last record.
    const inside = (info.raw ?? "").replace(/\r?\n$/, "");
    const line = info.lines - (inside.match(/\n/g)?.length ?? 0);
    const row = csvLabel(record);
    if ("problem" in row) out.errors.push({ line, message: row.problem });
    else validate(row.value, line, out);
  }
  return out;
}

function firstLineColumns(text: string): string[] {
  return (text.split("\n")[0] ?? "")
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "");
}

/** A CSV row as a label object (before validation), or why it cannot be one. */
function csvLabel(row: CsvRow): { value: Record<string, unknown> } | { problem: string } {
  const cell = (name: string) => {
    const v = row[name];
    return v === undefined || v === "" ? undefined : v;
  };
  const eventId = cell("eventId");
  const entityType = cell("entityType");
  const entityValue = cell("entityValue");
  let subject: Record<string, unknown>;
  if (eventId !== undefined) {
    if (entityType !== undefined || entityValue !== undefined)
      return { problem: "give eventId or entityType and entityValue, not both" };
    subject = { eventId };
  } else if (entityType !== undefined && entityValue !== undefined) {
    subject = { entity: { type: entityType, value: entityValue } };
  } else {
    return { problem: "subject: eventId, or entityType and entityValue, is required" };
  }
  const version = cell("schemaVersion");
  const value: Record<string, unknown> = {
    schemaVersion: version === undefined ? LABEL_SCHEMA_VERSION : Number(version),
    subject,
  };
  for (const name of ["label", "category", "source", "observedAt", "author", "note", "labelId"]) {
    const v = cell(name);
    if (v !== undefined) value[name] = v;
  }
  return { value };
}
