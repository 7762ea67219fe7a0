import { defaultDocuments } from "#shared/adapters/config-files";
import type { BacktestConfiguration } from "#shared/domain/backtest/configuration";
import { type DecisionKind, prepareDocument } from "#shared/domain/decision/index";
import { DEFAULT_FEATURE_SET } from "#shared/domain/features/index";
import type { ConfigStore } from "#shared/ports/config-store";

const KINDS = ["rules", "lists", "model", "features"] as const satisfies readonly DecisionKind[];

/**
 * The configuration in force in a config table, as the score function decides with it: the head
 * version of each kind; without one, the shipped default rules and the built-in feature set
 * (version 0, the loader's fallbacks), and no lists or model.
 */
export async function configurationInForce(store: ConfigStore): Promise<BacktestConfiguration> {
  const heads = await store.heads(KINDS);
  const documents: Partial<Record<DecisionKind, unknown>> = {};
  const versions: Partial<Record<DecisionKind, number | null>> = {};
  for (const kind of KINDS) {
    const head = heads.get(kind);
    if (head === undefined) continue;
    const stored = await store.get(kind, head.version);
    if (stored === undefined)
      throw new Error(`${kind} version ${head.version} is named in force but missing`);
    documents[kind] = stored.document;
    versions[kind] = head.version;
  }
  const shipped = shippedConfiguration();
  for (const kind of ["rules", "features"] as const) {
    if (documents[kind] !== undefined) continue;
    documents[kind] = shipped.documents[kind];
    versions[kind] = 0;
  }
  for (const kind of ["lists", "model"] as const) versions[kind] ??= null;
  return { documents, versions };
}

/** The shipped defaults (rules, lists, model, built-in features), as the local stack seeds them. */
export function shippedConfiguration(): BacktestConfiguration {
  const shipped = defaultDocuments();
  const stamp = { author: "vigil", now: "1970-01-01T00:00:00.000Z" };
  return {
    documents: {
      rules: prepareDocument("rules", undefined, shipped.rules, stamp),
      lists: shipped.lists,
      model: shipped.model,
      features: DEFAULT_FEATURE_SET,
    },
    versions: { rules: 0, lists: 0, model: 0, features: 0 },
  };
}
