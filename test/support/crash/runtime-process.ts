import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PROJECT_ROOT } from "#local/esm/bundle";

const RUNTIME_MAIN = fileURLToPath(new URL("../../../local/esm/runtime-main.ts", import.meta.url));

/** One line the runtime process printed on stdout (`started`, `caughtUp`, `stopped`). */
export interface RuntimeLine {
  readonly event: string;
  readonly at: string;
}

/** How a runtime process ended. */
export interface RuntimeExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Epoch ms at which the exit was seen. */
  readonly at: number;
}

/** The local runtime as a child process (`local/esm/runtime-main.ts`), as the crash test drives it. */
export interface RuntimeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Epoch ms the process was spawned. */
  readonly startedAt: number;
  readonly lines: RuntimeLine[];
  /** The last lines of its stderr, for failure messages. */
  stderrTail(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<RuntimeExit>;
  /** Resolves at the first stdout line with that event (after `since`, epoch ms), rejects after `timeoutMs` or if the process exits first. */
  waitFor(event: string, timeoutMs: number, since?: number): Promise<RuntimeLine>;
}

/** Spawns `node --import tsx local/esm/runtime-main.ts <configPath>`. */
export function spawnRuntime(configPath: string): RuntimeProcess {
  const child = spawn(process.execPath, ["--import", "tsx", RUNTIME_MAIN, configPath], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error("the runtime process did not start");
  const lines: RuntimeLine[] = [];
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    const parts = stdout.split("\n");
    stdout = parts.pop() ?? "";
    for (const part of parts) if (part.trim()) lines.push(JSON.parse(part) as RuntimeLine);
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const exited = new Promise<RuntimeExit>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  let exit: RuntimeExit | undefined;
  void exited.then((e) => {
    exit = e;
  });
  return {
    child,
    pid: child.pid,
    startedAt: Date.now(),
    lines,
    stderrTail: () => stderr,
    exited,
    async waitFor(event, timeoutMs, since = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = lines.find((l) => l.event === event && Date.parse(l.at) >= since);
        if (line) return line;
        if (exit)
          throw new Error(
            `the runtime exited (code ${exit.code}, signal ${exit.signal}) before "${event}":\n${stderr}`,
          );
        if (Date.now() > deadline) throw new Error(`no "${event}" from the runtime within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
