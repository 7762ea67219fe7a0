import { type CelEnv, celEnv } from "@bufbuild/cel";
import { RE2JS } from "@bufbuild/re2";

/**
 * The CEL environment rules run in: Buf's CEL (`@bufbuild/cel`) with its standard library and
 * RE2 for `matches`, a regular-expression engine that runs in time linear in the input, so no
 * pattern can backtrack catastrophically. Patterns must be string literals (see
 * cel-analysis.ts), so each is compiled once, at rule compile time, and kept here.
 */

/** The names a rule expression can use; anything else is refused at compile time. */
export const CEL_VARIABLES = ["event", "features", "lists", "score"] as const;

/** Compiled patterns by source. Literal-only patterns bound it to the patterns in the rules. */
const patterns = new Map<string, RE2JS>();
/** Upper bound on cached patterns, in case many rule versions come and go in one process. */
const MAX_CACHED_PATTERNS = 5_000;

/** Compiles an RE2 pattern (cached), or throws RE2's syntax error. */
export function compilePattern(pattern: string): RE2JS {
  let compiled = patterns.get(pattern);
  if (compiled === undefined) {
    compiled = RE2JS.compile(pattern);
    if (patterns.size >= MAX_CACHED_PATTERNS) patterns.clear();
    patterns.set(pattern, compiled);
  }
  return compiled;
}

let shared: CelEnv | undefined;

/** The one CEL environment (building it registers the standard library, so it is built once). */
export function ruleCelEnv(): CelEnv {
  shared ??= celEnv({ re2: { compile: (pattern) => compilePattern(pattern) } });
  return shared;
}
