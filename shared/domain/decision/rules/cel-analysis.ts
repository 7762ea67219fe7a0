import type { parse } from "@bufbuild/cel";
import { isListName, LIST_KINDS, type ListKind } from "#shared/domain/decision/lists/list-schema";
import { CEL_VARIABLES, compilePattern } from "#shared/domain/decision/rules/cel-env";
import { EVENT_FIELDS, GEO_FIELDS } from "#shared/domain/decision/rules/cel-input";

/**
 * Static checks of a parsed CEL expression, done once at compile time:
 *
 * - names: only `event`, `features`, `lists`, `score` and macro variables; known `event` fields;
 *   list references of the form `lists.<name>.<kind>`; feature ids, when the feature set is known;
 * - functions: the standard operators and a small allow-list (size, conversions, string tests),
 *   so the cost of every call is known;
 * - regular expressions: patterns must be string literals and compile under RE2;
 * - size and cost: AST nodes, nesting depth, and a static upper bound on evaluation steps in
 *   which each comprehension (`exists`, `all`, `map`, `filter`...) multiplies its body by the
 *   largest collection it can range over. Inputs are bounded (at most 200 features, 32
 *   attributes, a few lists), so the bound holds for every event and no runtime budget is needed.
 */

type ParsedExpr = ReturnType<typeof parse>;
type Expr = ParsedExpr["expr"];

/** Limits on one expression. */
export interface ExpressionLimits {
  readonly maxNodes: number;
  readonly maxDepth: number;
  /** Upper bound on evaluation steps (node visits) for any input. */
  readonly maxCost: number;
}

/** Default limits: far above any sensible rule, far below anything that could slow a batch. */
export const DEFAULT_EXPRESSION_LIMITS: ExpressionLimits = { maxNodes: 500, maxDepth: 40, maxCost: 20_000 };

/**
 * Largest collection a comprehension can range over when it is not a literal: the feature map
 * (at most 200 features per set), the attribute map (at most 32), the lists map.
 */
export const MAX_INPUT_COLLECTION = 256;

/** One problem, at a character offset of the expression. */
export interface ExpressionProblem {
  readonly offset: number;
  readonly message: string;
}

/** What an expression reads and costs. */
export interface ExpressionAnalysis {
  readonly features: readonly string[];
  readonly lists: readonly { readonly name: string; readonly kind: ListKind }[];
  readonly usesScore: boolean;
  /**
   * Field names and string literals written in the expression (`features.x`, `event.attributes.y`,
   * `m["z"]`): operator-written text, which an error message may quote without quoting an event.
   */
  readonly names: readonly string[];
  readonly nodes: number;
  readonly depth: number;
  readonly cost: number;
  readonly problems: readonly ExpressionProblem[];
}

/** Operators, by their CEL internal names. */
const OPERATORS = new Set([
  "_&&_",
  "_||_",
  "!_",
  "-_",
  "_?_:_",
  "_==_",
  "_!=_",
  "_<_",
  "_<=_",
  "_>_",
  "_>=_",
  "_+_",
  "_-_",
  "_*_",
  "_/_",
  "_%_",
  "_[_]",
  "@in",
  "@not_strictly_false",
]);

/** Functions and methods rules may call; each runs in time linear in its (bounded) arguments. */
const FUNCTIONS = new Set([
  "size",
  "int",
  "uint",
  "double",
  "string",
  "bool",
  "dyn",
  "matches",
  "startsWith",
  "endsWith",
  "contains",
]);

/** Options of analyzeExpression. */
export interface AnalysisOptions {
  /** When given, feature ids outside it are problems. */
  readonly knownFeatures?: ReadonlySet<string>;
  readonly limits?: ExpressionLimits;
  /** Root names the expression may use; default CEL_VARIABLES (feature filters: only `event`). */
  readonly variables?: readonly string[];
}

/** Analyzes a parsed expression; `knownFeatures` (when given) makes unknown feature ids problems. */
export function analyzeExpression(parsed: ParsedExpr, options: AnalysisOptions = {}): ExpressionAnalysis {
  const limits = options.limits ?? DEFAULT_EXPRESSION_LIMITS;
  const allowed = options.variables ?? CEL_VARIABLES;
  const variables: ReadonlySet<string> = new Set(allowed);
  const positions = parsed.sourceInfo?.positions ?? {};
  const offsetOf = (e: Expr): number => positions[String(e.id)] ?? 0;
  const problems: ExpressionProblem[] = [];
  const features = new Set<string>();
  const lists = new Map<string, { name: string; kind: ListKind }>();
  let usesScore = false;
  const names = new Set<string>();
  let nodes = 0;
  let maxDepth = 0;

  const problem = (e: Expr, message: string) => problems.push({ offset: offsetOf(e), message });

  const referenceFeature = (e: Expr, id: string) => {
    // Reported once per id: `has(features.x) && features.x > 1` is one mistake, not two.
    const first = !features.has(id);
    features.add(id);
    if (first && options.knownFeatures !== undefined && !options.knownFeatures.has(id)) {
      problem(e, `unknown feature '${id}'; the feature set has no feature with this id`);
    }
  };

  /** True for an identifier naming a root variable (not shadowed by a macro variable). */
  const isRoot = (e: Expr, name: string, scope: ReadonlySet<string>) =>
    e.exprKind.case === "identExpr" && e.exprKind.value.name === name && !scope.has(name);

  const checkSelect = (e: Expr, operand: Expr, field: string, scope: ReadonlySet<string>) => {
    if (isRoot(operand, "features", scope)) referenceFeature(e, field);
    else if (isRoot(operand, "event", scope)) {
      if (!EVENT_FIELDS.has(field)) problem(e, `event has no field '${field}'`);
    } else if (isRoot(operand, "lists", scope)) {
      if (!isListName(field)) problem(e, `'${field}' is not a list name (lower snake case)`);
    } else if (operand.exprKind.case === "selectExpr") {
      const inner = operand.exprKind.value;
      if (
        inner.operand &&
        isRoot(inner.operand, "event", scope) &&
        inner.field === "geo" &&
        !GEO_FIELDS.has(field)
      ) {
        problem(e, `event.geo has no field '${field}'; it has country and city`);
      }
      if (inner.operand && isRoot(inner.operand, "lists", scope)) {
        if ((LIST_KINDS as readonly string[]).includes(field)) {
          lists.set(`${inner.field}.${field}`, { name: inner.field, kind: field as ListKind });
        } else {
          problem(e, `lists.${inner.field} has no kind '${field}'; kinds are ${LIST_KINDS.join(", ")}`);
        }
      }
    }
  };

  const checkCall = (
    e: Expr,
    fn: string,
    target: Expr | undefined,
    args: readonly Expr[],
    scope: ReadonlySet<string>,
  ) => {
    if (!OPERATORS.has(fn) && !FUNCTIONS.has(fn)) {
      problem(
        e,
        `function '${fn}' is not available; rules may use ${[...FUNCTIONS].join(", ")} and operators`,
      );
      return;
    }
    if (fn === "matches") {
      const pattern = target === undefined ? args[1] : args[0];
      if (pattern === undefined) return;
      if (
        pattern.exprKind.case !== "constExpr" ||
        pattern.exprKind.value.constantKind.case !== "stringValue"
      ) {
        problem(
          pattern,
          "the pattern of matches() must be a string literal, so it can be checked before use",
        );
        return;
      }
      try {
        compilePattern(pattern.exprKind.value.constantKind.value);
      } catch (error) {
        problem(
          pattern,
          `invalid RE2 regular expression: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    const [container, key] = args;
    if (
      fn === "_[_]" &&
      container !== undefined &&
      key !== undefined &&
      isRoot(container, "features", scope)
    ) {
      if (key.exprKind.case === "constExpr" && key.exprKind.value.constantKind.case === "stringValue") {
        referenceFeature(e, key.exprKind.value.constantKind.value);
      }
    }
  };

  /** Returns the cost bound of `e`. */
  const walk = (e: Expr | undefined, scope: ReadonlySet<string>, depth: number): number => {
    if (e === undefined) return 0;
    nodes++;
    maxDepth = Math.max(maxDepth, depth);
    const kind = e.exprKind;
    switch (kind.case) {
      case "constExpr":
        if (kind.value.constantKind.case === "stringValue") names.add(kind.value.constantKind.value);
        return 1;
      case "identExpr": {
        const name = kind.value.name;
        if (scope.has(name)) return 1;
        if (!variables.has(name))
          problem(e, `unknown name '${name}'; expressions can use ${allowed.join(", ")}`);
        if (name === "score") usesScore = true;
        return 1;
      }
      case "selectExpr": {
        const { operand, field } = kind.value;
        names.add(field);
        if (operand !== undefined) checkSelect(e, operand, field, scope);
        return 1 + walk(operand, scope, depth + 1);
      }
      case "callExpr": {
        const { function: fn, target, args } = kind.value;
        checkCall(e, fn, target, args, scope);
        let cost = 1 + walk(target, scope, depth + 1);
        for (const arg of args) cost += walk(arg, scope, depth + 1);
        return cost;
      }
      case "listExpr": {
        let cost = 1;
        for (const element of kind.value.elements) cost += walk(element, scope, depth + 1);
        return cost;
      }
      case "structExpr": {
        if (kind.value.messageName !== "") problem(e, "message types are not available in rules");
        let cost = 1;
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === "mapKey") cost += walk(entry.keyKind.value, scope, depth + 1);
          cost += walk(entry.value, scope, depth + 1);
        }
        return cost;
      }
      case "comprehensionExpr": {
        const c = kind.value;
        const inner = new Set(scope);
        for (const name of [c.iterVar, c.iterVar2, c.accuVar]) if (name !== "") inner.add(name);
        const range = walk(c.iterRange, scope, depth + 1);
        const init = walk(c.accuInit, scope, depth + 1);
        const body = walk(c.loopCondition, inner, depth + 1) + walk(c.loopStep, inner, depth + 1);
        const result = walk(c.result, inner, depth + 1);
        return 1 + range + init + iterationBound(c.iterRange) * body + result;
      }
      default:
        return 1;
    }
  };

  const cost = walk(parsed.expr, new Set(), 1);
  if (nodes > limits.maxNodes)
    problems.push({ offset: 0, message: `expression has ${nodes} nodes; at most ${limits.maxNodes}` });
  if (maxDepth > limits.maxDepth) {
    problems.push({
      offset: 0,
      message: `expression is nested ${maxDepth} deep; at most ${limits.maxDepth}`,
    });
  }
  if (cost > limits.maxCost) {
    problems.push({
      offset: 0,
      message: `evaluation may take up to ${cost} steps; at most ${limits.maxCost} (nested comprehensions over inputs multiply)`,
    });
  }
  return {
    features: [...features],
    lists: [...lists.values()],
    usesScore,
    names: [...names],
    nodes,
    depth: maxDepth,
    cost,
    problems,
  };
}

/** How many times a comprehension over `range` can iterate. */
function iterationBound(range: Expr | undefined): number {
  if (range?.exprKind.case === "listExpr") return range.exprKind.value.elements.length;
  if (range?.exprKind.case === "structExpr") return range.exprKind.value.entries.length;
  return MAX_INPUT_COLLECTION;
}
