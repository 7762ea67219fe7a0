import { type CelInput, isCelError, plan } from "@bufbuild/cel";
import { analyzeExpression, type ExpressionLimits } from "#shared/domain/decision/rules/cel-analysis";
import { ruleCelEnv } from "#shared/domain/decision/rules/cel-env";
import { eventInput } from "#shared/domain/decision/rules/cel-input";
import { lineColumn, parseExpression } from "#shared/domain/decision/rules/compile-rule";
import { SAMPLE_EVENTS } from "#shared/domain/decision/rules/sample-events";
import type { CleanEvent } from "#shared/domain/event/index";
import type { ConditionCompiler } from "#shared/domain/features/index";

/**
 * CEL filter conditions of feature definitions (`filter.condition.cel`), on the same CEL as the
 * rules: Buf's `@bufbuild/cel`, RE2 for `matches`, the same static checks and cost bound.
 *
 * - A condition sees only `event` (the rule view of the event: docs/decision-engine.md, with
 *   `amountMinor`, `occurredAtMs`, `emailDomain`). Not `features`, `lists` or `score`: whether an
 *   event counts must depend on the event alone, so that the value is the same on every delivery
 *   and in the reference implementation, whatever the lists or the model are at the time.
 * - `true` counts the event. `false` does not, and neither does an evaluation error (a missing
 *   key such as `event.attributes.channel` on an event without it): the same event always gives
 *   the same answer, so errors cannot break exactly-once. Write `has(event.attributes.channel) &&`
 *   to make the intent explicit.
 * - Compile time: syntax, names, functions, regular expressions and cost are checked, and the
 *   condition is evaluated on a sample event of every type to catch type errors (comparing the
 *   decimal string `event.amount` with a number, say). Problems carry a line and a column.
 */

/** Names a feature condition may use. */
export const FEATURE_CONDITION_VARIABLES = ["event"] as const;

/** Feature conditions are small: a tenth of a rule's budget. */
export const FEATURE_CONDITION_LIMITS: ExpressionLimits = { maxNodes: 100, maxDepth: 20, maxCost: 2_000 };

/**
 * The `event` input, built once per event whatever the number of conditions that read it.
 * Weak keys: inputs go with their events.
 */
const inputs = new WeakMap<CleanEvent, Map<string, CelInput>>();

function inputOf(event: CleanEvent): Map<string, CelInput> {
  let input = inputs.get(event);
  if (input === undefined) {
    input = eventInput(event);
    inputs.set(event, input);
  }
  return input;
}

/** The condition compiler feature sets are compiled with (score function, CLI, replay). */
export const featureConditions: ConditionCompiler = {
  compile(expression) {
    const parsed = parseExpression(expression);
    if (!parsed.ok)
      return { ok: false, message: `line ${parsed.line}, column ${parsed.column}: ${parsed.message}` };
    const analysis = analyzeExpression(parsed.parsed, {
      variables: FEATURE_CONDITION_VARIABLES,
      limits: FEATURE_CONDITION_LIMITS,
    });
    const [problem] = analysis.problems;
    if (problem) {
      const { line, column } = lineColumn(expression, problem.offset);
      return { ok: false, message: `line ${line}, column ${column}: ${problem.message}` };
    }
    const program = plan(ruleCelEnv(), parsed.parsed);
    const positions = parsed.parsed.sourceInfo?.positions ?? {};
    for (const sample of Object.values(SAMPLE_EVENTS)) {
      const result = program({ event: eventInput(sample) });
      if (result === true || result === false) continue;
      if (isCelError(result)) {
        const message = result.message;
        // Missing keys depend on the event; type errors recur on every event of the type.
        if (!message.includes("no matching overload")) continue;
        const offset = result.exprId === undefined ? 0 : (positions[String(result.exprId)] ?? 0);
        const { line, column } = lineColumn(expression, offset);
        return {
          ok: false,
          message: `line ${line}, column ${column}: for ${sample.type} events: ${message}`,
        };
      }
      return {
        ok: false,
        message: `the condition must give true or false; for ${sample.type} events it does not`,
      };
    }
    return { ok: true, test: (event) => program({ event: inputOf(event) }) === true };
  },
};
