import { backtestArchiveSlice } from "#functions/backtest/archive-slice";
import type { DecisionLookup } from "#functions/backtest/stored-vectors";
import {
  type DistributedRun,
  distributedRunSchema,
  type MapBatchEvent,
  mapBatchEventSchema,
  runKeys,
} from "#shared/domain/backtest/distributed";
import type { BacktestTally } from "#shared/domain/backtest/tally";
import { type DecisionEngine, DecisionEngineFactory, type DecisionKind } from "#shared/domain/decision/index";
import type { ObjectStore } from "#shared/ports/object-store";

/** What a map worker needs: the archive bucket (run descriptions live there too) and the decisions. */
export interface MapWorkerDependencies {
  readonly store: ObjectStore;
  readonly decisions: DecisionLookup;
}

/** An input the map worker refuses (the execution fails with this error). */
export class MapWorkerInputError extends Error {
  override readonly name = "MapWorkerInputError";
}

/** The engines of one configuration's documents. */
function engineFor(documents: Readonly<Partial<Record<DecisionKind, unknown>>>): DecisionEngine {
  const factory = new DecisionEngineFactory();
  return factory.engine({
    ...(documents.rules !== undefined ? { rules: factory.rules({ version: 1, document: documents.rules }) } : {}),
    ...(documents.lists !== undefined ? { lists: factory.lists({ version: 1, document: documents.lists }) } : {}),
    ...(documents.model !== undefined ? { model: factory.model({ version: 1, document: documents.model }) } : {}),
  });
}

/**
 * The map worker of a distributed backtest: loads the run (once per run in a warm container),
 * then runs the stored-vector backtest on the batch's archive objects and returns the slice's
 * tally (the map's result writer keeps it). Throws MapWorkerInputError for an event or run that
 * does not parse.
 */
export function createMapWorker(deps: MapWorkerDependencies): (event: unknown) => Promise<BacktestTally> {
  const runs = new Map<string, Promise<{ run: DistributedRun; before: DecisionEngine; after: DecisionEngine }>>();
  const load = (runId: string) => {
    let loaded = runs.get(runId);
    if (loaded === undefined) {
      loaded = (async () => {
        const body = await deps.store.get(runKeys(runId).run);
        if (body === undefined) throw new MapWorkerInputError(`run ${runId} has no run.json`);
        const parsed = distributedRunSchema.safeParse(JSON.parse(new TextDecoder().decode(body)));
        if (!parsed.success) throw new MapWorkerInputError(`run ${runId}: run.json is invalid`);
        const run = parsed.data as DistributedRun;
        return { run, before: engineFor(run.before), after: engineFor(run.after) };
      })();
      runs.clear();
      runs.set(runId, loaded);
    }
    return loaded;
  };
  return async (input) => {
    const parsed = mapBatchEventSchema.safeParse(input);
    if (!parsed.success) throw new MapWorkerInputError("not a map batch: expected { Items, BatchInput: { runId } }");
    const event: MapBatchEvent = parsed.data;
    const { run, before, after } = await load(event.BatchInput.runId);
    return backtestArchiveSlice(
      event.Items.map((i) => i.Key),
      { fromMs: run.fromMs, toMs: run.toMs },
      {
        store: deps.store,
        decisions: deps.decisions,
        before,
        after,
        featureVersion: run.featureVersion,
        outcomes: new Map(run.outcomes),
      },
    );
  };
}
