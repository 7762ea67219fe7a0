import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { CliError } from "#cli/output";
import { archiveObjectsIn } from "#functions/backtest/archive-slice";
import { type AwsEnv, clientConfig } from "#shared/adapters/aws-clients";
import {
  type DistributedRun,
  distributedRunSchema,
  type MapItem,
  reportOfSlices,
  resultManifestSchema,
  runKeys,
  talliesOfResultFile,
} from "#shared/domain/backtest/distributed";
import type { BacktestReport } from "#shared/domain/backtest/report";
import type { BacktestTally } from "#shared/domain/backtest/tally";
import type { ObjectStore } from "#shared/ports/object-store";

/**
 * `vigil backtest --distributed` and `--collect` (docs/backtest.md, "Past one machine"): writes a
 * planned run's description and item list to the archive bucket, starts the backtest state
 * machine with the run id as execution name, follows it with DescribeExecution, then merges the
 * tallies the map's result writer left into the same report the local path prints.
 */

/** The Step Functions client; endpoint (`AWS_ENDPOINT_URL_SFN`), region and credentials from the SDK's configuration. */
export function createSfnClient(env: AwsEnv = process.env): SFNClient {
  return new SFNClient({ ...clientConfig("SFN", env), maxAttempts: 5 });
}

/** What a distributed run talks to. */
export interface DistributedBacktestDependencies {
  /** The archive bucket. */
  readonly store: ObjectStore;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  readonly log: (message: string) => void;
  /** Milliseconds between two DescribeExecution calls. Default 5,000. */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** The ARN of an execution of a state machine, by name (what StartExecution returns). */
export function executionArnOf(stateMachineArn: string, name: string): string {
  const marker = ":stateMachine:";
  const at = stateMachineArn.indexOf(marker);
  if (at < 0) throw new CliError(`not a state machine ARN: ${stateMachineArn}`, 2);
  return `${stateMachineArn.slice(0, at)}:execution:${stateMachineArn.slice(at + marker.length)}:${name}`;
}

/** Writes a planned run's objects (description, then item list) and starts its execution. */
export async function startDistributedBacktest(
  deps: DistributedBacktestDependencies,
  run: DistributedRun,
  items: readonly MapItem[],
): Promise<string> {
  const keys = runKeys(run.runId);
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  await deps.store.put(keys.run, json(run), { contentType: "application/json" });
  await deps.store.put(keys.items, json(items), { contentType: "application/json" });
  try {
    const started = await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.stateMachineArn,
        name: run.runId,
        input: JSON.stringify({ runId: run.runId }),
      }),
    );
    const arn = started.executionArn ?? executionArnOf(deps.stateMachineArn, run.runId);
    deps.log(`Started backtest run ${run.runId}: ${items.length} archive object(s) (${arn}).`);
    return arn;
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists)
      throw new CliError(
        `backtest run ${run.runId} already exists with another input (ExecutionAlreadyExists): start a new run, or collect this one with --collect ${run.runId}`,
      );
    throw error;
  }
}

/** The archive objects of a period as the map's items (`{ Key, Size }`). */
export async function periodItems(
  store: ObjectStore,
  window: { readonly fromMs: number; readonly toMs: number },
): Promise<MapItem[]> {
  return (await archiveObjectsIn(store, window)).map((o) => ({ Key: o.key, Size: o.size }));
}

/**
 * Follows an execution until it ends, saying on stderr when its status changes and every 30 s
 * while it runs. Resolves when it SUCCEEDED; throws a CliError naming the status, error and cause
 * otherwise (FAILED, TIMED_OUT, ABORTED), or when there is no such execution.
 */
export async function waitForExecution(
  deps: DistributedBacktestDependencies,
  executionArn: string,
): Promise<void> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const pollMs = deps.pollMs ?? 5_000;
  const started = now();
  let last: string | undefined;
  let lastSaid = started;
  for (;;) {
    let status: string | undefined;
    let error: string | undefined;
    let cause: string | undefined;
    try {
      const described = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
      ({ status, error, cause } = described);
    } catch (e) {
      if (e instanceof ExecutionDoesNotExist)
        throw new CliError(`no backtest execution ${executionArn} (ExecutionDoesNotExist)`);
      throw e;
    }
    const seconds = Math.round((now() - started) / 1000);
    if (status !== last || now() - lastSaid >= 30_000) {
      deps.log(`  ${status ?? "UNKNOWN"} after ${seconds} s`);
      last = status;
      lastSaid = now();
    }
    if (status === "SUCCEEDED") return;
    if (status !== "RUNNING" && status !== "PENDING_REDRIVE")
      throw new CliError(
        `backtest execution ${status ?? "UNKNOWN"}${error ? `: ${error}` : ""}${cause ? ` (${cause.slice(0, 500)})` : ""}; no report (a partial one would miss events)`,
      );
    await sleep(pollMs);
  }
}

/**
 * The report of a finished run: its description, and every tally the map's result writer wrote
 * (the manifest's SUCCEEDED files), merged exactly as the local path merges its slices. Throws a
 * CliError when the run has no description or no results yet, or when the results list failed
 * or pending children (the report would miss events).
 */
export async function collectDistributedBacktest(store: ObjectStore, runId: string): Promise<BacktestReport> {
  const keys = runKeys(runId);
  const text = async (key: string) => {
    const body = await store.get(key);
    if (body === undefined) throw new CliError(`backtest run ${runId}: ${key} is missing`);
    return new TextDecoder().decode(body);
  };
  const described = distributedRunSchema.safeParse(JSON.parse(await text(keys.run)));
  if (!described.success) throw new CliError(`backtest run ${runId}: run.json is invalid`);
  const run = described.data as DistributedRun;
  if (run.objects === 0) return reportOfSlices(run, []);

  const manifests: string[] = [];
  for await (const o of store.list(`${keys.results}/`))
    if (o.key.endsWith("/manifest.json")) manifests.push(o.key);
  const [manifestKey, ...others] = manifests;
  if (manifestKey === undefined)
    throw new CliError(`backtest run ${runId} has no results yet under ${keys.results}/ (is it finished?)`);
  if (others.length > 0)
    throw new CliError(
      `backtest run ${runId} has ${manifests.length} result manifests (a redriven map?): ${manifests.join(", ")}`,
    );
  const manifest = resultManifestSchema.parse(JSON.parse(await text(manifestKey)));
  const { SUCCEEDED, FAILED, PENDING } = manifest.ResultFiles;
  if (FAILED.length > 0 || PENDING.length > 0)
    throw new CliError(
      `backtest run ${runId}: ${FAILED.length} failed and ${PENDING.length} pending result file(s); no report (it would miss events)`,
    );
  const tallies: BacktestTally[] = [];
  for (const file of SUCCEEDED) tallies.push(...talliesOfResultFile(await text(file.Key)));
  return reportOfSlices(run, tallies);
}
