import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";
import type { BacktestTask, BacktestTaskResult } from "#local/backtest/backtest-task";
import { PROJECT_ROOT } from "#local/esm/bundle";
import { ESM_REQUIRE_BANNER } from "#shared/bundling";

/** A task a worker could not complete: the error it raised there. */
export class BacktestTaskError extends Error {
  override readonly name = "BacktestTaskError";
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(`${errorName}: ${message}`);
  }
}

/** Worker threads running backtest tasks; one task per worker at a time. */
export interface BacktestWorkerPool {
  readonly size: number;
  run(task: BacktestTask): Promise<BacktestTaskResult>;
  close(): Promise<void>;
}

/** Threads to use by default: every core the machine offers. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Starts `size` worker threads. Their entry is bundled with esbuild first (the sources are
 * TypeScript and a worker thread does not inherit the CLI's TypeScript loader), into a temporary
 * directory removed by `close()`.
 */
export async function startWorkerPool(size: number): Promise<BacktestWorkerPool> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-backtest-"));
  const outfile = join(dir, "worker.mjs");
  await build({
    entryPoints: [fileURLToPath(new URL("./worker-entry.ts", import.meta.url))],
    absWorkingDir: PROJECT_ROOT,
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: "silent",
  });
  const workers = Array.from({ length: size }, () => new Worker(outfile));
  const idle = [...workers];
  const waiting: Array<(w: Worker) => void> = [];
  let nextId = 0;
  const acquire = () =>
    new Promise<Worker>((resolve) => {
      const w = idle.pop();
      if (w) resolve(w);
      else waiting.push(resolve);
    });
  const release = (w: Worker) => {
    const next = waiting.shift();
    if (next) next(w);
    else idle.push(w);
  };
  return {
    size,
    async run(task) {
      const worker = await acquire();
      const id = nextId++;
      try {
        return await new Promise<BacktestTaskResult>((resolve, reject) => {
          const onMessage = (message: {
            id: number;
            ok: boolean;
            result?: BacktestTaskResult;
            error?: { name: string; message: string };
          }) => {
            if (message.id !== id) return;
            cleanup();
            if (message.ok && message.result) resolve(message.result);
            else
              reject(
                new BacktestTaskError(message.error?.name ?? "Error", message.error?.message ?? "failed"),
              );
          };
          const onError = (error: Error) => {
            cleanup();
            reject(new BacktestTaskError(error.name, error.message));
          };
          const cleanup = () => {
            worker.off("message", onMessage);
            worker.off("error", onError);
          };
          worker.on("message", onMessage);
          worker.on("error", onError);
          worker.postMessage({ id, task });
        });
      } finally {
        release(worker);
      }
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
