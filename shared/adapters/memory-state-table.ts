import type { StoredEntity } from "#shared/adapters/dynamodb-state-codec";
import {
  type StateItemTable,
  StateStoreEngine,
  type StateStoreEngineOptions,
} from "#shared/adapters/state-store-engine";
import type { CompiledFeatureSet } from "#shared/domain/features/index";

/**
 * Entity items in a Map, with the same conditional-write contract as DynamoDB. For unit tests of
 * code that needs a FeatureStateStore (the score function), where DynamoDB Local is not wanted.
 */
export class MemoryStateTable implements StateItemTable {
  readonly items = new Map<string, StoredEntity>();

  async getMany(pks: readonly string[]): Promise<Map<string, StoredEntity>> {
    const found = new Map<string, StoredEntity>();
    for (const pk of pks) {
      const item = this.items.get(pk);
      if (item) found.set(pk, item);
    }
    return found;
  }

  async get(pk: string): Promise<StoredEntity | undefined> {
    return this.items.get(pk);
  }

  async put(
    pk: string,
    item: StoredEntity,
    previous: StoredEntity | undefined,
  ): Promise<{ ok: true } | { ok: false; current: StoredEntity | undefined }> {
    const current = this.items.get(pk);
    if (current?.revision !== previous?.revision) return { ok: false, current };
    this.items.set(pk, item);
    return { ok: true };
  }
}

/** A feature state store over a MemoryStateTable. */
export function createMemoryStateStore(
  features: CompiledFeatureSet,
  options: StateStoreEngineOptions = {},
): { store: StateStoreEngine; table: MemoryStateTable } {
  const table = new MemoryStateTable();
  return { store: new StateStoreEngine(table, features, options), table };
}
