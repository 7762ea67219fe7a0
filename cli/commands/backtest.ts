import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { configurationInForce, shippedConfiguration } from "#cli/backtest/configuration-in-force";
import {
  collectDistributedBacktest,
  createSfnClient,
  executionArnOf,
  periodItems,
  startDistributedBacktest,
  waitForExecution,
} from "#cli/backtest/distributed-run";
import { CONFIG_EXIT, readFile } from "#cli/config-command";
import { resolveTarget } from "#cli/env";
import { collectPaths, readLabelFiles } from "#cli/labels-option";
import { CliError, say } from "#cli/output";
import type { DecisionsSpec, ObjectStoreSpec } from "#local/backtest/backtest-task";
import { labelCutoff, runBacktest } from "#local/backtest/run-backtest";
import { defaultThreads } from "#local/backtest/worker-pool";
import { localSinkPaths } from "#local/local-sinks";
import { DEFAULT_STATE_DIR } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import { DynamoDbLabelStore } from "#shared/adapters/dynamodb-label-store";
import { createS3Client, S3ObjectStore } from "#shared/adapters/s3-object-store";
import type { ArchivedRecord } from "#shared/domain/archive/archived-record";
import {
  type BacktestConfiguration,
  type CandidateChange,
  type ResolvedCandidate,
  resolveCandidate,
} from "#shared/domain/backtest/configuration";
import {
  newRunId,
  planStoredVectorRun,
  RUN_ID_PATTERN,
  reportOfSlices,
} from "#shared/domain/backtest/distributed";
import { outcomesAsOf } from "#shared/domain/backtest/outcomes";
import { type BacktestReport, formatReport } from "#shared/domain/backtest/report";
import { ConfigValidationError, type DecisionKind, formatIssue } from "#shared/domain/decision/index";
import { parseDuration } from "#shared/domain/features/duration";
import type { Label } from "#shared/domain/labels/index";
import { ENV, TABLES } from "#shared/resources";
import { STACK_ENV_VAR } from "#shared/stack-outputs";

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
  distributed?: boolean;
  labelsTable?: boolean;
  collect?: string;
  detach?: boolean;
  poll: string;
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
    .option(
      "--no-labels-table",
      "without --labels: do not read the labels table of the stack (or local stack) the configuration in force comes from",
    )
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
    .option(
      "--distributed",
      "AWS: run the stored-vector backtest on the stack's Step Functions distributed map (Lambda workers) instead of this machine",
    )
    .option("--detach", "with --distributed: start the run, print its id and return (collect it later)")
    .option("--collect <runId>", "AWS: wait for a distributed run to end and print its report")
    .option("--poll <seconds>", "seconds between two status checks of a distributed run", "5")
    .action(async (opts: BacktestOptions) => {
      const pollSeconds = Number(opts.poll);
      if (!Number.isFinite(pollSeconds) || pollSeconds <= 0 || pollSeconds > 300)
        throw new CliError("--poll must be a number of seconds in (0, 300]", CONFIG_EXIT.invalid);
      if (opts.collect !== undefined) {
        const report = await collectRun(opts.collect, opts.stateDir, pollSeconds * 1000);
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        return;
      }
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

      const cutoffMs = opts.labelsAsOf ? time(opts.labelsAsOf, "--labels-as-of") : undefined;
      const labels =
        opts.labels.length > 0 || !target || opts.labelsTable === false
          ? readLabelFiles(opts.labels)
          : await labelsOfTable(target.env);

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
      if (opts.distributed) {
        if (input.kind !== "archive" || input.store.kind !== "s3" || opts.archiveDir)
          throw new CliError(
            "--distributed backtests the stack's archive bucket: give no --events or --archive-dir, and name the stack (--stack or VIGIL_STACK)",
            CONFIG_EXIT.invalid,
          );
        if (resolved.featuresChange || opts.recompute || decisions?.kind !== "table")
          throw new CliError(
            "--distributed runs the stored-vector path only (rules, lists, model, policy against the decisions table); a feature change is recomputed on one machine (docs/backtest.md)",
            CONFIG_EXIT.invalid,
          );
        if (opts.decisionsOut)
          throw new CliError("--decisions-out is not available with --distributed", CONFIG_EXIT.invalid);
        const report = await runDistributed({
          env,
          bucket: input.store.bucket,
          resolved,
          labels,
          fromMs: input.fromMs,
          toMs: input.toMs,
          ...(cutoffMs !== undefined ? { cutoffMs } : {}),
          pollMs: pollSeconds * 1000,
          detach: opts.detach === true,
        });
        if (report)
          process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        return;
      }
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

/**
 * Every label in the target's labels table (docs/labels.md); the backtest counts those known at its
 * cutoff (`--labels-as-of`, default the period's end). None when the target has no labels table.
 */
async function labelsOfTable(env: Readonly<Record<string, string | undefined>>): Promise<Label[]> {
  const table = env[TABLES.labels.envVar];
  if (!table) return [];
  const client = createDynamoDbClient(env);
  try {
    const labels: Label[] = [];
    for await (const label of new DynamoDbLabelStore(client, table).all()) labels.push(label);
    say(`(${labels.length} label(s) from the labels table ${table}; those known at the cutoff count)`);
    return labels;
  } finally {
    client.destroy();
  }
}

/** Inputs of {@link runDistributed}. */
interface DistributedOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly bucket: string;
  readonly resolved: ResolvedCandidate;
  readonly labels: readonly Label[];
  readonly fromMs: number;
  readonly toMs: number;
  readonly cutoffMs?: number;
  readonly pollMs: number;
  readonly detach: boolean;
}

/** The state machine ARN of the target (the stack's BacktestStateMachineArn output). */
function stateMachineArnOf(env: Readonly<Record<string, string | undefined>>): string {
  const arn = env[ENV.backtestStateMachineArn];
  if (!arn)
    throw new CliError(
      `${ENV.backtestStateMachineArn} is not set: name the stack with --stack (or ${STACK_ENV_VAR}), whose BacktestStateMachineArn output gives it, or export it`,
    );
  return arn;
}

/**
 * A distributed stored-vector backtest: plans the run as the local path does, lists the period's
 * archive objects, writes the run and starts it, follows it and collects its report (undefined
 * with --detach, after printing the run id).
 */
async function runDistributed(options: DistributedOptions): Promise<BacktestReport | undefined> {
  const { env } = options;
  const stateMachineArn = stateMachineArnOf(env);
  const s3 = createS3Client(env);
  const sfn = createSfnClient(env);
  try {
    const store = new S3ObjectStore(s3, options.bucket);
    const deps = { store, sfn, stateMachineArn, log: say, pollMs: options.pollMs };
    const items = await periodItems(store, options);
    const cutoffMs = options.cutoffMs ?? options.toMs;
    const cutoff = labelCutoff(options.labels, cutoffMs);
    const run = planStoredVectorRun({
      runId: newRunId(Date.now(), Math.random),
      resolved: options.resolved,
      fromMs: options.fromMs,
      toMs: options.toMs,
      objects: items.length,
      outcomes: outcomesAsOf(options.labels, cutoffMs).outcomes,
      ...(cutoff !== undefined ? { cutoff } : {}),
    });
    if (items.length === 0) {
      say("No archive objects in the period: nothing to distribute.");
      return reportOfSlices(run, []);
    }
    const executionArn = await startDistributedBacktest(deps, run, items);
    if (options.detach) {
      process.stdout.write(`${run.runId}\n`);
      say(`Collect it with: vigil backtest --collect ${run.runId}`);
      return undefined;
    }
    await waitForExecution(deps, executionArn);
    return await collectDistributedBacktest(store, run.runId);
  } finally {
    s3.destroy();
    sfn.destroy();
  }
}

/** `--collect <runId>`: waits for the run's execution to end, then merges its results. */
async function collectRun(runId: string, stateDir: string, pollMs: number): Promise<BacktestReport> {
  if (!RUN_ID_PATTERN.test(runId))
    throw new CliError(`--collect ${runId}: not a run id`, CONFIG_EXIT.invalid);
  const { env } = resolveTarget(stateDir);
  const bucket = env[ENV.archiveBucket];
  if (!bucket)
    throw new CliError(`${ENV.archiveBucket} is not set: name the stack with --stack (or ${STACK_ENV_VAR})`);
  const stateMachineArn = stateMachineArnOf(env);
  const s3 = createS3Client(env);
  const sfn = createSfnClient(env);
  try {
    const store = new S3ObjectStore(s3, bucket);
    await waitForExecution(
      { store, sfn, stateMachineArn, log: say, pollMs },
      executionArnOf(stateMachineArn, runId),
    );
    return await collectDistributedBacktest(store, runId);
  } finally {
    s3.destroy();
    sfn.destroy();
  }
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
