import { beforeAll, describe, expect, it } from "vitest";
import { groupLabels } from "#cli/dataset-export";
import { replayDecisionRecords } from "#local/replay";
import { defaultDocuments } from "#shared/adapters/config-files";
import { DecisionEngineFactory, prepareDocument } from "#shared/domain/decision/index";
import { compileAnyModel, compileModelDocument } from "#shared/domain/decision/model/compile-model";
import { TREE_VALUE_QUANTUM, type TreeEnsembleArtifact } from "#shared/domain/decision/model/model-schema";
import { resolvePolicies } from "#shared/domain/decision/policy/policy-schema";
import { rulesDocumentSchema } from "#shared/domain/decision/rules/rule-schema";
import { subjectKey } from "#shared/domain/labels/index";
import {
  DEFAULT_SIMULATION,
  outcomeLabels,
  simulate,
  simulateOutcomes,
} from "#shared/domain/simulation/index";
import { buildDataset } from "#shared/domain/training/dataset";
import { modelInputOfRow } from "#shared/domain/training/inputs";
import { bandAction } from "#shared/domain/training/metrics";
import { type TrainResult, trainModel } from "#shared/domain/training/train";
import type { DecisionRecord } from "#shared/ports/decision-store";

describe("tree ensembles (acceptance)", () => {
  let trained: TrainResult;
  let decisions: DecisionRecord[];
  let sim: ReturnType<typeof simulate>;
  beforeAll(async () => {
    sim = simulate({
      ...DEFAULT_SIMULATION,
      users: 200,
      seed: 11,
      startMs: Date.parse("2026-03-03T00:00:00Z"),
    });
    decisions = await replayDecisionRecords(sim.events);
    const outcomes = simulateOutcomes({
      seed: 11,
      events: sim.events,
      truth: sim.truth,
      decisions: new Map(decisions.map((d) => [d.eventId, d])),
    });
    const { rows, featureIds } = buildDataset(
      decisions,
      groupLabels(outcomeLabels(outcomes), (l) => subjectKey(l.subject)),
      { labelsAsOfMs: Date.parse("2030-01-01T00:00:00Z"), unlabelled: { kind: "assume-legit", minAgeMs: 0 } },
    );
    trained = trainModel(rows, featureIds, {
      algorithm: "tree-ensemble",
      id: "test-forest",
      version: "t1",
      createdAt: "2026-03-20T00:00:00.000Z",
      data: "test",
      trees: 16,
      depths: [6],
      seed: 5,
    });
  }, 120_000);

  it("has contributions that sum exactly to the score for every event, and the library's predictions", () => {
    const artifact = trained.artifact as TreeEnsembleArtifact;
    expect(artifact.format).toBe("vigil.tree-ensemble/v1");
    const model = compileAnyModel(artifact);
    const rows = [...trained.train, ...trained.holdout];
    const library = trained.libraryPredict?.(rows) ?? [];
    expect(library).toHaveLength(rows.length);
    let nonZero = 0;
    rows.forEach((row, i) => {
      const scored = model.score(modelInputOfRow(row));
      // Exact, bit for bit, in two summation orders.
      const forward = scored.contributions.reduce((sum, c) => sum + c.contribution, scored.bias ?? 0);
      const backward =
        [...scored.contributions].reverse().reduce((sum, c) => sum + c.contribution, 0) + (scored.bias ?? 0);
      expect(forward).toBe(scored.score);
      expect(backward).toBe(scored.score);
      // Node values are quantized to 2^-30 for exactness: the library's mean differs by less.
      expect(Math.abs(scored.score - (library[i] as number))).toBeLessThanOrEqual(TREE_VALUE_QUANTUM);
      if (scored.contributions.some((c) => c.contribution !== 0)) nonZero++;
    });
    expect(nonZero).toBeGreaterThan(rows.length / 2);
  });

  it("decides through the engine exactly as the library's predictions say", async () => {
    const artifact = trained.artifact as TreeEnsembleArtifact;
    const shipped = defaultDocuments();
    const stamp = { author: "test", now: "2026-03-20T00:00:00.000Z" };
    const rules = prepareDocument("rules", undefined, shipped.rules, stamp);
    const engine = new DecisionEngineFactory().build({
      rules: { version: 1, document: rules },
      model: { version: 1, document: { active: artifact } },
    });
    const policies = resolvePolicies(rulesDocumentSchema.parse(rules).policy);
    const rows = trained.holdout;
    const library = trained.libraryPredict?.(rows) ?? [];
    const events = new Map(sim.events.map((e) => [e.eventId, e]));
    const vectors = new Map(decisions.map((d) => [d.eventId, d.features]));
    const actions = new Set<string>();
    rows.forEach((row, i) => {
      const event = events.get(row.eventId);
      const features = vectors.get(row.eventId);
      if (!event || !features) throw new Error(`no event or features for ${row.eventId}`);
      const decision = engine.decide({ event, features }, Date.parse(event.occurredAt));
      expect(Math.abs((decision.score as number) - (library[i] as number))).toBeLessThanOrEqual(
        TREE_VALUE_QUANTUM,
      );
      expect(decision.band?.action ?? "pass").toBe(bandAction(policies[row.type], library[i] as number));
      actions.add(decision.band?.action ?? "pass");
      // The decision's reasons come from the ensemble's contributions, like a regression's.
      for (const c of decision.contributions) expect(c.contribution).toBeGreaterThan(0);
    });
    expect(actions.size).toBeGreaterThan(1);
  });

  it("refuses an artifact whose values are not on the 2^-30 grid or whose tree count is not a power of two", () => {
    const artifact = trained.artifact as TreeEnsembleArtifact;
    const [first] = artifact.trees;
    if (!first) throw new Error("a tree expected");
    const off = { ...artifact, trees: [{ nodes: [{ value: 0.1 }] }, ...artifact.trees.slice(1)] };
    expect(() => compileModelDocument({ active: off })).toThrow(/multiple of 2\^-30/);
    const three = { ...artifact, trees: artifact.trees.slice(0, 3) };
    expect(() => compileModelDocument({ active: three })).toThrow(/power of two/);
  });
});
