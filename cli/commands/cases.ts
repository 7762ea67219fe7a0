import type { Command } from "commander";
import {
  type CaseDependencies,
  CaseNotFoundError,
  listCases,
  resolveCaseOperation,
  showCase,
} from "#cli/case-operations";
import { defaultAuthor } from "#cli/config-command";
import { resolveTarget } from "#cli/env";
import { openSearchFromEnv } from "#cli/opensearch-env";
import { CliError, say } from "#cli/output";
import { AuditFileDecisionHistory, OpenSearchDecisionHistory } from "#shared/adapters/audit-decision-history";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbCaseStore } from "#shared/adapters/dynamodb-case-store";
import { DynamoDbDecisionScan } from "#shared/adapters/dynamodb-decision-scan";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import { DynamoDbLabelStore } from "#shared/adapters/dynamodb-label-store";
import { DEFAULT_CASE_ACTIONS } from "#shared/domain/cases/cases";
import { ACTIONS, type Action } from "#shared/domain/decision/action";
import { EVENT_TYPES, type EventType } from "#shared/domain/event/index";
import { parseDuration } from "#shared/domain/features/duration";
import { LABEL_VALUES, LabelValidationError, type LabelValue } from "#shared/domain/labels/index";
import { CaseAlreadyResolvedError } from "#shared/ports/case-store";
import type { DecisionHistory } from "#shared/ports/decision-history";
import { ENV } from "#shared/resources";

/** Exit codes of the case commands: invalid input, not found, already resolved. */
export const CASES_EXIT = { invalid: 2, notFound: 3, conflict: 4 } as const;

/** The queue's stores in the target environment; the history comes from the audit trail when one is configured. */
export function caseDependencies(): CaseDependencies {
  const target = resolveTarget();
  const client = createDynamoDbClient(target.env);
  const history = historyFromEnv(target.env);
  return {
    decisions: new DynamoDbDecisionStore(client, target.table("decisions"), 0),
    scan: new DynamoDbDecisionScan(client, target.table("decisions")),
    cases: new DynamoDbCaseStore(client, target.table("cases"), target.table("labels")),
    labels: new DynamoDbLabelStore(client, target.table("labels")),
    ...(history ? { history } : {}),
  };
}

function historyFromEnv(env: Readonly<Record<string, string | undefined>>): DecisionHistory | undefined {
  const openSearch = openSearchFromEnv(env);
  if (openSearch) return new OpenSearchDecisionHistory(openSearch.client, openSearch.prefix);
  const dir = env[ENV.auditDir];
  return dir ? new AuditFileDecisionHistory(dir) : undefined;
}

async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (error instanceof CaseNotFoundError) throw new CliError(error.message, CASES_EXIT.notFound);
    if (error instanceof CaseAlreadyResolvedError)
      throw new CliError(`${error.message}; use --amend to change it`, CASES_EXIT.conflict);
    if (error instanceof LabelValidationError) throw new CliError(error.message, CASES_EXIT.invalid);
    throw error;
  }
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new CliError(`${name} ${value}: one of ${allowed.join(", ")}`, CASES_EXIT.invalid);
  return value as T;
}

/** `vigil cases list|show|resolve`: the review queue. */
export function registerCasesCommands(program: Command): void {
  const cases = program
    .command("cases")
    .description("The review queue: decisions a person should look at, resolved into labels (docs/cases.md)");

  cases
    .command("list")
    .description("Cases (decisions with a review action, or as filtered), newest first")
    .option("--scenario <type>", `only this event type (${EVENT_TYPES.join(", ")})`)
    .option("--since <duration>", "only decisions of the last ... (e.g. 90m, 24h, 7d)")
    .option("--rule <id>", "only decisions where this rule hit")
    .option("--action <actions>", "comma-separated actions that make a case", DEFAULT_CASE_ACTIONS.join(","))
    .option("--min-score <p>", "only decisions whose model score is at least this")
    .option("--status <status>", "open | resolved | all", "open")
    .option("--limit <n>", "at most this many", "50")
    .option("--json", "one JSON object per line")
    .action(
      (opts: {
        scenario?: string;
        since?: string;
        rule?: string;
        action: string;
        minScore?: string;
        status: string;
        limit: string;
        json?: boolean;
      }) =>
        run(async () => {
          const scenario = oneOf<EventType>("--scenario", opts.scenario, EVENT_TYPES);
          const actions = opts.action
            .split(",")
            .map((a) => oneOf<Action>("--action", a.trim(), ACTIONS) as Action);
          const status = oneOf("--status", opts.status, ["open", "resolved", "all"] as const) ?? "open";
          let sinceMs: number | undefined;
          if (opts.since !== undefined) {
            const span = parseDuration(opts.since);
            if (span === undefined)
              throw new CliError(`--since ${opts.since}: a duration like 24h`, CASES_EXIT.invalid);
            sinceMs = Date.now() - span;
          }
          const minScore = opts.minScore === undefined ? undefined : Number(opts.minScore);
          if (minScore !== undefined && !(minScore >= 0 && minScore <= 1))
            throw new CliError("--min-score: a probability in [0, 1]", CASES_EXIT.invalid);
          const listed = await listCases(
            caseDependencies(),
            {
              actions,
              ...(scenario ? { scenario } : {}),
              ...(opts.rule ? { rule: opts.rule } : {}),
              ...(sinceMs === undefined ? {} : { sinceMs }),
              ...(minScore === undefined ? {} : { minScore }),
            },
            { status, limit: Number(opts.limit) },
          );
          if (listed.length === 0) say("No cases.");
          for (const c of listed) {
            if (opts.json) {
              process.stdout.write(`${JSON.stringify(c)}\n`);
              continue;
            }
            const score = c.score === null ? "    -" : c.score.toFixed(3);
            const state = c.resolution
              ? `${c.resolution.label} by ${c.resolution.resolvedBy} ${c.resolution.resolvedAt}`
              : "open";
            process.stdout.write(
              `${c.caseId}  ${c.decidedAt}  ${c.type.padEnd(17)} ${c.action.padEnd(14)} ${score}  ${state}\n    ${c.reasons.join(" ") || "-"}\n`,
            );
          }
        }),
    );

  cases
    .command("show")
    .description(
      "One case: the decision with its exact features, rule hits and contributions, its labels, and the account's recent decisions",
    )
    .argument("<id>", "the case id (the decided eventId)")
    .option("--history <n>", "recent decisions of the account to show", "20")
    .action((id: string, opts: { history: string }) =>
      run(async () => {
        const detail = await showCase(caseDependencies(), id, Number(opts.history));
        process.stdout.write(`${JSON.stringify(detail, null, 2)}\n`);
      }),
    );

  cases
    .command("resolve")
    .description("Resolve a case: writes a review label about its event and records who resolved it and when")
    .argument("<id>", "the case id (the decided eventId)")
    .requiredOption("--label <label>", "fraud | legit")
    .option("--category <category>", "the kind, in your own words (card_testing, friendly_fraud, ...)")
    .option("--note <text>", "why")
    .option("--author <name>", "who resolves it", defaultAuthor())
    .option("--amend", "replace an earlier resolution (the earlier label stays, the new one is in force)")
    .action(
      (
        id: string,
        opts: { label: string; category?: string; note?: string; author: string; amend?: boolean },
      ) =>
        run(async () => {
          const label = oneOf<LabelValue>("--label", opts.label, LABEL_VALUES) as LabelValue;
          const resolution = await resolveCaseOperation(
            caseDependencies(),
            id,
            {
              label,
              ...(opts.category ? { category: opts.category } : {}),
              ...(opts.note ? { note: opts.note } : {}),
              resolvedBy: opts.author,
              resolvedAt: new Date().toISOString(),
            },
            { amend: opts.amend === true },
          );
          say(
            `Case ${id} resolved as ${resolution.label} by ${resolution.resolvedBy} (label ${resolution.labelId}).`,
          );
          process.stdout.write(`${JSON.stringify(resolution)}\n`);
        }),
    );
}
