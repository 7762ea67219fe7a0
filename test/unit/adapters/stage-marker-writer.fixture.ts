/**
 * Child process for stage-marker-file.test.ts: writes the stages named on the command line with
 * a StageMarkerFile, as the score function does, then prints "done". Args: markers file, arm file,
 * stages (comma-separated `stage:count`).
 */
import { StageMarkerFile } from "#shared/adapters/stage-marker-file";
import type { Stage } from "#shared/ports/stage-probe";

const [markers, arm, stages] = process.argv.slice(2);
const probe = new StageMarkerFile(markers ?? "", "Score", arm || undefined);
for (const item of (stages ?? "").split(",")) {
  const [stage, count] = item.split(":");
  probe.reached({
    stage: stage as Stage,
    shardId: "shardId-000000000000",
    first: "1",
    last: "9",
    records: 9,
    count: Number(count),
  });
}
process.stdout.write("done\n");
