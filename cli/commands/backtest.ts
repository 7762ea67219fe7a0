import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { configurationInForce, shippedConfiguration } from "#cli/backtest/configuration-in-force";
import { CONFIG_EXIT, readFile } from "#cli/config-command";
import { resolveTarget } from "#cli/env";
import { collectPaths, readLabelFiles } from "#cli/labels-option";
import { CliError, say } from "#cli/output";
import type { DecisionsSpec, ObjectStoreSpec } from "#local/backtest/backtest-task";
import { runBacktest } from "#local/backtest/run-backtest";
import { defaultThreads } from "#local/backtest/worker-pool";
import { localSinkPaths } from "#local/local-sinks";
import { DEFAULT_STATE_DIR } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import type { ArchivedRecord } from "#shared/domain/archive/archived-record";
import {
  type BacktestConfiguration,
  type CandidateChange,
  resolveCandidate,
} from "#shared/domain/backtest/configuration";
import { formatReport } from "#shared/domain/backtest/report";
import { ConfigValidationError, type DecisionKind, formatIssue } from "#shared/domain/decision/index";
import { parseDuration } from "#shared/domain/features/duration";
import { ENV, TABLES } from "#shared/resources";

interface BacktestOptions {
  rules?: string;
  lists?: string;
  model?: string;
  features?: string;
  policy?: string;
  since?: string;
  from?: string;
  to?: string;
  events?: string;
  archiveDir?: string;
  decisions?: string;
  inForce?: string;
  labels: string[];
  labelsAsOf?: string;
  threads: string;
  warmUp?: string;
  stateDir: string;
  json?: boolean;
  decisionsOut?: string;
  recompute?: boolean;
}

function time(text: string, flag: string): number {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new CliError(`${flag} ${text}: not a time (ISO-8601)`, CONFIG_EXIT.invalid);
  return ms;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/**
 * An events NDJSON file as archived records: each line's bytes as they are, arriving when the
 * event says it occurred (a file has no stream arrival time, so the event-time bounds hold and
 * only a malformed line is refused, as `vigil evaluate --replay` judges them).
 */
export function fileRecords(text: string, path: string): ArchivedRecord[] {
  const out: ArchivedRecord[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let occurredMs = Number.NaN;
    try {
      const value = JSON.parse(line) as { occurredAt?: unknown };
      if (typeof value.occurredAt === "string") occurredMs = Date.parse(value.occurredAt);
    } catch {
      // Not JSON: the decoder says so, and the line counts as quarantined.
    }
    out.push({
      shardId: "file",
      sequenceNumber: String(i + 1),
      arrivalTime: new Date(Number.isFinite(occurredMs) ? occurredMs : 0).toISOString(),
      partitionKey: "",
      data: Buffer.from(line, "utf8").toString("base64"),
      stream: `file:${path}`,
    });
  });
  return out;
}

/** `vigil backtest`: a candidate configuration replayed on a period of the archive or a file. */
export function registerBacktestCommand(program: Command): void {
  program
    .command("backtest")
    .description(
      "Replay a period of the event archive (or a file of events) with a candidate configuration and print what changes against the one in force: actions, rule hits, quality on labelled events",
    )
    .option("--rules <file>", "candidate rules document (YAML or JSON, as `vigil rules apply` takes)")
    .option("--lists <file>", "candidate lists document")
    .option("--model <file>", "candidate model document")
    .option("--features <file>", "candidate feature set (features are then recomputed from the events)")
    .option("--policy <file>", "candidate policy section (replaces the policy of the rules)")
    .option("--since <duration>", "the archive period ending now (e.g. 24h, 7d)", "24h")
    .option(
      "--from <time>",
      "start of the period (archive: arrival time; --events: event time, earlier events only build features)",
    )
    .option("--to <time>", "end of the period (exclusive); archive default: now")
    .option("--events <file>", "an events NDJSON file instead of the archive")
    .option("--archive-dir <dir>", "a local archive directory (default: the local stack's)")
    .option(
      "--decisions <file>",
      "stored decisions as NDJSON (default with the archive: the decisions table); without any, features are recomputed",
    )
    .option("--in-force <source>", "the configuration compared against: stack (the config table) or defaults")
    .option(
      "--labels <file>",
      "labels (label contract NDJSON) or simulator ground truth; repeatable",
      collectPaths,
      [] as string[],
    )
    .option("--labels-as-of <time>", "count labels known at this time (default: the period's end)")
    .option("--threads <n>", "worker threads", String(defaultThreads()))
    .option(
      "--warm-up <duration>",
      "recomputed features: replay this much archive before the period to build state",
    )
    .option("--state-dir <dir>", "the local stack's state directory", DEFAULT_STATE_DIR)
    .option("--json", "print the report as JSON")
    .option(
      "--decisions-out <file>",
      "write each compared event's actions as NDJSON: eventId, type, before, after, the candidate's rule hits",
    )
    .option("--recompute", "recompute features even when the stored vectors would do (a cross-check)")
    .action(async (opts: BacktestOptions) => {
      const threads = Number(opts.threads);
      if (!Number.isInteger(threads) || threads < 1 || threads > 64)
        throw new CliError("--threads must be an integer in [1, 64]", CONFIG_EXIT.invalid);

      // The candidate.
      const change: { documents: Partial<Record<DecisionKind, unknown>>; policy?: unknown } = {
        documents: {},
      };
      for (const kind of ["rules", "lists", "model", "features"] as const) {
        const path = opts[kind];
        if (path) change.documents[kind] = readFile(path).document;
      }
      if (opts.policy) {
        const doc = readFile(opts.policy).document as { policy?: unknown } | null;
        change.policy = doc !== null && typeof doc === "object" && "policy" in doc ? doc.policy : doc;
      }
      if (Object.keys(change.documents).length === 0 && change.policy === undefined)
        throw new CliError(
          "give a candidate: --rules, --lists, --model, --features and/or --policy",
          CONFIG_EXIT.invalid,
        );

      // The configuration in force, and where stored decisions and the archive are.
      const useStack = opts.inForce !== "defaults";
      if (opts.inForce !== undefined && opts.inForce !== "stack" && opts.inForce !== "defaults")
        throw new CliError("--in-force must be stack or defaults", CONFIG_EXIT.invalid);
      let env: Readonly<Record<string, string | undefined>> = process.env;
      let inForce: BacktestConfiguration;
      let decisions: DecisionsSpec | undefined = opts.decisions
        ? { kind: "file", path: resolve(opts.decisions) }
        : undefined;
      const target = useStack
        ? tryTarget(opts.stateDir, opts.inForce === "stack" || !opts.events)
        : undefined;
      if (target) {
        env = target.env;
        const client = createDynamoDbClient(env);
        try {
          inForce = await configurationInForce(new DynamoDbConfigStore(client, target.table("config")));
        } finally {
          client.destroy();
        }
        if (!decisions && !opts.events && !opts.recompute)
          decisions = { kind: "table", table: target.table("decisions"), env };
      } else {
        say("(comparing against the shipped defaults)");
        inForce = shippedConfiguration();
      }
      let resolved: ReturnType<typeof resolveCandidate>;
      try {
        resolved = resolveCandidate(inForce, change as CandidateChange);
      } catch (error) {
        if (error instanceof ConfigValidationError)
          throw new CliError(
            `invalid candidate ${error.kind}:\n  ${error.issues.map((i) => formatIssue(i)).join("\n  ")}`,
            CONFIG_EXIT.invalid,
          );
        throw error;
      }

      const labels = readLabelFiles(opts.labels);
      const cutoffMs = opts.labelsAsOf ? time(opts.labelsAsOf, "--labels-as-of") : undefined;

      // The events.
      let input: Parameters<typeof runBacktest>[0]["input"];
      if (opts.events) {
        input = {
          kind: "file",
          path: opts.events,
          records: fileRecords(readText(opts.events, "events"), opts.events),
          ...(opts.from ? { fromMs: time(opts.from, "--from") } : {}),
          ...(opts.to ? { toMs: time(opts.to, "--to") } : {}),
        };
      } else {
        const toMs = opts.to ? time(opts.to, "--to") : Date.now();
        let fromMs: number;
        if (opts.from) fromMs = time(opts.from, "--from");
        else {
          const since = parseDuration(opts.since ?? "24h");
          if (since === undefined) throw new CliError(`--since ${opts.since}: expected a duration like 24h`);
          fromMs = toMs - since;
        }
        if (!(toMs > fromMs))
          throw new CliError("the period is empty: --to must be after --from", CONFIG_EXIT.invalid);
        const warmUpMs = opts.warmUp === undefined ? undefined : parseDuration(opts.warmUp);
        if (opts.warmUp !== undefined && warmUpMs === undefined && opts.warmUp !== "0")
          throw new CliError(
            `--warm-up ${opts.warmUp}: expected a duration like 24h, or 0`,
            CONFIG_EXIT.invalid,
          );
        input = {
          kind: "archive",
          store: archiveStore(opts, env),
          fromMs,
          toMs,
          ...(opts.warmUp !== undefined ? { warmUpMs: warmUpMs ?? 0 } : {}),
        };
      }

      if (opts.recompute) decisions = undefined;
      const out = opts.decisionsOut;
      const report = await runBacktest({
        input,
        resolved,
        ...(decisions ? { decisions } : {}),
        ...(out
          ? {
              onEvents: (events) => {
                const sorted = [...events].sort((a, b) => (a.eventId < b.eventId ? -1 : 1));
                writeFileSync(out, sorted.map((e) => `${JSON.stringify(e)}\n`).join(""));
                say(`Wrote the actions of ${sorted.length} events to ${out}.`);
              },
            }
          : {}),
        labels,
        ...(cutoffMs !== undefined ? { cutoffMs } : {}),
        threads,
        log: say,
      });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    });
}

/** The CLI target when one is configured or a local stack runs; undefined otherwise (unless required). */
function tryTarget(stateDir: string, required: boolean) {
  const target = resolveTarget(stateDir);
  if (target.env[TABLES.config.envVar]) return target;
  if (required)
    throw new CliError(
      `${TABLES.config.envVar} is not set and no local stack runs: start one (npx vigil local up), export your deployment's names, or give --in-force defaults`,
    );
  return undefined;
}

/** Where the archive is: --archive-dir, the target's bucket, the target's directory, or the default local one. */
function archiveStore(
  opts: BacktestOptions,
  env: Readonly<Record<string, string | undefined>>,
): ObjectStoreSpec {
  if (opts.archiveDir) return { kind: "files", dir: resolve(opts.archiveDir) };
  const bucket = env[ENV.archiveBucket];
  if (bucket) return { kind: "s3", bucket, env };
  const dir = env[ENV.archiveDir];
  return { kind: "files", dir: dir ?? localSinkPaths(resolve(opts.stateDir)).archiveDir };
}
