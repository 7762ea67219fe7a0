import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryStateTable } from "#shared/adapters/memory-state-table";
import { StateStoreEngine } from "#shared/adapters/state-store-engine";
import { buildExtendedRecords, EXTENDED_TEST_SET } from "./extended-streams";
import {
  deliver,
  referenceVectors,
  scenario,
  T0,
  TEST_ALLOWANCE,
  touchedEntities,
  type WriteFaults,
} from "./feature-streams";

/**
 * The kinds of issue 16 (derived keys, IP enrichment, converted sums, time-since, value and rate
 * ratios, link counts) through the engine over an in-memory table against the reference, under
 * the same redeliveries, bisects, crashes and re-sent events as the original kinds. The same
 * property runs against DynamoDB Local in test/integration/features/extended-kinds.test.ts.
 */

const set = EXTENDED_TEST_SET;

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

describe("the feature kinds of issue 16 against the reference", () => {
  it("gives every event the reference's values and ends in the reference's state", async () => {
    let run = 0;
    const seen = new Map<string, { nonNull: number; positive: number; late: number; saturated: number }>();
    await fc.assert(
      fc.asyncProperty(scenario(5, 40), async (s) => {
        const table = new FaultyTable();
        const endOfStream = T0 + 3_600_000;
        const store = new StateStoreEngine(table, set, {
          clock: () => endOfStream,
          sleep: async () => {},
          ...TEST_ALLOWANCE,
        });
        const shards = buildExtendedRecords(s, `x${run++}`);
        const result = await deliver(store, table, shards, s.attempts);
        const { vectors, reference } = referenceVectors(set, result.order);
        expect(result.decisions.size).toBe(vectors.size);
        for (const [eventId, expected] of vectors) {
          expect({ eventId, ...result.decisions.get(eventId)?.vector }).toEqual({ eventId, ...expected });
          for (const f of set.features) {
            const tally = seen.get(f.id) ?? { nonNull: 0, positive: 0, late: 0, saturated: 0 };
            const value = expected.values[f.id];
            if (value !== null && value !== undefined) tally.nonNull++;
            if (value !== null && value !== undefined && value > 0) tally.positive++;
            if (expected.late.includes(f.id)) tally.late++;
            if (expected.saturated.includes(f.id)) tally.saturated++;
            seen.set(f.id, tally);
          }
        }
        const times = result.order.map((e) => Date.parse(e.occurredAt)).sort((a, b) => a - b);
        const lastEvent = times[times.length - 1] as number;
        for (const at of [times[0] as number, times[times.length >> 1] as number, lastEvent, endOfStream]) {
          const reader = new StateStoreEngine(table, set, { clock: () => at, ...TEST_ALLOWANCE });
          for (const entity of touchedEntities(set, result.order)) {
            const actual = await reader.read(entity.type, entity.values);
            expect({ entity, at, features: actual.features }).toEqual({
              entity,
              at,
              features: reference.read(entity.type, entity.values, at),
            });
          }
        }
      }),
      { numRuns: 200 },
    );
    // Every feature read values, and the streams reached what each kind is about.
    const tally = (id: string) => seen.get(id) ?? { nonNull: 0, positive: 0, late: 0, saturated: 0 };
    for (const f of set.features) {
      // Referral links exist only on registrations: fewer events read them.
      const least = f.id === "referral_grandchildren" ? 10 : 30;
      expect({ id: f.id, values: tally(f.id).positive > least }).toEqual({ id: f.id, values: true });
    }
    expect(tally("bin_spend_eur_5m").saturated).toBeGreaterThan(20); // GBP has no rate
    expect(tally("canon_email_accounts_2m").saturated).toBeGreaterThan(20); // cap 1
    expect(tally("accounts_via_devices").late).toBeGreaterThan(5);
    expect(tally("accounts_via_device_cards").saturated).toBeGreaterThan(5);
    expect(tally("user_since_otp_5m").nonNull).toBeGreaterThan(50);
    expect(tally("prefix_rate_1m_vs_3m").late).toBeGreaterThan(5);
  }, 120_000);
});
