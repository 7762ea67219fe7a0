import { describe, expect, it } from "vitest";
import type { StageMarker } from "#shared/adapters/stage-marker-file";
import type { Stage } from "#shared/ports/stage-probe";
import { classifyKill } from "../../support/crash/kill-windows.ts";

/** The crash test's reading of where a kill landed, on hand-written marker sequences. */
const marker = (stage: Stage, count: number, extra: Partial<StageMarker> = {}): StageMarker => ({
  t: 0,
  pid: 7,
  fn: "Score",
  stage,
  shardId: "shardId-000000000000",
  first: "100",
  last: "199",
  records: 100,
  count,
  ...extra,
});

describe("classifyKill", () => {
  it("finds no window when every batch was checkpointed", () => {
    const where = classifyKill(
      [
        marker("invoking", 100),
        marker("stored", 100),
        marker("committed", 40),
        marker("published", 100),
        marker("settled", 100),
        marker("returned", 100),
        marker("checkpointed", 100),
      ],
      7,
      "Score",
    );
    expect(where.windows).toEqual([]);
    expect(where.inFlight).toEqual([]);
    expect(where.markers).toBe(7);
  });

  it("puts a kill after the decisions were stored and before the commit in the first window", () => {
    const where = classifyKill([marker("invoking", 100), marker("stored", 12, { crash: true })], 7, "Score");
    expect(where.windows).toEqual(["storedNotCommitted"]);
    expect(where.crashedAfter).toBe("stored");
  });

  it("does not count a stored stage that stored nothing (a redelivery finding its decisions)", () => {
    expect(classifyKill([marker("invoking", 100), marker("stored", 0)], 7, "Score").windows).toEqual([]);
  });

  it("tells the commit window from the publish window, and the publish window counts as after the commit", () => {
    const base = [marker("invoking", 100), marker("stored", 3), marker("committed", 5)];
    expect(classifyKill(base, 7, "Score").windows).toEqual(["committedNotCheckpointed"]);
    expect(classifyKill([...base, marker("published", 3)], 7, "Score").windows).toEqual([
      "committedNotCheckpointed",
      "publishedNotCheckpointed",
    ]);
    expect(
      classifyKill([...base, marker("published", 3), marker("returned", 100)], 7, "Score").windows,
    ).toEqual(["committedNotCheckpointed", "publishedNotCheckpointed"]);
    // Nothing published (a batch of quarantined records only): not the publish window.
    expect(classifyKill([...base, marker("published", 0), marker("settled", 5)], 7, "Score").windows).toEqual(
      ["committedNotCheckpointed"],
    );
  });

  it("reads each shard on its own, and only the killed process's markers of the function", () => {
    const other = { shardId: "shardId-000000000001" };
    const where = classifyKill(
      [
        marker("invoking", 100),
        marker("invoking", 50, other),
        marker("stored", 10),
        marker("stored", 10, { ...other }),
        marker("committed", 4, { ...other }),
        marker("checkpointed", 50, { ...other }),
        // Another process, and another function of this one: not this kill.
        marker("committed", 9, { pid: 8 }),
        marker("committed", 9, { fn: "Alert" }),
      ],
      7,
      "Score",
    );
    expect(where.windows).toEqual(["storedNotCommitted"]);
    expect(where.inFlight.map((b) => b.shardId)).toEqual(["shardId-000000000000"]);
  });

  it("ignores a function stage outside the batch invoked last (a stale marker)", () => {
    const where = classifyKill(
      [marker("invoking", 100, { first: "300", last: "399" }), marker("stored", 10)],
      7,
      "Score",
    );
    expect(where.windows).toEqual([]);
    expect(where.inFlight[0]?.stage).toBe("invoking");
  });
});
