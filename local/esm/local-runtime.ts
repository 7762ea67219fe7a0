import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { bundleFunction, type FunctionBundle } from "#local/esm/bundle";
import { RuntimeConfigError } from "#local/esm/errors";
import {
  describeActiveStream,
  EventSourceMapping,
  type MappingStatus,
} from "#local/esm/event-source-mapping";
import { FileFailureDestination } from "#local/esm/failure-destination";
import { buildWorkerEntry, FunctionHost } from "#local/esm/function-host";
import { arnAccount } from "#local/esm/kinesis-event";
import {
  DEFAULT_TIMING,
  type FunctionCounters,
  type PollingTiming,
  type ShardStatus,
} from "#local/esm/shard-poller";
import { lockStateDir } from "#local/esm/state-lock";
import { createKinesisClient } from "#shared/adapters/aws-clients";
import {
  CRASH_ARM_FILE_ENV,
  STAGE_MARKERS_FILE_ENV,
  StageMarkerFile,
} from "#shared/adapters/stage-marker-file";
import {
  type EventSourceMappingDefinition,
  FUNCTIONS,
  type FunctionDefinition,
  type FunctionKey,
  STREAMS,
} from "#shared/resources";

/** One function to run locally, with the stream its event source mapping reads. */
export interface LocalFunction {
  /** The function; its `eventSource` is the mapping to run. */
  readonly definition: FunctionDefinition;
  /** Physical name of the stream (the mapping's `stream` key names it logically). */
  readonly streamName: string;
  /** The function's own environment variables (table names, settings). */
  readonly env?: Readonly<Record<string, string>>;
  /** Name in the Lambda context and ARNs. Default: `definition.id`. */
  readonly functionName?: string;
}

/** Options of {@link startLocalRuntime}. */
export interface LocalRuntimeOptions {
  /** Bundles, checkpoints, the on-failure destination and function logs live here. */
  readonly stateDir: string;
  /**
   * The AWS SDK's standard variables (endpoints, region, credentials) for the runtime's own
   * Kinesis client; functions receive them too, as on Lambda.
   */
  readonly awsEnv: Readonly<Record<string, string>>;
  readonly functions: readonly LocalFunction[];
  /** Directory function entries are relative to. Default: the repository root. */
  readonly projectRoot?: string;
  /** Polling and back-off intervals; defaults in {@link DEFAULT_TIMING}. */
  readonly timing?: Partial<PollingTiming>;
  /** Limit on a cold start's module scope. Default 10 s, as on Lambda. */
  readonly initTimeoutMs?: number;
  readonly log?: (message: string) => void;
  /**
   * Crash-test instrumentation (docs/crash-test.md): the runtime and its functions append stage
   * markers to `file`, and a stage named in `crashArmFile` (when it exists) kills the process.
   * Absent: no markers, nothing armed.
   */
  readonly stageMarkers?: StageMarkerOptions;
}

/** Where stage markers go and which file arms a crash (see {@link LocalRuntimeOptions.stageMarkers}). */
export interface StageMarkerOptions {
  readonly file: string;
  readonly crashArmFile?: string;
}

/** Counters and shard progress of one function. */
export interface FunctionStats extends FunctionCounters {
  readonly functionId: string;
  readonly coldStarts: number;
  /** NDJSON file of the on-failure destination. */
  readonly failureFile: string;
  readonly shards: readonly ShardStatus[];
}

/** A snapshot of the whole runtime. */
export interface RuntimeStats {
  readonly functions: readonly FunctionStats[];
  /** Every shard last found nothing new with nothing left to do (see {@link LocalRuntime.caughtUp}). */
  readonly caughtUp: boolean;
}

/** A running local runtime. */
export interface LocalRuntime {
  readonly stateDir: string;
  /** Counters per function and progress per shard. */
  stats(): RuntimeStats;
  /**
   * True when every shard's last read found no new record and nothing is buffered, in flight or
   * awaiting retry. A snapshot: records put a moment ago may not have been read yet.
   */
  caughtUp(): boolean;
  /**
   * Resolves once every record put before the call has been processed or sent to the on-failure
   * destination and checkpointed: each shard (including shards created before the call) has read
   * the stream tip after the call with nothing left to do. Rejects after `timeoutMs` (default 60 s)
   * saying which shards are behind.
   */
  waitUntilIdle(options?: { readonly timeoutMs?: number }): Promise<RuntimeStats>;
  /** Stops polling, lets each in-flight batch finish and checkpoint, then ends the workers. Idempotent. */
  stop(): Promise<void>;
}

/** Where the runtime keeps a function's files under `stateDir`. */
export function runtimePaths(stateDir: string, functionId: string, streamName: string) {
  const root = resolve(stateDir);
  return {
    buildDir: join(root, "build"),
    bundle: join(root, "build", functionId, "index.mjs"),
    checkpointDir: join(root, "checkpoints", functionId, streamName),
    failureFile: join(root, "failures", `${functionId}.ndjson`),
    logFile: join(root, "logs", "functions", `${functionId}.log`),
  };
}

/**
 * The functions of `shared/resources.ts` that have an event source mapping, with the physical
 * stream names and function environment taken from a local stack's environment (`VIGIL_*` names
 * plus the SDK's variables), ready for {@link startLocalRuntime}.
 */
export function localFunctionsFromEnv(
  env: Readonly<Record<string, string>>,
  keys: readonly FunctionKey[] = Object.keys(FUNCTIONS) as FunctionKey[],
): LocalFunction[] {
  return keys.flatMap((key) => {
    const definition: FunctionDefinition = FUNCTIONS[key];
    const source = definition.eventSource;
    if (!source) return [];
    const envVar = STREAMS[source.stream].envVar;
    const streamName = env[envVar];
    if (!streamName)
      throw new RuntimeConfigError(`${envVar} is not set: which stream does ${definition.id} read?`);
    return [{ definition, streamName, env }];
  });
}

function validate(fn: LocalFunction): EventSourceMappingDefinition {
  const { definition } = fn;
  const source = definition.eventSource;
  const problem = (what: string) => new RuntimeConfigError(`function ${definition.id}: ${what}`);
  if (!source) throw problem("has no eventSource to run");
  const integer = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max)
      throw problem(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  };
  integer("batchSize", source.batchSize, 1, 10_000);
  integer("maxRetryAttempts", source.maxRetryAttempts, -1, 10_000);
  if (!(source.maxBatchingWindowSeconds >= 0 && source.maxBatchingWindowSeconds <= 300)) {
    throw problem(`maxBatchingWindowSeconds must be in [0, 300], got ${source.maxBatchingWindowSeconds}`);
  }
  // AWS accepts 60..604800 or -1; smaller positive ages are allowed locally so tests run fast.
  if (
    !(
      source.maxRecordAgeSeconds === -1 ||
      (source.maxRecordAgeSeconds > 0 && source.maxRecordAgeSeconds <= 604_800)
    )
  ) {
    throw problem(`maxRecordAgeSeconds must be -1 or in (0, 604800], got ${source.maxRecordAgeSeconds}`);
  }
  if (!(definition.timeoutSeconds > 0 && definition.timeoutSeconds <= 900)) {
    throw problem(`timeoutSeconds must be in (0, 900], got ${definition.timeoutSeconds}`);
  }
  if (!fn.streamName) throw problem("streamName is empty");
  return source;
}

/** The variables that switch a function's own stage markers on (none without `stageMarkers`). */
function markerEnvironment(markers: StageMarkerOptions | undefined): Record<string, string> {
  if (!markers) return {};
  return {
    [STAGE_MARKERS_FILE_ENV]: markers.file,
    ...(markers.crashArmFile ? { [CRASH_ARM_FILE_ENV]: markers.crashArmFile } : {}),
  };
}

/** Environment Lambda sets for every function (reserved variables), after the function's own. */
function lambdaEnvironment(
  fn: LocalFunction,
  functionName: string,
  region: string,
  taskRoot: string,
): Record<string, string> {
  return {
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.definition.memoryMiB),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    LAMBDA_TASK_ROOT: taskRoot,
    _HANDLER: `index.${fn.definition.handler}`,
  };
}

/**
 * Starts Lambda's Kinesis event source mappings on this machine: bundles every function with the
 * CDK esbuild options, then polls each function's stream and invokes the handler in worker
 * threads with genuine `KinesisStreamEvent`s, checkpointing under `stateDir` so a restarted
 * runtime resumes where the last one stopped. Rejects (having cleaned up) when a function does not
 * bundle ({@link BundleError}) or a stream does not exist ({@link RuntimeConfigError}).
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const log = options.log ?? (() => {});
  const timing: PollingTiming = { ...DEFAULT_TIMING, ...options.timing };
  const stateDir = resolve(options.stateDir);
  const ids = new Set<string>();
  for (const fn of options.functions) {
    validate(fn);
    if (ids.has(fn.definition.id))
      throw new RuntimeConfigError(`function ${fn.definition.id} is listed twice`);
    ids.add(fn.definition.id);
  }
  await mkdir(stateDir, { recursive: true });
  const lock = await lockStateDir(stateDir);
  const buildDir = join(stateDir, "build");
  let bundles: FunctionBundle[];
  let workerEntry: string;
  try {
    bundles = await Promise.all(
      options.functions.map((fn) =>
        bundleFunction({
          definition: fn.definition,
          buildDir,
          ...(options.projectRoot ? { projectRoot: options.projectRoot } : {}),
        }),
      ),
    );
    workerEntry = await buildWorkerEntry(buildDir);
  } catch (error) {
    await lock.release();
    throw error;
  }
  for (const bundle of bundles) {
    for (const warning of bundle.warnings) log(`${bundle.functionId}: ${warning}`);
  }

  const kinesis: KinesisClient = createKinesisClient({ env: options.awsEnv });
  const hosts: FunctionHost[] = [];
  const mappings: EventSourceMapping[] = [];
  const functions: {
    readonly functionId: string;
    readonly counters: FunctionCounters;
    readonly host: FunctionHost;
    readonly mapping: EventSourceMapping;
    readonly failureFile: string;
  }[] = [];
  try {
    for (const [index, fn] of options.functions.entries()) {
      const source = validate(fn);
      const bundle = bundles[index];
      if (!bundle) throw new Error("missing bundle");
      const functionId = fn.definition.id;
      const functionName = fn.functionName ?? functionId;
      const paths = runtimePaths(stateDir, functionId, fn.streamName);
      const stream = await describeActiveStream(kinesis, fn.streamName);
      const account = arnAccount(stream.arn) ?? "000000000000";
      const region = stream.arn.split(":")[3] || options.awsEnv.AWS_REGION || "us-east-1";
      const functionArn = `arn:aws:lambda:${region}:${account}:function:${functionName}`;
      const host = await FunctionHost.create({
        functionName,
        bundlePath: bundle.outFile,
        handler: fn.definition.handler,
        env: {
          ...(process.env.PATH ? { PATH: process.env.PATH } : {}),
          ...options.awsEnv,
          ...fn.env,
          ...markerEnvironment(options.stageMarkers),
          ...lambdaEnvironment(fn, functionName, region, dirname(bundle.outFile)),
        },
        timeoutMs: fn.definition.timeoutSeconds * 1000,
        memoryMiB: fn.definition.memoryMiB,
        invokedFunctionArn: functionArn,
        workerEntry,
        logFile: paths.logFile,
        ...(options.initTimeoutMs ? { initTimeoutMs: options.initTimeoutMs } : {}),
      });
      hosts.push(host);
      const counters: FunctionCounters = {
        invocations: 0,
        successfulInvocations: 0,
        functionErrors: 0,
        timeouts: 0,
        partialFailures: 0,
        recordsInvoked: 0,
        recordsSucceeded: 0,
        recordsToDestination: 0,
        batchesToDestination: 0,
      };
      const mapping = await EventSourceMapping.start({
        functionId,
        functionArn,
        roleArn: `arn:aws:iam::${account}:role/${functionName}-role`,
        stream,
        definition: source,
        kinesis,
        invoke: (event) => host.invoke(event),
        checkpointDir: paths.checkpointDir,
        destination: new FileFailureDestination(paths.failureFile),
        timing,
        counters,
        log,
        ...(options.stageMarkers
          ? {
              probe: new StageMarkerFile(
                options.stageMarkers.file,
                functionName,
                options.stageMarkers.crashArmFile,
              ),
            }
          : {}),
      });
      mappings.push(mapping);
      functions.push({ functionId, counters, host, mapping, failureFile: paths.failureFile });
      log(`${functionId}: reading ${fn.streamName} (${stream.arn})`);
    }
  } catch (error) {
    await Promise.allSettled(mappings.map((m) => m.stop()));
    await Promise.allSettled(hosts.map((h) => h.close()));
    kinesis.destroy();
    await lock.release();
    throw error;
  }

  const statuses = (): MappingStatus[] => mappings.map((m) => m.status());
  const caughtUp = () =>
    statuses().every(
      (m) => m.waitingShards.length === 0 && m.shards.every((s) => s.finished || s.caughtUpAt !== undefined),
    );
  const stats = (): RuntimeStats => ({
    functions: functions.map((fn) => ({
      functionId: fn.functionId,
      ...fn.counters,
      coldStarts: fn.host.stats().coldStarts,
      failureFile: fn.failureFile,
      shards: fn.mapping.status().shards,
    })),
    caughtUp: caughtUp(),
  });

  let stopping: Promise<void> | undefined;
  return {
    stateDir,
    stats,
    caughtUp,
    async waitUntilIdle({ timeoutMs = 60_000 } = {}) {
      const since = Date.now();
      const deadline = since + timeoutMs;
      await Promise.all(mappings.map((m) => m.discoverSince(since)));
      for (const mapping of mappings) mapping.nudge();
      while (!mappings.every((m) => m.idleSince(since))) {
        if (stopping) throw new Error("the local runtime was stopped while waiting for it to become idle");
        if (Date.now() > deadline) {
          const behind = statuses().flatMap((m) =>
            m.shards
              .filter((s) => !s.finished && (s.caughtUpAt ?? -1) < since)
              .map(
                (s) =>
                  `${m.functionId}/${s.shardId} (${s.recordsPending} pending${s.lastError ? `, ${s.lastError}` : ""})`,
              ),
          );
          throw new Error(
            `the local runtime was not idle after ${timeoutMs} ms; behind: ${behind.join(", ") || "none"}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return stats();
    },
    stop() {
      stopping ??= (async () => {
        await Promise.allSettled(mappings.map((m) => m.stop()));
        await Promise.allSettled(hosts.map((h) => h.close()));
        kinesis.destroy();
        await lock.release();
      })();
      return stopping;
    },
  };
}
