/**
 * Typed helpers over the `Record<Key, Definition>` maps of `shared/resources.ts`.
 * `Object.entries` widens keys to `string`; these keep the literal key types so a construct can
 * return `Record<TableKey, Table>` without a cast at every call site.
 */

/** Maps every value of a record, keeping its keys and their literal types. */
export function mapRecord<K extends string, A, B>(
  record: Readonly<Record<K, A>>,
  map: (value: A, key: K) => B,
): Record<K, B> {
  const out: Partial<Record<K, B>> = {};
  for (const [key, value] of entriesOf<K, A>(record)) out[key] = map(value, key);
  // Every key of `record` was assigned above, so the partial record is complete.
  return out as Record<K, B>;
}

/** The defined entries of a (possibly partial) record, with literal key types. */
export function entriesOf<K extends string, V>(record: Readonly<Partial<Record<K, V>>>): Array<[K, V]> {
  // `Object.entries` returns `[string, V | undefined][]`: narrow the key back to K (the only keys a
  // Record<K, V> can hold) and drop absent optional entries.
  return (Object.entries(record) as Array<[K, V | undefined]>).filter(
    (entry): entry is [K, V] => entry[1] !== undefined,
  );
}
