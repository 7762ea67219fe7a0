import { describe, expect, it } from "vitest";
import { decodeRecord } from "#shared/domain/event/index";
import {
  DEFAULT_SIMULATION,
  outcomeLabels,
  simulate,
  simulateOutcomes,
  truthLabels,
} from "#shared/domain/simulation/index";

describe("simulated outcomes", () => {
  const sim = simulate({
    ...DEFAULT_SIMULATION,
    users: 100,
    seed: 3,
    startMs: Date.parse("2026-03-03T00:00:00Z"),
  });
  // Challenge every third event, review every fifth, pass the rest.
  const decisions = new Map(
    sim.events.map((e, i) => [
      e.eventId,
      {
        action:
          i % 3 === 0 ? ("challenge_face" as const) : i % 5 === 0 ? ("review" as const) : ("pass" as const),
      },
    ]),
  );
  const run = () => simulateOutcomes({ seed: 3, events: sim.events, truth: sim.truth, decisions });

  it("is deterministic and follows the decisions: challenges get results seconds later, reviews verdicts hours later", () => {
    const outcomes = run();
    expect(run()).toEqual(outcomes);
    expect(outcomes.challengeOutcomes).toHaveLength(
      decisions.size - [...decisions.values()].filter((d) => d.action !== "challenge_face").length,
    );
    const byId = new Map(sim.events.map((e) => [e.eventId, e]));
    for (const o of outcomes.challengeOutcomes) {
      const challenged = byId.get(o.challengedEventId);
      const delay = Date.parse(o.occurredAt) - Date.parse(challenged?.occurredAt ?? "");
      expect(delay).toBeGreaterThanOrEqual(10_000);
      expect(delay).toBeLessThanOrEqual(120_000);
      // Each result is a valid event of the contract.
      const decoded = decodeRecord(new TextEncoder().encode(JSON.stringify(o)), {
        arrivalTime: new Date(o.occurredAt),
      });
      expect(decoded.ok).toBe(true);
    }
    for (const r of outcomes.reviews) {
      const delay = Date.parse(r.verdict.resolvedAt) - Date.parse(byId.get(r.eventId)?.occurredAt ?? "");
      expect(delay).toBeGreaterThanOrEqual(3_600_000);
      expect(delay).toBeLessThanOrEqual(12 * 3_600_000);
    }
  });

  it("labels attacks more than legitimate traffic, and never labels an abandoned challenge", () => {
    const outcomes = run();
    const labels = outcomeLabels(outcomes);
    const truth = new Map(sim.truth.map((t) => [t.eventId, t]));
    const fraudOnAttacks = labels.filter(
      (l) =>
        l.label === "fraud" && "eventId" in l.subject && truth.get(l.subject.eventId)?.label === "attack",
    ).length;
    const fraudOnLegit = labels.filter(
      (l) => l.label === "fraud" && "eventId" in l.subject && truth.get(l.subject.eventId)?.label === "legit",
    ).length;
    expect(fraudOnAttacks).toBeGreaterThan(5 * fraudOnLegit);
    const abandoned = new Set(
      outcomes.challengeOutcomes
        .filter((o) => o.challengeOutcome === "abandoned")
        .map((o) => o.challengedEventId),
    );
    expect(abandoned.size).toBeGreaterThan(0);
    expect(
      labels.some(
        (l) => l.source === "challenge" && "eventId" in l.subject && abandoned.has(l.subject.eventId),
      ),
    ).toBe(false);
    expect(truthLabels(sim.truth)).toHaveLength(sim.truth.length);
  });
});
