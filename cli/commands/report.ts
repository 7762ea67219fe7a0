import { resolve } from "node:path";
import type { Command } from "commander";
import { collectPaths, outcomesFromFiles } from "#cli/labels-option";
import { CliError, say } from "#cli/output";
import { generateReport } from "#cli/report/generate-report";
import { localSinkPaths } from "#local/local-sinks";
import { DEFAULT_STATE_DIR } from "#local/local-stack";
import { readStatus } from "#local/supervisor";
import { parseDuration } from "#shared/domain/features/duration";
import { ENV } from "#shared/resources";

/**
 * The environment a report reads: this shell's if it names an OpenSearch endpoint or an audit
 * directory (AWS, LocalStack, or a sourced local.env), else the running local stack's, else the
 * default local audit directory without quarantine counts.
 */
function reportEnv(stateDir: string): Readonly<Record<string, string | undefined>> {
  if (process.env[ENV.openSearchEndpoint] || process.env[ENV.auditDir]) return process.env;
  const status = readStatus(stateDir);
  if (status) {
    say(`(using the local stack from ${status.envFile})`);
    return { ...process.env, ...status.env };
  }
  const dir = localSinkPaths(resolve(stateDir)).auditDir;
  say(`(no local stack running: reading ${dir}, without quarantine counts)`);
  return { ...process.env, [ENV.auditDir]: dir };
}

/** `vigil report`: the risk report as one self-contained HTML file. */
export function registerReportCommands(program: Command): void {
  program
    .command("report")
    .description(
      "Write an HTML risk report: decisions over time, actions by scenario, top rules, scores, entities, quarantine, per-rule statistics",
    )
    .option("--since <duration>", "window length, ending now (e.g. 90m, 24h, 7d)", "24h")
    .option("--until <time>", "end of the window (ISO-8601), default now")
    .option("--out <file>", "output file", "report.html")
    .option("--top <n>", "length of the top lists", "10")
    .option("--state-dir <dir>", "the local stack's state directory", DEFAULT_STATE_DIR)
    .option(
      "--labels <file>",
      "labels or ground truth for the rules table's fraud/legit shares (repeatable)",
      collectPaths,
      [] as string[],
    )
    .option("--labels-as-of <time>", "labels known at this time count (default: now)")
    .action(
      async (opts: {
        since: string;
        until?: string;
        out: string;
        top: string;
        stateDir: string;
        labels: string[];
        labelsAsOf?: string;
      }) => {
        const sinceMs = parseDuration(opts.since);
        if (sinceMs === undefined)
          throw new CliError(`--since ${opts.since}: expected a duration like 90m, 24h or 7d`);
        const until = opts.until ? new Date(opts.until) : undefined;
        if (until && Number.isNaN(until.getTime())) throw new CliError(`--until ${opts.until}: not a time`);
        const top = Number(opts.top);
        if (!Number.isInteger(top) || top < 1 || top > 100)
          throw new CliError("--top must be an integer in [1, 100]");
        const outcomes = outcomesFromFiles(opts.labels, opts.labelsAsOf);
        let report: Awaited<ReturnType<typeof generateReport>>;
        try {
          report = await generateReport({
            env: reportEnv(opts.stateDir),
            sinceMs,
            ...(until ? { until } : {}),
            out: opts.out,
            top,
            ...(outcomes ? { outcomes } : {}),
          });
        } catch (error) {
          throw new CliError(`report failed: ${(error as Error).message}`);
        }
        say(`Wrote ${report.path} (${report.data.total} decisions from ${report.source}).`);
        process.stdout.write(
          `${JSON.stringify({ path: report.path, decisions: report.data.total, source: report.source })}\n`,
        );
      },
    );
}
