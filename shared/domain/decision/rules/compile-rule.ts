import { type CelInput, type CelResult, isCelError, parse, plan } from "@bufbuild/cel";
import type { ConfigIssue } from "#shared/domain/decision/issues";
import { LIST_KINDS, type ListKind } from "#shared/domain/decision/lists/list-schema";
import {
  analyzeExpression,
  type ExpressionAnalysis,
  type ExpressionLimits,
} from "#shared/domain/decision/rules/cel-analysis";
import { ruleCelEnv } from "#shared/domain/decision/rules/cel-env";
import { eventInput } from "#shared/domain/decision/rules/cel-input";
import {
  type CompiledCondition,
  compileCondition,
  type ListSlots,
} from "#shared/domain/decision/rules/compile-cel";
import { safeEvaluationMessage } from "#shared/domain/decision/rules/rule-error";
import {
  type RuleDefinition,
  type RuleOnError,
  ruleOnError,
  ruleReason,
} from "#shared/domain/decision/rules/rule-schema";
import { SAMPLE_EVENTS } from "#shared/domain/decision/rules/sample-events";
import type { EventType } from "#shared/domain/event/index";

/** The inputs of one evaluation (see cel-input.ts). */
export type RuleActivation = Record<string, CelInput>;

/**
 * What evaluating one rule for one event gave. A failure's message never quotes event content
 * (see rule-error.ts); line and column are where in the expression it failed.
 */
export type RuleOutcome =
  | { readonly ok: true; readonly hit: boolean }
  | { readonly ok: false; readonly message: string; readonly line: number; readonly column: number };

/** A rule ready to evaluate. */
export interface CompiledRule {
  readonly rule: RuleDefinition;
  readonly reason: string;
  /** What a failed evaluation means for the decision (the rule's onError, default applied). */
  readonly onError: RuleOnError;
  readonly analysis: ExpressionAnalysis;
  /** Evaluates the condition on Buf's CEL interpreter (the reference semantics). */
  evaluate(activation: RuleActivation): RuleOutcome;
  /**
   * The condition compiled into closures (compile-cel.ts), when the rule stays in the compiled
   * subset and list slots were given: true, false, or DEFER (then call `evaluate`).
   */
  readonly condition?: CompiledCondition;
}

/** Options for compiling rules. */
export interface RuleCompileOptions {
  /** Feature ids of the current feature set; when given, other ids are refused. */
  readonly knownFeatures?: ReadonlySet<string>;
  readonly limits?: ExpressionLimits;
  /** Slots of the list pairs conditions read; when given, conditions are also compiled to closures. */
  readonly listSlots?: ListSlots;
}

/** A line and column (1-based) for a character offset of `source`. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === "\n") {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

const PARSE_POSITION = /^<input>:(\d+):(\d+): (.*)$/s;

/** A parsed CEL expression, or where and why it does not parse. */
export type ParseOutcome =
  | { readonly ok: true; readonly parsed: ReturnType<typeof parse> }
  | { readonly ok: false; readonly line: number; readonly column: number; readonly message: string };

/** Parses a CEL expression, turning the parser's errors into a line, a column and a message. */
export function parseExpression(source: string): ParseOutcome {
  try {
    return { ok: true, parsed: parse(source) };
  } catch (error) {
    if (error instanceof RangeError) {
      return { ok: false, line: 1, column: 1, message: "expression is nested too deeply to parse" };
    }
    const text = error instanceof Error ? error.message : String(error);
    const m = PARSE_POSITION.exec(text);
    return m
      ? { ok: false, line: Number(m[1]), column: Number(m[2]), message: `syntax error: ${m[3]}` }
      : { ok: false, line: 1, column: 1, message: `syntax error: ${text}` };
  }
}

/**
 * Compiles one rule: parses its CEL, runs the static checks of cel-analysis.ts, plans it once,
 * and evaluates it against a sample event of each scenario to catch type errors. Problems are
 * pushed to `issues` with the rule id and the line and column in the expression.
 */
export function compileRule(
  rule: RuleDefinition,
  path: string,
  issues: ConfigIssue[],
  options: RuleCompileOptions = {},
): CompiledRule | undefined {
  const at = (line: number, column: number, message: string): ConfigIssue => ({
    path: `${path}.when`,
    ruleId: rule.id,
    line,
    column,
    message,
  });
  const outcomeOfParse = parseExpression(rule.when);
  if (!outcomeOfParse.ok) {
    issues.push(at(outcomeOfParse.line, outcomeOfParse.column, outcomeOfParse.message));
    return undefined;
  }
  const parsed = outcomeOfParse.parsed;
  const analysis = analyzeExpression(parsed, options);
  for (const p of analysis.problems) {
    const { line, column } = lineColumn(rule.when, p.offset);
    issues.push(at(line, column, p.message));
  }
  if (analysis.problems.length > 0) return undefined;

  const positions = parsed.sourceInfo?.positions ?? {};
  const writtenNames: ReadonlySet<string> = new Set(analysis.names);
  const program = plan(ruleCelEnv(), parsed);
  const outcome = (result: CelResult): RuleOutcome => {
    if (result === true || result === false) return { ok: true, hit: result };
    if (isCelError(result)) {
      const offset = result.exprId === undefined ? 0 : (positions[String(result.exprId)] ?? 0);
      return {
        ok: false,
        message: safeEvaluationMessage(result.message, writtenNames),
        ...lineColumn(rule.when, offset),
      };
    }
    return {
      ok: false,
      message: `the condition gave ${describe(result)}, not true or false`,
      line: 1,
      column: 1,
    };
  };
  const condition = options.listSlots ? compileCondition(parsed, options.listSlots) : undefined;
  const compiled: CompiledRule = {
    rule,
    reason: ruleReason(rule),
    onError: ruleOnError(rule),
    analysis,
    ...(condition ? { condition } : {}),
    evaluate: (activation) => {
      try {
        return outcome(program(activation));
      } catch (error) {
        // The planner turns failures into error values; this keeps the promise if one escapes.
        const raw = error instanceof Error ? error.message : "";
        return { ok: false, message: safeEvaluationMessage(raw, writtenNames), line: 1, column: 1 };
      }
    },
  };

  for (const scenario of rule.scenarios) {
    const result = compiled.evaluate(sampleActivation(scenario, analysis, options.knownFeatures));
    // Only type errors are certain to recur in production; a missing key or a failed conversion
    // can depend on the event (they are recorded per decision as rule errors).
    if (
      !result.ok &&
      (result.message.includes("no matching overload") || result.message.includes("not true or false"))
    ) {
      issues.push(at(result.line, result.column, `for ${scenario} events: ${result.message}`));
      return undefined;
    }
  }
  return compiled;
}

/** Inputs for a scenario's sample event: every referenced feature 1, every list false, score 0.5. */
function sampleActivation(
  scenario: EventType,
  analysis: ExpressionAnalysis,
  knownFeatures: ReadonlySet<string> | undefined,
): RuleActivation {
  const features = new Map<string, CelInput>();
  for (const id of knownFeatures ?? analysis.features) features.set(id, 1);
  const lists = new Map<string, CelInput>();
  for (const { name } of analysis.lists) {
    lists.set(name, new Map<string, CelInput>(LIST_KINDS.map((kind: ListKind) => [kind, false])));
  }
  return { event: eventInput(SAMPLE_EVENTS[scenario]), features, lists, score: 0.5 };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return "a string";
  if (typeof value === "number" || typeof value === "bigint") return "a number";
  return "a value of another type";
}
