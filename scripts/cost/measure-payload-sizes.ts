/**
 * Measures the payload sizes the cost model assumes (`scripts/cost/assumptions.ts`): the events of
 * the default simulated mix as producers would put them, and the decision messages score publishes
 * for them (decided in process with the shipped rules, lists and model, pseudonymized with a
 * throwaway key). Run: `npx tsx scripts/cost/measure-payload-sizes.ts`.
 */
import { randomBytes } from "node:crypto";
import { demoSimulation } from "#local/demo";
import { replaySequentially } from "#local/replay";
import type { EngineDecision } from "#shared/domain/decision/index";
import {
  createPseudonymizer,
  encodeDecisionMessage,
  toDecisionMessage,
} from "#shared/domain/decision-message/index";
import { DEFAULT_SEED } from "#shared/domain/simulation/index";

const sim = demoSimulation(
  { seed: DEFAULT_SEED, users: 800, attackScale: 1 },
  Date.parse("2026-03-02T00:00:00Z"),
);
const eventBytes = sim.events.map((e) => Buffer.byteLength(JSON.stringify(e)));
const decisions = await replaySequentially(sim.events);
const pseudonymizer = createPseudonymizer({ id: "k1", secret: randomBytes(32) });
const byAction = new Map<string, number[]>();
const all: number[] = [];
for (const event of sim.events) {
  const decision = decisions.get(event.eventId) as unknown as
    | (EngineDecision & { features?: { values: Record<string, number | null> } })
    | undefined;
  if (!decision) continue;
  const message = toDecisionMessage(
    event,
    decision,
    decision.features?.values ?? {},
    pseudonymizer,
    event.occurredAt,
  );
  const bytes = encodeDecisionMessage(message).length;
  all.push(bytes);
  byAction.set(decision.action, [...(byAction.get(decision.action) ?? []), bytes]);
}
const mean = (xs: readonly number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
const max = (xs: readonly number[]) => xs.reduce((a, b) => Math.max(a, b), 0);
console.log(`events: ${eventBytes.length}, mean ${mean(eventBytes)} B, max ${max(eventBytes)} B`);
console.log(`decision messages: ${all.length}, mean ${mean(all)} B, max ${max(all)} B`);
for (const [action, sizes] of [...byAction].sort())
  console.log(
    `  ${action.padEnd(15)} ${String(sizes.length).padStart(5)} messages, mean ${mean(sizes)} B, max ${max(sizes)} B`,
  );
