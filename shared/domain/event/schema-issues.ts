import type * as z from "zod";
import { formatKey, formatPath } from "#shared/domain/event/path";

/**
 * A message for the first schema issue: where it is and what was expected, built from the
 * issue's code and the schema's own parameters. Never zod's message text and never the input,
 * so no producer value reaches the quarantine message.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const [first] = issues;
  if (first === undefined) return "(record): does not match the event schema";
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return `${formatPath(first.path)}: ${describeIssue(first)}${more}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined
        ? "required"
        : `expected ${issue.expected}, got ${jsonType(issue.input)}`;
    case "invalid_union": {
      const expected = issue.errors.flatMap((branch) =>
        branch.flatMap((inner) => (inner.code === "invalid_type" ? [inner.expected] : [])),
      );
      const got = issue.input === undefined ? "nothing" : jsonType(issue.input);
      return expected.length > 0
        ? `expected ${alternatives(expected)}, got ${got}`
        : "matches none of the allowed forms";
    }
    case "invalid_value":
      return `must be ${issue.values.map((value) => JSON.stringify(value)).join(" or ")}`;
    case "too_big":
      return issue.origin === "string"
        ? `longer than ${issue.maximum} characters`
        : `greater than ${issue.maximum}`;
    case "too_small":
      return issue.origin === "string" && issue.minimum === 1
        ? "must not be empty"
        : `smaller than ${issue.minimum}${issue.origin === "string" ? " characters" : ""}`;
    case "invalid_format":
      return issue.pattern === undefined ? `not a valid ${issue.format}` : `must match ${issue.pattern}`;
    case "unrecognized_keys":
      return `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map(formatKey).join(", ")}`;
    case "invalid_key":
      return `invalid key: ${issue.issues.map(describeIssue).join("; ")}`;
    case "custom":
      // Custom issues come from this project's own refinements.
      return issue.message;
    default:
      return `invalid (${issue.code})`;
  }
}

/** "a", "a or b", "a, b or c". */
function alternatives(words: readonly string[]): string {
  return words.length <= 2 ? words.join(" or ") : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
