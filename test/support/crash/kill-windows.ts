import { existsSync, readFileSync } from "node:fs";
import type { StageMarker } from "#shared/adapters/stage-marker-file";
import { compareSequenceNumbers } from "#shared/domain/features/index";
import type { Stage } from "#shared/ports/stage-probe";

/**
 * Where a SIGKILL of the local runtime landed, read from the stage markers the killed process left
 * (docs/crash-test.md). The windows the crash test must hit, per shard of the score function:
 *
 * - `storedNotCommitted`: decisions written by the batch in flight, its state not committed;
 * - `committedNotCheckpointed`: its state committed (entity items written), its checkpoint not;
 * - `publishedNotCheckpointed`: its decisions published, its checkpoint not.
 *
 * The last two overlap: a kill after the publish is also after the commit.
 */
export const KILL_WINDOWS = [
  "storedNotCommitted",
  "committedNotCheckpointed",
  "publishedNotCheckpointed",
] as const;

/** One of {@link KILL_WINDOWS}. */
export type KillWindow = (typeof KILL_WINDOWS)[number];

/** A shard's batch in flight when the process died. */
export interface InFlightBatch {
  readonly shardId: string;
  readonly first: string;
  readonly last: string;
  /** The last stage reached. */
  readonly stage: Stage;
  /** What the invocation did before it died: decisions stored, entity items written, decisions published. */
  readonly stored: number;
  readonly committed: number;
  readonly published: number;
}

/** Where one killed process was. */
export interface ClassifiedKill {
  readonly pid: number;
  /** The windows hit, each once, in {@link KILL_WINDOWS} order. */
  readonly windows: readonly KillWindow[];
  /** The batches in flight (none when the kill found every shard between batches). */
  readonly inFlight: readonly InFlightBatch[];
  /** The stage after which the process killed itself (a marker with `crash: true`), if it did. */
  readonly crashedAfter?: Stage;
  /** Markers the process wrote in all. */
  readonly markers: number;
}

/** Every marker of a marker file, in the order written (each line is one `write`). */
export function readStageMarkers(path: string): StageMarker[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as StageMarker);
}

const within = (m: { first: string; last: string }, batch: { first: string; last: string }) =>
  compareSequenceNumbers(m.first, batch.first) >= 0 && compareSequenceNumbers(m.last, batch.last) <= 0;

/**
 * Classifies where the process `pid` was when it died, from its markers of function `fn`: per
 * shard, the batch invoked last and not checkpointed, what its invocation had done, and which
 * {@link KillWindow}s that puts the kill in. A window counts only if the invocation did write in
 * it: stored decisions (not a redelivery finding them all), wrote entity items, published decisions.
 */
export function classifyKill(markers: readonly StageMarker[], pid: number, fn: string): ClassifiedKill {
  const shards = new Map<string, InFlightBatch | undefined>();
  let crashedAfter: Stage | undefined;
  let count = 0;
  for (const m of markers) {
    if (m.pid !== pid) continue;
    count++;
    if (m.crash) crashedAfter = m.stage;
    if (m.fn !== fn) continue;
    const current = shards.get(m.shardId);
    switch (m.stage) {
      case "invoking":
        shards.set(m.shardId, {
          shardId: m.shardId,
          first: m.first,
          last: m.last,
          stage: "invoking",
          stored: 0,
          committed: 0,
          published: 0,
        });
        break;
      case "stored":
      case "committed":
      case "published":
      case "settled":
      case "returned":
        if (!current || !within(m, current)) break;
        shards.set(m.shardId, {
          ...current,
          stage: m.stage,
          ...(m.stage === "stored" ? { stored: current.stored + m.count } : {}),
          ...(m.stage === "committed" ? { committed: current.committed + m.count } : {}),
          ...(m.stage === "published" ? { published: current.published + m.count } : {}),
        });
        break;
      case "checkpointed":
      case "discarded":
        // Settled up to here; a remainder (partial failure, bisect) is invoked again first.
        shards.set(m.shardId, undefined);
        break;
    }
  }
  const inFlight = [...shards.values()].filter((b): b is InFlightBatch => b !== undefined);
  const hit = new Set<KillWindow>();
  for (const b of inFlight) {
    if (b.stage === "stored" && b.stored > 0) hit.add("storedNotCommitted");
    const afterCommit = ["committed", "published", "settled", "returned"].includes(b.stage);
    if (afterCommit && b.committed > 0) hit.add("committedNotCheckpointed");
    const afterPublish = ["published", "settled", "returned"].includes(b.stage);
    if (afterPublish && b.published > 0) hit.add("publishedNotCheckpointed");
  }
  return {
    pid,
    windows: KILL_WINDOWS.filter((w) => hit.has(w)),
    inFlight,
    ...(crashedAfter ? { crashedAfter } : {}),
    markers: count,
  };
}
