import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "#local/local-stack";

/** What a running `vigil local up` leaves in `<stateDir>/local.json` for other commands. */
export interface LocalStackStatus {
  readonly pid: number;
  readonly startedAt: string;
  readonly envFile: string;
  readonly env: Readonly<Record<string, string>>;
  /** Engine processes, killed by `vigil local down` if the supervisor does not stop in time. */
  readonly enginePids: readonly number[];
}

const STATUS_FILE = "local.json";
const LOG_FILE = "local.log";

/** True when a process with that pid exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The status of the stack whose state lives in `stateDir`, or undefined when none is running. */
export function readStatus(stateDir: string): LocalStackStatus | undefined {
  const file = join(resolve(stateDir), STATUS_FILE);
  if (!existsSync(file)) return undefined;
  const status = JSON.parse(readFileSync(file, "utf8")) as LocalStackStatus;
  return isAlive(status.pid) ? status : undefined;
}

/**
 * Cleans up after a supervisor that died without stopping (SIGKILL, power loss): kills engine
 * processes it left and removes its status file. Returns the number of processes killed.
 */
export function cleanupStale(stateDir: string): number {
  const file = join(resolve(stateDir), STATUS_FILE);
  if (!existsSync(file)) return 0;
  const status = JSON.parse(readFileSync(file, "utf8")) as LocalStackStatus;
  if (isAlive(status.pid)) return 0;
  const orphans = status.enginePids.filter(isAlive);
  for (const pid of orphans) process.kill(pid, "SIGKILL");
  rmSync(file, { force: true });
  return orphans.length;
}

/** A stack served in this process until `stop()`: engines, resources, and what runs on them. */
export interface ServedStack {
  readonly stack: LocalStack;
  stop(): Promise<void>;
}

/**
 * Runs the local stack in this process: starts the engines and resources, then whatever
 * `attach` starts on them (the event-source-mapping runtime), and records the status file.
 * `stop()` stops the attachments first, then the engines, then removes the status file.
 */
export async function serveLocalStack(
  options: LocalStackOptions & { readonly stateDir: string },
  attach: (stack: LocalStack) => Promise<{ stop(): Promise<void> }> = async () => ({ stop: async () => {} }),
): Promise<ServedStack> {
  const stack = await startLocalStack(options);
  let attached: { stop(): Promise<void> };
  try {
    attached = await attach(stack);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const statusFile = join(stack.stateDir, STATUS_FILE);
  const status: LocalStackStatus = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    envFile: stack.envFile,
    env: stack.env,
    enginePids: stack.emulators.pids,
  };
  writeFileSync(statusFile, `${JSON.stringify(status, null, 2)}\n`);
  let stopping: Promise<void> | undefined;
  return {
    stack,
    stop: () => {
      stopping ??= (async () => {
        try {
          await attached.stop();
        } finally {
          await stack.stop();
          rmSync(statusFile, { force: true });
        }
      })();
      return stopping;
    },
  };
}

/**
 * Starts `vigil local serve` as a detached background process and waits until its status file
 * appears. Rejects with the tail of its log if it exits first or does not come up in time.
 */
export async function startDetached(
  cliPath: string,
  stateDir: string,
  extraArgs: readonly string[],
  timeoutMs = 180_000,
): Promise<LocalStackStatus> {
  const dir = resolve(stateDir);
  mkdirSync(dir, { recursive: true });
  const logPath = join(dir, LOG_FILE);
  const logFd = openSync(logPath, "a");
  const child = spawn(process.execPath, [cliPath, "local", "serve", "--state-dir", dir, ...extraArgs], {
    detached: true,
    stdio: ["ignore", logFd, logFd],
    env: process.env,
  });
  closeSync(logFd);
  child.unref();
  let exitCode: number | null = null;
  child.once("exit", (code) => {
    exitCode = code ?? 1;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = readStatus(dir);
    if (status && status.pid === child.pid) return status;
    if (exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (exitCode === null && child.pid !== undefined) process.kill(child.pid, "SIGTERM");
  const log = existsSync(logPath)
    ? readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-20).join("\n")
    : "";
  throw new Error(
    exitCode === null
      ? `the local stack did not come up within ${timeoutMs / 1000} s; last lines of ${logPath}:\n${log}`
      : `the local stack exited with code ${exitCode}; last lines of ${logPath}:\n${log}`,
  );
}

/**
 * Stops the stack recorded in `stateDir`: SIGTERM to the supervisor, then, if it has not
 * exited within the grace period, SIGKILL to it and to its engines. Returns false if none ran.
 */
export async function stopDetached(stateDir: string, graceMs = 30_000): Promise<boolean> {
  const status = readStatus(stateDir);
  if (!status) return false;
  process.kill(status.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(status.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  for (const pid of [status.pid, ...status.enginePids]) {
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
  }
  rmSync(join(resolve(stateDir), STATUS_FILE), { force: true });
  return true;
}
