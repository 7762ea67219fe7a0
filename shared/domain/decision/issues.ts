import type * as z from "zod";

/**
 * Problems found in operator-written configuration. Every problem names where it is (a path in
 * the document, the rule id, and for CEL the line and column), so an operator can go straight to
 * it; a document with problems is never applied and never replaces a good one.
 */

/** One problem in a configuration document. */
export interface ConfigIssue {
  /** Path in the document, e.g. `rules[3].when` or `policy.bands[0].minScore`. */
  readonly path: string;
  /** Rule the problem is in, when it is in one. */
  readonly ruleId?: string;
  /** Feature definition the problem is in, when it is in one. */
  readonly featureId?: string;
  /** 1-based line and column inside a CEL expression. */
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** Renders one issue on one line: `rules[3] (card_testing).when, line 1, column 14: message`. */
export function formatIssue(issue: ConfigIssue): string {
  const owner = issue.ruleId ?? issue.featureId;
  const rule = owner === undefined ? "" : ` (${owner})`;
  const bracket = issue.path.indexOf(".");
  const path =
    rule === "" || bracket < 0
      ? `${issue.path}${rule}`
      : `${issue.path.slice(0, bracket)}${rule}${issue.path.slice(bracket)}`;
  const at = issue.line === undefined ? "" : `, line ${issue.line}, column ${issue.column ?? 1}`;
  return `${path}${at}: ${issue.message}`;
}

/** A configuration document that failed validation or compilation; `issues` lists every problem. */
export class ConfigValidationError extends Error {
  override readonly name = "ConfigValidationError";
  constructor(
    /** What was being validated: "rules", "lists", "model", "features". */
    readonly kind: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`invalid ${kind} configuration:\n${issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`);
  }
}

/** Zod issues as config issues, with paths written the way the docs write them. */
export function zodIssues(
  issues: readonly z.core.$ZodIssue[],
  ruleIdAt?: (index: number) => string | undefined,
): ConfigIssue[] {
  return issues.map((issue) => {
    const path = formatConfigPath(issue.path);
    const [top, index] = issue.path;
    const ruleId = top === "rules" && typeof index === "number" ? ruleIdAt?.(index) : undefined;
    return { path, message: issue.message, ...(ruleId === undefined ? {} : { ruleId }) };
  });
}

/** `["rules", 3, "when"]` → `rules[3].when`. */
export function formatConfigPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out === "" ? "(document)" : out;
}
