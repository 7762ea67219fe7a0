import { backtestArchiveSlice } from "#functions/backtest/archive-slice";
import {
  type DecisionLookup,
  type StoredVectorDependencies,
  storedVectorDependencies,
} from "#functions/backtest/stored-vectors";
import {
  type DistributedRun,
  distributedRunSchema,
  type MapBatchEvent,
  mapBatchEventSchema,
  runKeys,
} from "#shared/domain/backtest/distributed";
import type { BacktestTally } from "#shared/domain/backtest/tally";
import type { ObjectStore } from "#shared/ports/object-store";

/** What a map worker needs: the archive bucket (run descriptions live there too) and the decisions. */
export interface MapWorkerDependencies {
  readonly store: ObjectStore;
  readonly decisions: DecisionLookup;
}

/** An input the map worker refuses (the map iteration, and so the run, fails with this error). */
export class MapWorkerInputError extends Error {
  override readonly name = "MapWorkerInputError";
}

/** A loaded run: its plan and the dependencies its slices decide with. */
interface LoadedRun {
  readonly run: DistributedRun;
  readonly deps: StoredVectorDependencies;
}

/**
 * The map worker of a distributed backtest: loads the run (once per run in a warm container),
 * then runs the stored-vector backtest on the batch's archive objects, exactly as a local worker
 * thread runs its slice, and returns the slice's tally (the map's result writer keeps it). Throws
 * MapWorkerInputError for an event or a run description that does not parse, or a run without
 * one; a read error of S3 or DynamoDB propagates (the map retries or fails the run, never a
 * silently smaller tally).
 */
export function createMapWorker(deps: MapWorkerDependencies): (event: unknown) => Promise<BacktestTally> {
  const runs = new Map<string, Promise<LoadedRun>>();
  const load = (runId: string): Promise<LoadedRun> => {
    let loaded = runs.get(runId);
    if (loaded === undefined) {
      loaded = (async () => {
        const body = await deps.store.get(runKeys(runId).run);
        if (body === undefined) throw new MapWorkerInputError(`run ${runId} has no run.json`);
        let json: unknown;
        try {
          json = JSON.parse(new TextDecoder().decode(body));
        } catch {
          throw new MapWorkerInputError(`run ${runId}: run.json is not JSON`);
        }
        const parsed = distributedRunSchema.safeParse(json);
        if (!parsed.success) throw new MapWorkerInputError(`run ${runId}: run.json is invalid`);
        const run = parsed.data as DistributedRun;
        return { run, deps: storedVectorDependencies(run, deps.decisions) };
      })();
      // One run at a time per container: a new run replaces the last one's engines.
      runs.clear();
      runs.set(runId, loaded);
      loaded.catch(() => runs.delete(runId));
    }
    return loaded;
  };
  return async (input) => {
    const parsed = mapBatchEventSchema.safeParse(input);
    if (!parsed.success)
      throw new MapWorkerInputError(
        "not a map batch: expected { Items: [{ Key, Size }], BatchInput: { runId } }",
      );
    const event: MapBatchEvent = parsed.data;
    const { run, deps: slice } = await load(event.BatchInput.runId);
    return backtestArchiveSlice(
      event.Items.map((i) => i.Key),
      { fromMs: run.fromMs, toMs: run.toMs },
      { ...slice, store: deps.store },
    );
  };
}
