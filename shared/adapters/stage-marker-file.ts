import { existsSync, fdatasyncSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import type { Stage, StageProbe, StageReached } from "#shared/ports/stage-probe";

/**
 * Test instrumentation only. When set, the score function appends a marker line per stage to
 * this file (the local runtime sets it for its functions when given `stageMarkers`). Never set on
 * AWS: without it no probe exists.
 */
export const STAGE_MARKERS_FILE_ENV = "VIGIL_STAGE_MARKERS_FILE";
/** Test instrumentation only: the file that arms a crash on a stage (see {@link CrashArm}). */
export const CRASH_ARM_FILE_ENV = "VIGIL_CRASH_ARM_FILE";

/** One line of the marker file. */
export interface StageMarker extends StageReached {
  /** Wall-clock time of the marker, epoch ms. */
  readonly t: number;
  /** Process that wrote it: the runtime process, whose workers share its pid. */
  readonly pid: number;
  /** Function the stage belongs to (`Score`, `Alert`, `Audit`). */
  readonly fn: string;
  /** Set on the marker after which this process killed itself with SIGKILL. */
  readonly crash?: true;
}

/**
 * Content of the crash arm file: the next marker of `stage` (of function `fn`, when given) that
 * did something (`count > 0`) is written with `crash: true`, the arm file is removed, and the
 * process kills itself with SIGKILL. So a kill lands right after that stage, and before the next.
 */
export interface CrashArm {
  readonly stage: Stage;
  readonly fn?: string;
}

/**
 * Appends stage markers as NDJSON lines to a file, each written with one `write` on an
 * `O_APPEND` descriptor (whole lines, also from several threads or processes) and flushed with
 * `fdatasync` before the caller goes on, so a marker that was reached is on disk whatever comes
 * next. Throws if the file cannot be written: a crash test must not run on missing markers.
 */
export class StageMarkerFile implements StageProbe {
  private fd: number | undefined;

  constructor(
    private readonly path: string,
    private readonly fn: string,
    private readonly crashArmFile?: string,
  ) {}

  reached(stage: StageReached): void {
    const crash = stage.count > 0 && this.armedFor(stage.stage);
    const marker: StageMarker = {
      t: Date.now(),
      pid: process.pid,
      fn: this.fn,
      ...stage,
      ...(crash ? { crash: true } : {}),
    };
    this.fd ??= openSync(this.path, "a");
    writeSync(this.fd, `${JSON.stringify(marker)}\n`);
    fdatasyncSync(this.fd);
    if (crash && this.crashArmFile) {
      rmSync(this.crashArmFile, { force: true });
      process.kill(process.pid, "SIGKILL");
    }
  }

  private armedFor(stage: Stage): boolean {
    if (!this.crashArmFile || !existsSync(this.crashArmFile)) return false;
    let arm: Partial<CrashArm>;
    try {
      arm = JSON.parse(readFileSync(this.crashArmFile, "utf8")) as Partial<CrashArm>;
    } catch {
      // Removed between the check and the read (another thread took it), or being replaced.
      return false;
    }
    return arm.stage === stage && (arm.fn === undefined || arm.fn === this.fn);
  }
}

/**
 * The probe a function builds at cold start: a {@link StageMarkerFile} when
 * `VIGIL_STAGE_MARKERS_FILE` is set, otherwise undefined (production: nothing is observed).
 */
export function stageProbeFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  fn: string,
): StageProbe | undefined {
  const path = env[STAGE_MARKERS_FILE_ENV];
  if (!path) return undefined;
  return new StageMarkerFile(path, fn, env[CRASH_ARM_FILE_ENV] || undefined);
}
