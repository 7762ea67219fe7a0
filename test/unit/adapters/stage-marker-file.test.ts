import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { STAGE_MARKERS_FILE_ENV, stageProbeFromEnv } from "#shared/adapters/stage-marker-file";

const WRITER = fileURLToPath(new URL("./stage-marker-writer.fixture.ts", import.meta.url));

function writeStages(stages: string, arm?: { stage: string; fn?: string }) {
  const dir = mkdtempSync(join(tmpdir(), "vigil-markers-"));
  const markers = join(dir, "markers.ndjson");
  const armFile = join(dir, "arm.json");
  if (arm) writeFileSync(armFile, JSON.stringify(arm));
  const child = spawnSync(process.execPath, ["--import", "tsx", WRITER, markers, armFile, stages], {
    encoding: "utf8",
  });
  const lines = existsSync(markers)
    ? readFileSync(markers, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
  return { child, lines, armLeft: existsSync(armFile) };
}

describe("StageMarkerFile", () => {
  it("appends one line per stage with pid, function, shard and range, and lets the process go on", () => {
    const { child, lines, armLeft } = writeStages("invoking:9,stored:3,committed:2");
    expect(child.stdout).toBe("done\n");
    expect(lines.map((l) => l.stage)).toEqual(["invoking", "stored", "committed"]);
    expect(lines[1]).toMatchObject({
      fn: "Score",
      shardId: "shardId-000000000000",
      first: "1",
      last: "9",
      count: 3,
    });
    expect(lines.every((l) => l.pid === child.pid && typeof l.t === "number" && l.crash === undefined)).toBe(
      true,
    );
    expect(armLeft).toBe(false);
  });

  it("armed on a stage, kills its process with SIGKILL right after that stage's first marker that did something", () => {
    const { child, lines, armLeft } = writeStages("invoking:9,stored:0,stored:3,committed:2", {
      stage: "stored",
    });
    expect(child.signal).toBe("SIGKILL");
    expect(child.stdout).toBe("");
    expect(lines.map((l) => [l.stage, l.count, l.crash ?? false])).toEqual([
      ["invoking", 9, false],
      ["stored", 0, false],
      ["stored", 3, true],
    ]);
    // The arm is used up: the next process is not killed by it.
    expect(armLeft).toBe(false);
  });

  it("is not armed by a stage of another function", () => {
    const { child, armLeft } = writeStages("stored:3", { stage: "stored", fn: "Alert" });
    expect(child.signal).toBeNull();
    expect(armLeft).toBe(true);
  });
});

describe("stageProbeFromEnv", () => {
  it("gives no probe unless the markers file is set (production)", () => {
    expect(stageProbeFromEnv({}, "Score")).toBeUndefined();
    expect(stageProbeFromEnv({ [STAGE_MARKERS_FILE_ENV]: "" }, "Score")).toBeUndefined();
    expect(stageProbeFromEnv({ [STAGE_MARKERS_FILE_ENV]: "/tmp/m" }, "Score")).toBeDefined();
  });
});
