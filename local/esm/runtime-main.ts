/**
 * The local Lambda runtime as a process of its own:
 *
 *   node --import tsx local/esm/runtime-main.ts <config.json>
 *
 * The config file is a `RuntimeConfig` (`runtime-config.ts`) in JSON. The process writes one JSON line per event on
 * stdout (`started`, `caughtUp` each time every shard reaches the stream tip, `stopped`, with the
 * counters), runtime messages on stderr, and stops gracefully on SIGTERM or SIGINT: the batch in
 * flight finishes and is checkpointed first. A second signal exits at once.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { type LocalRuntime, type RuntimeStats, startLocalRuntime } from "#local/esm/local-runtime";
import { runtimeConfigSchema } from "#local/esm/runtime-config";

function emit(event: string, stats?: RuntimeStats): void {
  process.stdout.write(
    `${JSON.stringify({ event, at: new Date().toISOString(), ...(stats ? { stats } : {}) })}\n`,
  );
}

async function main(): Promise<void> {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write("usage: node --import tsx local/esm/runtime-main.ts <config.json>\n");
    process.exit(2);
  }
  const parsed = runtimeConfigSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) {
    process.stderr.write(`invalid runtime config ${path}:\n${z.prettifyError(parsed.error)}\n`);
    process.exit(2);
  }
  const config = parsed.data;
  const log = (message: string) => process.stderr.write(`[vigil-runtime] ${message}\n`);

  let runtime: LocalRuntime | undefined;
  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) {
      log(`${reason} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log(`${reason}: stopping after the batches in flight`);
    await runtime?.stop();
    emit("stopped", runtime?.stats());
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  if (config.exitWithParent) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) void stop("parent process exited");
    }, 500).unref();
  }

  runtime = await startLocalRuntime({ ...config, log });
  emit("started", runtime.stats());
  let wasCaughtUp = false;
  setInterval(() => {
    if (!runtime || stopping) return;
    const caughtUp = runtime.caughtUp();
    if (caughtUp && !wasCaughtUp) emit("caughtUp", runtime.stats());
    wasCaughtUp = caughtUp;
  }, 250);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `[vigil-runtime] ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`,
  );
  process.exit(1);
});
