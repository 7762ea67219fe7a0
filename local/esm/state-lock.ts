import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { RuntimeConfigError } from "#local/esm/errors";

/** A held lock; release it when the runtime stops. */
export interface StateLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes `<stateDir>/runtime.lock` so two runtimes never drive the same checkpoints (which would
 * deliver every record twice and race on checkpoint files). A lock left by a process that no longer
 * runs (killed with SIGKILL) is taken over.
 */
export async function lockStateDir(stateDir: string): Promise<StateLock> {
  const path = join(stateDir, "runtime.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, "wx");
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new RuntimeConfigError(
        `another local runtime (pid ${owner}) is using ${stateDir}; stop it first or use another state directory`,
      );
    }
    await rm(path, { force: true });
  }
  throw new RuntimeConfigError(`could not take the lock ${path}`);
}
