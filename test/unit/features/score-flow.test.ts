import { describe, expect, it } from "vitest";
import { createMemoryStateStore } from "#shared/adapters/memory-state-table";
import {
  compileFeatureSet,
  DEFAULT_FEATURE_SET,
  type FeatureRecord,
  type FeatureVector,
  type RecordSource,
} from "#shared/domain/features/index";
import type { FeatureStateStore } from "#shared/ports/state-store";
import { cleanEvent, SHARDS, STREAM, T0 } from "./feature-streams";

/**
 * The protocol the score function follows, as an executable example: look up decisions, prepare,
 * store each new event's decision with its vector and source, commit, report failures. A crash
 * between storing decisions and committing changes neither the vectors nor the final state.
 */

interface StoredDecision {
  readonly source: RecordSource;
  readonly features: FeatureVector;
}

/** The slice of the decision store the flow needs; first decision per eventId stands. */
class Decisions {
  readonly items = new Map<string, StoredDecision>();
  async getMany(ids: readonly string[]): Promise<ReadonlyMap<string, StoredDecision>> {
    return new Map(
      ids.flatMap((id) => (this.items.has(id) ? [[id, this.items.get(id) as StoredDecision]] : [])),
    );
  }
  async putIfAbsent(eventId: string, decision: StoredDecision): Promise<"stored" | "duplicate"> {
    if (this.items.has(eventId)) return "duplicate";
    this.items.set(eventId, decision);
    return "stored";
  }
}

class Crash extends Error {}

/** One invocation of the score function on one batch; returns the batch item failures. */
async function scoreBatch(
  records: readonly FeatureRecord[],
  deps: { features: FeatureStateStore; decisions: Decisions; crashBeforeCommit?: boolean },
): Promise<{ itemIdentifier: string }[]> {
  const stored = await deps.decisions.getMany(records.map((r) => r.event.eventId));
  const decided = new Map([...stored].map(([id, d]) => [id, d.source]));
  const pass = await deps.features.prepare(records, decided);
  const failed: RecordSource[] = [];
  const duplicates: RecordSource[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    // A vector belongs to the first record of its eventId in the batch.
    if (seen.has(r.event.eventId)) continue;
    seen.add(r.event.eventId);
    const vector = pass.vectors.get(r.event.eventId);
    if (!vector) continue; // decided before, or a copy
    const source = { shardId: r.shardId, sequenceNumber: r.sequenceNumber };
    try {
      // ... rules and model score the event with `vector.values` here ...
      const outcome = await deps.decisions.putIfAbsent(r.event.eventId, { source, features: vector });
      if (outcome === "duplicate") duplicates.push(source);
    } catch {
      failed.push(source);
    }
  }
  if (deps.crashBeforeCommit) throw new Crash("killed between the decisions and the state write");
  const result = await pass.commit({ failed, duplicates });
  return result.failed.map((f) => ({ itemIdentifier: f.sequenceNumber }));
}

describe("the score flow", () => {
  const features = compileFeatureSet(DEFAULT_FEATURE_SET);
  const records: FeatureRecord[] = Array.from({ length: 12 }, (_, i) => ({
    event: cleanEvent({
      eventId: `flow-${i % 10}`, // the last two are re-sent copies of flow-0 and flow-1
      at: T0 + i * 1_000,
      type: "payment",
      amount: "5.00",
      currency: "USD",
      cardFingerprint: "card-9",
      userId: `u${i % 3}`,
      deviceId: "d1",
    }),
    stream: STREAM,
    shardId: SHARDS[0],
    sequenceNumber: String(100 + i),
  }));

  async function run(crashAt: number | undefined) {
    const { store, table } = createMemoryStateStore(features, { clock: () => T0 });
    const decisions = new Decisions();
    for (let i = 0; i < records.length; i += 4) {
      const batch = records.slice(i, i + 4);
      if (i === crashAt) {
        await expect(
          scoreBatch(batch, { features: store, decisions, crashBeforeCommit: true }),
        ).rejects.toThrow(Crash);
      }
      expect(await scoreBatch(batch, { features: store, decisions })).toEqual([]);
    }
    return {
      decisions: decisions.items,
      items: table.items,
      card: await store.read("cardFingerprint", ["card-9"]),
    };
  }

  it("decides every event once with the same values and state however often it crashed", async () => {
    const clean = await run(undefined);
    expect(clean.decisions.size).toBe(10);
    expect(clean.card.features.find((f) => f.id === "card_spend_24h")?.value).toEqual({ USD: 5_000 });
    expect(clean.card.features.find((f) => f.id === "payments_per_card_10m")?.value).toBe(10);
    for (const crashAt of [0, 4, 8]) {
      const crashed = await run(crashAt);
      expect(crashed.decisions).toEqual(clean.decisions);
      expect(crashed.card.features).toEqual(clean.card.features);
      // Item for item, byte for byte: the crashed attempts wrote nothing extra.
      expect(crashed.items).toEqual(clean.items);
    }
  });
});
