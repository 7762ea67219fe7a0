import type { CleanEvent } from "#shared/domain/event/index";
import type { CompiledFeatureSet, EntityGroup, EntityType } from "#shared/domain/features/definition";
import { canonicalFieldOrder, type KeyField } from "#shared/domain/features/fields";

/**
 * The partition key of an entity item: `<entity type>#<value>` for one key field
 * ("deviceId#dev-42"), `<entity type>#<JSON array of values>` for a combination
 * ('userId+deviceId#["user-7","dev-42"]'). The type prefix keeps equal values of different
 * fields apart; JSON keeps combinations unambiguous whatever characters the values hold.
 */
export function entityPk(entity: EntityType, values: readonly string[]): string {
  return values.length === 1 ? `${entity.name}#${values[0]}` : `${entity.name}#${JSON.stringify(values)}`;
}

/** The key values of an event for an entity group, or undefined when it lacks one of the fields. */
export function eventKeyValues(group: EntityGroup, event: CleanEvent): string[] | undefined {
  const values: string[] = [];
  for (const read of group.keys) {
    const value = read(event);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return values;
}

/**
 * Resolves an entity type written by a person ("deviceId", "deviceId+userId") to the set's group
 * and the values in canonical field order. Values are given in the order the fields were written.
 * Throws RangeError naming the known entity types when there is no such group.
 */
export function resolveEntity(
  set: CompiledFeatureSet,
  entityType: string,
  values: readonly string[],
): { group: EntityGroup; values: string[] } {
  const written = entityType.split("+").map((s) => s.trim());
  if (written.length !== values.length) {
    throw new RangeError(
      `entity type ${entityType} has ${written.length} fields but ${values.length} values were given`,
    );
  }
  const byField = new Map<string, string>();
  written.forEach((field, i) => {
    byField.set(field, values[i] as string);
  });
  const canonical = canonicalFieldOrder([...byField.keys()]);
  const group = set.groups.find((g) => g.entity.name === canonical.join("+"));
  if (!group || canonical.length !== written.length) {
    const known = set.groups.map((g) => g.entity.name).join(", ");
    throw new RangeError(`no feature is keyed on ${entityType}; entity types: ${known}`);
  }
  return { group, values: canonical.map((field: KeyField) => byField.get(field) as string) };
}
