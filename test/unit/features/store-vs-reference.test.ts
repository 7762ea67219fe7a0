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
    await fc.assert(
      fc.asyncProperty(scenario(1, 40), async (s) => {
        const table = new FaultyTable();
        const endOfStream = T0 + 3_600_000;
        const store = new StateStoreEngine(table, set, { clock: () => endOfStream, sleep: async () => {} });
        const shards = buildRecords(s, `m${run++}`);
        const result = await deliver(store, table, shards, s.attempts);

        const { vectors, reference } = referenceVectors(set, result.order);
        expect(result.decisions.size).toBe(vectors.size);
        for (const [eventId, expected] of vectors) {
          expect({ eventId, ...result.decisions.get(eventId)?.vector }).toEqual({ eventId, ...expected });
        }
        const lastEvent = Math.max(...result.order.map((e) => Date.parse(e.occurredAt)));
        for (const at of [lastEvent, endOfStream]) {
          const reader = new StateStoreEngine(table, set, { clock: () => at });
          for (const entity of touchedEntities(set, result.order)) {
            const actual = await reader.read(entity.type, entity.values);
            expect({ entity, features: actual.features }).toEqual({
              entity,
              features: reference.read(entity.type, entity.values, at),
            });
          }
        }
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});
