import * as z from "zod";
import { riskEventSchema } from "#shared/domain/event/schema";

/** Where the committed export lives, relative to the repository root. */
export const EVENT_JSON_SCHEMA_PATH = "docs/event.schema.json";

/**
 * The event contract as JSON Schema (draft 2020-12) for producers and their tooling. It states
 * the structure and, as `format`/`pattern`/`minimum` hints, the field rules; the decoder checks
 * all of them (normalization also accepts the variants docs/events.md lists, such as mixed-case
 * emails, and rewrites them canonically).
 */
export function eventJsonSchema(): Record<string, unknown> {
  // Shared field schemas carry an `id` and become `$defs`, so each rule is stated once.
  return z.toJSONSchema(riskEventSchema, { target: "draft-2020-12", io: "input" });
}

/** The file content of the committed export: two-space JSON and a final newline. */
export function eventJsonSchemaText(): string {
  return `${JSON.stringify(eventJsonSchema(), null, 2)}\n`;
}
