import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { CliError, say } from "#cli/output";
import { type LocalRuntime, localFunctionsFromEnv, startLocalRuntime } from "#local/esm/local-runtime";
import { DEFAULT_STATE_DIR, type LocalStack } from "#local/local-stack";
import { cleanupStale, readStatus, serveLocalStack, startDetached, stopDetached } from "#local/supervisor";

const CLI_PATH = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));

function printEndpoints(env: Readonly<Record<string, string>>, envFile: string): void {
  say("Local stack is up:");
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith("AWS_SECRET")) say(`  ${key}=${value}`);
  }
  say(`Point a shell at it:  source ${envFile}`);
}

/** Waits for SIGINT or SIGTERM, then resolves (once). */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    const handler = (signal: NodeJS.Signals) => done(signal);
    process.once("SIGINT", handler);
    process.once("SIGTERM", handler);
  });
}

/** `vigil local up|down|status|serve`: the embedded local AWS stack. */
export function registerLocalCommands(program: Command): void {
  const local = program
    .command("local")
    .description("Run Vigil's AWS resources on this machine (no AWS account, no Docker)");

  local
    .command("up")
    .description(
      "Start Kinesis Mock and DynamoDB Local, create the resources and run the functions' event source mappings",
    )
    .option("--state-dir <dir>", "where data, logs, checkpoints and the env file live", DEFAULT_STATE_DIR)
    .option("--foreground", "run in this terminal until Ctrl-C instead of in the background")
    .option("--fresh", "delete the previous data, checkpoints and logs first")
    .action(async (opts: { stateDir: string; foreground?: boolean; fresh?: boolean }) => {
      const stateDir = resolve(opts.stateDir);
      const running = readStatus(stateDir);
      if (running) {
        say(`A local stack is already running (pid ${running.pid}).`);
        printEndpoints(running.env, running.envFile);
        return;
      }
      const orphans = cleanupStale(stateDir);
      if (orphans > 0)
        say(`Stopped ${orphans} engine process(es) left by an earlier stack that did not shut down.`);
      if (opts.fresh) rmSync(stateDir, { recursive: true, force: true });
      if (opts.foreground) {
        await serveForeground(stateDir);
        return;
      }
      say("Starting the local stack in the background...");
      try {
        const status = await startDetached(CLI_PATH, stateDir, []);
        printEndpoints(status.env, status.envFile);
        say(`Logs: ${join(stateDir, "local.log")}   Stop it with: npx vigil local down`);
      } catch (error) {
        throw new CliError((error as Error).message);
      }
    });

  local
    .command("serve", { hidden: true })
    .description("Run the local stack in this process (what `up` starts in the background)")
    .option("--state-dir <dir>", "state directory", DEFAULT_STATE_DIR)
    .action(async (opts: { stateDir: string }) => {
      await serveForeground(resolve(opts.stateDir));
    });

  local
    .command("down")
    .description("Stop the local stack started with `vigil local up` (data is kept for the next `up`)")
    .option("--state-dir <dir>", "state directory", DEFAULT_STATE_DIR)
    .action(async (opts: { stateDir: string }) => {
      const stopped = await stopDetached(opts.stateDir);
      say(stopped ? "Local stack stopped." : "No local stack is running.");
    });

  local
    .command("status")
    .description("Say whether a local stack is running and where")
    .option("--state-dir <dir>", "state directory", DEFAULT_STATE_DIR)
    .action((opts: { stateDir: string }) => {
      const status = readStatus(opts.stateDir);
      if (!status) throw new CliError("No local stack is running. Start one with: npx vigil local up", 3);
      say(`Running since ${status.startedAt} (pid ${status.pid}).`);
      printEndpoints(status.env, status.envFile);
    });
}

async function serveForeground(stateDir: string): Promise<void> {
  const served = await serveLocalStack({ stateDir, persist: true, log: say }, attachRuntime);
  printEndpoints(served.stack.env, served.stack.envFile);
  say("Press Ctrl-C to stop.");
  const signal = await untilSignal();
  say(`${signal}: stopping...`);
  await served.stop();
  say("Stopped.");
}

/** Starts every function's Kinesis event source mapping on the stack (the local Lambda runtime). */
function attachRuntime(stack: LocalStack): Promise<LocalRuntime> {
  return startLocalRuntime({
    stateDir: stack.stateDir,
    awsEnv: stack.emulators.awsEnv,
    functions: localFunctionsFromEnv(stack.env),
    log: say,
  });
}
