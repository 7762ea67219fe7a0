import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RuntimeConfigError } from "#local/esm/errors";
import { lockStateDir } from "#local/esm/state-lock";

describe("lockStateDir", () => {
  it("refuses a second runtime on the same state directory until the first releases it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-lock-"));
    const lock = await lockStateDir(dir);
    await expect(lockStateDir(dir)).rejects.toBeInstanceOf(RuntimeConfigError);
    await lock.release();
    expect(existsSync(join(dir, "runtime.lock"))).toBe(false);
    await (await lockStateDir(dir)).release();
  });

  it("takes over a lock left by a process that was killed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-lock-"));
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(join(dir, "runtime.lock"), `${gone}\n`);
    const lock = await lockStateDir(dir);
    await lock.release();
  });
});
