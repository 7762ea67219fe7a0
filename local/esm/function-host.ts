import { randomUUID } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";
import type { InvokeMessage, SerializedError, WorkerData, WorkerMessage } from "#local/esm/worker-protocol";

/** Lambda's limit on the init phase of an execution environment. */
export const DEFAULT_INIT_TIMEOUT_MS = 10_000;

/** How one invocation ended. */
export type InvokeOutcome =
  | {
      readonly ok: true;
      readonly requestId: string;
      /** The handler's result after Lambda's JSON round trip (undefined became null). */
      readonly response: unknown;
      readonly durationMs: number;
      readonly coldStart: boolean;
    }
  | {
      readonly ok: false;
      readonly requestId: string;
      /** A thrown or rejected error, a failed init, a crash or a timeout. */
      readonly error: SerializedError;
      readonly timedOut: boolean;
      readonly durationMs: number;
      readonly coldStart: boolean;
    };

/** What the host needs to run one function. */
export interface FunctionHostOptions {
  readonly functionName: string;
  readonly bundlePath: string;
  /** Exported handler name. */
  readonly handler: string;
  /** The function's whole environment (`process.env` inside the handler). */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly memoryMiB: number;
  readonly invokedFunctionArn: string;
  /** The worker entry built by {@link buildWorkerEntry}. */
  readonly workerEntry: string;
  /** File the function's stdout/stderr and START/END/REPORT lines are appended to. */
  readonly logFile: string;
  readonly initTimeoutMs?: number;
}

/** Invocation counters of one host. */
export interface FunctionHostStats {
  readonly coldStarts: number;
  readonly timeouts: number;
  /** Execution environments alive now. */
  readonly environments: number;
}

/**
 * Builds the worker entry (TypeScript) into a plain ESM file under `buildDir`, so workers start
 * without a TypeScript loader wherever the runtime itself runs (tsx, vitest, node).
 */
export async function buildWorkerEntry(buildDir: string): Promise<string> {
  const outfile = join(buildDir, ".runtime", "worker-entry.mjs");
  await build({
    entryPoints: [fileURLToPath(new URL("./worker-entry.ts", import.meta.url))],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "silent",
  });
  return outfile;
}

/**
 * One execution environment: a worker thread whose module scope ran once (the cold start) and
 * which runs one invocation at a time. A timeout or a crash ends it; the host starts a new one.
 */
class ExecutionEnvironment {
  readonly worker: Worker;
  private alive = true;
  private pending?: {
    readonly requestId: string;
    readonly settle: (message: WorkerMessage | { type: "crash"; error: SerializedError }) => void;
  };
  private initWaiter?: (message: WorkerMessage | { type: "crash"; error: SerializedError }) => void;

  constructor(options: FunctionHostOptions, log: WriteStream) {
    const data: WorkerData = {
      bundlePath: options.bundlePath,
      handler: options.handler,
      functionName: options.functionName,
      memoryMiB: options.memoryMiB,
      invokedFunctionArn: options.invokedFunctionArn,
      logGroupName: `/aws/lambda/${options.functionName}`,
      logStreamName: `${new Date().toISOString().slice(0, 10).replaceAll("-", "/")}/[$LATEST]${randomUUID().replaceAll("-", "")}`,
    };
    this.worker = new Worker(options.workerEntry, {
      workerData: data,
      env: { ...options.env },
      stdout: true,
      stderr: true,
      // The function's memory setting bounds its heap, so an out-of-memory bug fails locally too.
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, options.memoryMiB) },
    });
    this.worker.stdout.pipe(log, { end: false });
    this.worker.stderr.pipe(log, { end: false });
    this.worker.on("message", (message: WorkerMessage) => {
      if (message.type === "ready" || message.type === "initError") this.initWaiter?.(message);
      else if (this.pending && message.requestId === this.pending.requestId) this.pending.settle(message);
    });
    const crash = (error: SerializedError) => {
      this.alive = false;
      this.initWaiter?.({ type: "crash", error });
      this.pending?.settle({ type: "crash", error });
    };
    this.worker.on("error", (error) =>
      crash({ errorType: error.name || "Runtime.UnhandledError", errorMessage: error.message }),
    );
    this.worker.on("exit", (code) =>
      crash({ errorType: "Runtime.ExitError", errorMessage: `RequestId: exited with code ${code}` }),
    );
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** Waits for module scope to run; returns the init error, if any. */
  async init(timeoutMs: number): Promise<SerializedError | undefined> {
    const message = await this.race(
      new Promise<WorkerMessage | { type: "crash"; error: SerializedError }>((resolve) => {
        this.initWaiter = resolve;
      }),
      timeoutMs,
    );
    this.initWaiter = undefined;
    if (message === "timeout") {
      return {
        errorType: "Runtime.InitTimeout",
        errorMessage: `Init phase took longer than ${timeoutMs} ms`,
      };
    }
    if (message.type === "ready") return undefined;
    if (message.type === "initError" || message.type === "crash") return message.error;
    return { errorType: "Runtime.InitError", errorMessage: `unexpected message ${message.type}` };
  }

  /** Runs one invocation; resolves with the worker's answer, a crash, or "timeout". */
  async run(message: InvokeMessage, timeoutMs: number) {
    const answer = new Promise<WorkerMessage | { type: "crash"; error: SerializedError }>((resolve) => {
      this.pending = { requestId: message.requestId, settle: resolve };
    });
    this.worker.postMessage(message);
    const result = await this.race(answer, timeoutMs);
    this.pending = undefined;
    return result;
  }

  private async race<T>(promise: Promise<T>, timeoutMs: number): Promise<T | "timeout"> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async terminate(): Promise<void> {
    this.alive = false;
    await this.worker.terminate();
  }
}

/**
 * Runs a bundled function the way Lambda does: each invocation in an execution environment (a
 * worker thread with the function's own `process.env`) that is reused while warm; a new one (a
 * cold start, module scope run again) when none is free or the last one timed out or crashed.
 * One environment runs one invocation at a time, so concurrent shards get one each.
 */
export class FunctionHost {
  private readonly idle: ExecutionEnvironment[] = [];
  private readonly all = new Set<ExecutionEnvironment>();
  private readonly log: WriteStream;
  private closed = false;
  private counters = { coldStarts: 0, timeouts: 0 };

  private constructor(
    private readonly options: FunctionHostOptions,
    log: WriteStream,
  ) {
    this.log = log;
  }

  /** Opens the function's log file and returns a host with no environment started yet. */
  static async create(options: FunctionHostOptions): Promise<FunctionHost> {
    await mkdir(dirname(options.logFile), { recursive: true });
    const log = createWriteStream(options.logFile, { flags: "a" });
    // A failing log file must not take the runtime down; the function's output is then lost.
    log.on("error", () => {});
    return new FunctionHost(options, log);
  }

  /** Invokes the handler with `event`; never throws for function errors (they are the outcome). */
  async invoke(event: unknown): Promise<InvokeOutcome> {
    if (this.closed) throw new Error(`function ${this.options.functionName} is closed`);
    const requestId = randomUUID();
    const started = performance.now();
    let environment = this.takeIdle();
    const coldStart = environment === undefined;
    if (!environment) {
      environment = new ExecutionEnvironment(this.options, this.log);
      this.all.add(environment);
      this.counters.coldStarts += 1;
      const initError = await environment.init(this.options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS);
      if (initError) {
        await this.discard(environment);
        this.writeLog(
          `INIT_FAILED RequestId: ${requestId}\t${initError.errorType}: ${initError.errorMessage}`,
        );
        return { ok: false, requestId, error: initError, timedOut: false, durationMs: 0, coldStart };
      }
    }
    const invokeStarted = performance.now();
    this.writeLog(`START RequestId: ${requestId} Version: $LATEST`);
    const answer = await environment.run(
      { type: "invoke", requestId, event, deadlineMs: Date.now() + this.options.timeoutMs },
      this.options.timeoutMs,
    );
    const durationMs = performance.now() - invokeStarted;
    this.writeLog(`END RequestId: ${requestId}`);
    this.writeLog(
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tMemory Size: ${this.options.memoryMiB} MB${coldStart ? `\tInit Duration: ${(invokeStarted - started).toFixed(2)} ms` : ""}`,
    );
    if (answer === "timeout") {
      this.counters.timeouts += 1;
      await this.discard(environment);
      const seconds = (this.options.timeoutMs / 1000).toFixed(2);
      const error = {
        errorType: "Sandbox.Timedout",
        errorMessage: `Task timed out after ${seconds} seconds`,
      };
      this.writeLog(`${new Date().toISOString()} ${requestId} ${error.errorMessage}`);
      return { ok: false, requestId, error, timedOut: true, durationMs, coldStart };
    }
    if (answer.type === "crash") {
      await this.discard(environment);
      return { ok: false, requestId, error: answer.error, timedOut: false, durationMs, coldStart };
    }
    this.release(environment);
    if (answer.type === "result") {
      return { ok: true, requestId, response: JSON.parse(answer.json) as unknown, durationMs, coldStart };
    }
    if (answer.type === "error") {
      return { ok: false, requestId, error: answer.error, timedOut: false, durationMs, coldStart };
    }
    return {
      ok: false,
      requestId,
      error: {
        errorType: "Runtime.InvalidResponse",
        errorMessage: `unexpected worker message ${answer.type}`,
      },
      timedOut: false,
      durationMs,
      coldStart,
    };
  }

  /** Counters since the host was created. */
  stats(): FunctionHostStats {
    return { ...this.counters, environments: this.all.size };
  }

  /** Ends every environment (waiting for none) and closes the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.all].map((environment) => this.discard(environment)));
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  private takeIdle(): ExecutionEnvironment | undefined {
    for (let environment = this.idle.pop(); environment; environment = this.idle.pop()) {
      if (environment.isAlive) return environment;
      this.all.delete(environment);
    }
    return undefined;
  }

  private release(environment: ExecutionEnvironment): void {
    if (environment.isAlive && !this.closed) this.idle.push(environment);
    else this.all.delete(environment);
  }

  private async discard(environment: ExecutionEnvironment): Promise<void> {
    this.all.delete(environment);
    await environment.terminate();
  }

  private writeLog(line: string): void {
    if (!this.log.writableEnded) this.log.write(`${line}\n`);
  }
}
