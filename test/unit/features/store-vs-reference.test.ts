import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryStateTable } from "#shared/adapters/memory-state-table";
import { StateStoreEngine } from "#shared/adapters/state-store-engine";
import {
  buildRecords,
  deliver,
  referenceVectors,
  scenario,
  T0,
  TEST_ALLOWANCE,
  TEST_SET,
  touchedEntities,
  type WriteFaults,
} from "./feature-streams";

/**
 * The engine (plan, fold, high-water marks, encoding, compaction, conflicts) over an in-memory
 * table against the reference, under redelivery, bisects, crashes and re-sent events. The same
 * property runs against DynamoDB Local in test/integration/features.
 */

const set = TEST_SET;

/** A table whose writes fail while armed, the way a throttled or unreachable DynamoDB would. */
class FaultyTable extends MemoryStateTable implements WriteFaults {
  private mask = 0;
  private armed = false;
  private writes = 0;
  arm(mask: number): void {
    this.armed = true;
    this.mask = mask;
    this.writes = 0;
  }
  disarm(): void {
    this.armed = false;
  }
  override async put(...args: Parameters<MemoryStateTable["put"]>) {
    if (this.armed && (this.mask >> Math.min(this.writes++, 15)) & 1)
      throw new Error("injected write failure");
    return super.put(...args);
  }
}

describe("feature store engine against the reference", () => {
  it("gives every event the reference's values and ends in the reference's state", async () => {
    let run = 0;
    const seen = { late: 0, saturated: 0, lateReads: 0 };
    await fc.assert(
      fc.asyncProperty(scenario(1, 40), async (s) => {
        const table = new FaultyTable();
        const endOfStream = T0 + 3_600_000;
        const store = new StateStoreEngine(table, set, {
          clock: () => endOfStream,
          sleep: async () => {},
          ...TEST_ALLOWANCE,
        });
        const shards = buildRecords(s, `m${run++}`);
        const result = await deliver(store, table, shards, s.attempts);

        const { vectors, reference } = referenceVectors(set, result.order);
        expect(result.decisions.size).toBe(vectors.size);
        for (const [eventId, expected] of vectors) {
          expect({ eventId, ...result.decisions.get(eventId)?.vector }).toEqual({ eventId, ...expected });
          if (expected.late.length > 0) seen.late++;
          if (expected.saturated.length > 0) seen.saturated++;
        }
        const times = result.order.map((e) => Date.parse(e.occurredAt)).sort((a, b) => a - b);
        const lastEvent = times[times.length - 1] as number;
        // Readers before the end see what the store kept (or are late, for both alike).
        for (const at of [times[0] as number, times[times.length >> 1] as number, lastEvent, endOfStream]) {
          const reader = new StateStoreEngine(table, set, { clock: () => at, ...TEST_ALLOWANCE });
          for (const entity of touchedEntities(set, result.order)) {
            const actual = await reader.read(entity.type, entity.values);
            expect({ entity, at, features: actual.features }).toEqual({
              entity,
              at,
              features: reference.read(entity.type, entity.values, at),
            });
            seen.lateReads += actual.features.filter((f) => f.late).length;
          }
        }
      }),
      { numRuns: 300 },
    );
    // The streams exercised what this is about: late events, capped distinct counts, late readers.
    expect(seen.late).toBeGreaterThan(100);
    expect(seen.saturated).toBeGreaterThan(100);
    expect(seen.lateReads).toBeGreaterThan(100);
  }, 60_000);
});
