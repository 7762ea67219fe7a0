import { createHash } from "node:crypto";
import { type KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";
import { compileFeatureDocument } from "#shared/domain/decision/index";
import type { CleanEvent } from "#shared/domain/event/index";
import { entityPk, eventKeyValues } from "#shared/domain/features/entity-key";
import { DEFAULT_FEATURE_SET, type FeatureSetDefinition } from "#shared/domain/features/index";

/**
 * Sending events to the local stack so that the live pipeline's features are the same on every run
 * (what a parity test compares a prediction with). Kinesis shards are consumed in parallel, so two
 * events of one device on two shards sent together are each decided before the other is counted
 * (local/replay.ts explains it). Splitting the events, in order, into waves in which no entity of
 * the feature set appears on two shards, and waiting for each wave to be decided before the next,
 * leaves only orders that cannot change a value.
 */

/** Which shard a partition key lands on: MD5 of the key within each shard's hash key range. */
export async function shardResolver(
  kinesis: KinesisClient,
  streamName: string,
): Promise<(key: string) => string> {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const ranges = Shards.map((s) => ({
    id: s.ShardId ?? "",
    from: BigInt(s.HashKeyRange?.StartingHashKey ?? "0"),
    to: BigInt(s.HashKeyRange?.EndingHashKey ?? "0"),
  }));
  return (key) => {
    const hash = BigInt(`0x${createHash("md5").update(key, "utf8").digest("hex")}`);
    const shard = ranges.find((r) => hash >= r.from && hash <= r.to);
    if (!shard) throw new Error(`no shard holds hash key ${hash}`);
    return shard.id;
  };
}

/** An item to send: its entity values are read from `event`. */
export interface WaveItem {
  readonly event: Readonly<Record<string, unknown>>;
  readonly partitionKey: string;
}

/**
 * Splits items, in order, into consecutive waves: an item starts a new wave when one of its entity
 * keys (per the feature set's entity types) is used in the current wave by an item of another shard.
 */
export function entitySafeWaves<T extends WaveItem>(
  items: readonly T[],
  shardOf: (partitionKey: string) => string,
  features: FeatureSetDefinition = DEFAULT_FEATURE_SET,
): T[][] {
  // The feature engine's own key derivation (derived keys such as an email's domain or a phone's
  // number block included): exactly the entity items an event's features read and write.
  const groups = compileFeatureDocument(features).groups;
  const keysOf = (event: Readonly<Record<string, unknown>>) =>
    groups.flatMap((group) => {
      const values = eventKeyValues(group, event as unknown as CleanEvent);
      return values ? [entityPk(group.entity, values)] : [];
    });
  const waves: T[][] = [];
  let wave: T[] = [];
  let owners = new Map<string, string>();
  for (const item of items) {
    const shard = shardOf(item.partitionKey);
    const keys = keysOf(item.event);
    if (keys.some((k) => owners.has(k) && owners.get(k) !== shard)) {
      waves.push(wave);
      wave = [];
      owners = new Map();
    }
    wave.push(item);
    for (const k of keys) owners.set(k, shard);
  }
  if (wave.length > 0) waves.push(wave);
  return waves;
}
