import { describe, expect, it } from "vitest";
import { replaySequentially } from "#local/replay";
import {
  DEFAULT_SEED,
  DEFAULT_SIMULATION,
  evaluateQuality,
  SIMULATION_EPOCH_MS,
  simulate,
} from "#shared/domain/simulation/index";

/**
 * Issue 16's acceptance on the simulator's default mix (both variants of every attack), decided
 * one event at a time with the shipped defaults, as `vigil evaluate --replay` does: combined
 * recall at least 90% of attack events with at most 0.5% of legitimate events challenged or
 * blocked. On the README's seed and on another one, so the pack is not tuned to one draw.
 */
describe("the default pack on the default mix", () => {
  for (const seed of [DEFAULT_SEED, 7]) {
    it(`seed ${seed}: recall ≥ 90%, legitimate events challenged or blocked ≤ 0.5%`, {
      timeout: 600_000,
    }, async () => {
      const sim = simulate({ ...DEFAULT_SIMULATION, seed, startMs: SIMULATION_EPOCH_MS });
      const report = evaluateQuality(sim.truth, await replaySequentially(sim.events));
      const attacks = report.attacks.find((r) => r.attack === "all");
      const legit = report.legit.find((r) => r.kind === "all");
      expect(report.undecided).toBe(0);
      expect(attacks?.events).toBeGreaterThan(700);
      expect(attacks?.recall.combined).toBeGreaterThanOrEqual(0.9);
      const friction =
        ((legit?.strength.challenged ?? 0) + (legit?.strength.blocked ?? 0)) / (legit?.events ?? 1);
      expect(friction).toBeLessThanOrEqual(0.005);
      // A challenge an attack passes is not a catch: what is stopped stays high too.
      expect((attacks?.stopped ?? 0) / (attacks?.events ?? 1)).toBeGreaterThanOrEqual(0.85);
    });
  }
});
