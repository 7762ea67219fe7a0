import { describe, expect, it } from "vitest";
import { replaySequentially } from "#local/replay";
import type { CleanEvent } from "#shared/domain/event/index";
import { DEFAULT_SEED, DEFAULT_SIMULATION, simulate } from "#shared/domain/simulation/index";

const T0 = Date.parse("2026-03-10T12:00:00.000Z");

/** Registrations of distinct accounts on one device, a minute apart, in the order given. */
function farm(n: number): CleanEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    schemaVersion: 1,
    eventId: `evt-farm-${i}`,
    type: "register",
    occurredAt: new Date(T0 + i * 60_000).toISOString(),
    userId: `u-farm-${i}`,
    ip: `73.10.20.${i + 1}`,
    deviceId: "d-farm",
  }));
}

describe("replaySequentially", () => {
  it("lets every event see every earlier one: the second account on a device is challenged, the fifth blocked", async () => {
    const decisions = await replaySequentially(farm(5).reverse());
    const hits = (i: number) => decisions.get(`evt-farm-${i}`)?.ruleHits.map((h) => h.id);
    expect([0, 1, 2, 3, 4].map(hits)).toEqual([
      [],
      ["register_shared_device"],
      ["register_shared_device"],
      ["register_shared_device"],
      ["register_device_farm", "register_shared_device"],
    ]);
    expect(decisions.get("evt-farm-4")?.action).toBe("block");
  });

  it("gives the same decisions every time for the same events", async () => {
    const sim = simulate({ ...DEFAULT_SIMULATION, users: 40, seed: DEFAULT_SEED, startMs: T0 });
    const once = await replaySequentially(sim.events);
    const twice = await replaySequentially(sim.events);
    expect(once.size).toBe(sim.events.length);
    expect([...twice]).toEqual([...once]);
  });
});
