import { readFileSync } from "node:fs";
import { groupLabels } from "#cli/dataset-export";
import { replayDecisionRecords } from "#local/replay";
import type { ModelDocument } from "#shared/domain/decision/model/model-schema";
import { DEFAULT_FEATURE_SET } from "#shared/domain/features/index";
import { subjectKey } from "#shared/domain/labels/index";
import {
  DEFAULT_SIMULATION,
  outcomeLabels,
  simulate,
  simulateOutcomes,
} from "#shared/domain/simulation/index";
import { buildDataset } from "#shared/domain/training/dataset";
import { trainModel } from "#shared/domain/training/train";

/**
 * How config/defaults/model.json is made (docs/decision-engine.md, "The default model's
 * provenance"): the learning loop run offline on simulated traffic of a seed that is NOT the
 * evaluation's. The default mix of seed {@link DEFAULT_MODEL_TRAINING_SEED} is decided in process
 * with the shipped rules and lists and the previous default model as champion
 * (previous-champion-model.json: the model in force before this one); the outcomes of those decisions come back as labels (challenge
 * results, review verdicts, chargebacks, ring investigations: simulateOutcomes); a point-in-time
 * training set is built with the labels known 30 days after the live day, unlabelled decisions
 * that were let through assumed legit (`vigil dataset export --unlabelled assume-legit`); and a
 * logistic regression is trained on it with `vigil model train`'s code. Deterministic: a unit
 * test refits and requires the committed artifact to be identical.
 */

/** The training traffic's seed; the README's table and the acceptance test use DEFAULT_SEED (20260301). */
export const DEFAULT_MODEL_TRAINING_SEED = 20_260_401;

/** The training traffic's live window (a fixed date: the artifact must not depend on the day it is built). */
export const DEFAULT_MODEL_TRAINING_START = Date.UTC(2026, 2, 3);

/**
 * Features left out of the candidates, and why. Link steps are the building blocks of link counts
 * (their values, "the account has one referrer", mean nothing alone: the count they lead to is
 * the signal); first/last-seen times of shared entities (merchant, BIN, device) are read by rules
 * against the event time and, as ages, measure the simulation's short history more than fraud.
 */
export const EXCLUDED_FROM_TRAINING: Readonly<Record<string, string>> = {
  phone_blocks_of_user_7d: "link step",
  referrers_of_user_7d: "link step",
  merchant_first_seen_30d: "age of a shared entity: the simulated history is five days",
  bin_first_seen_30d: "age of a shared entity: the simulated history is five days",
  device_first_seen_30d: "age of a shared entity: the simulated history is five days",
};

/** The model document config/defaults/model.json holds, trained as described above. */
export async function trainDefaultModel(): Promise<ModelDocument> {
  const sim = simulate({
    ...DEFAULT_SIMULATION,
    seed: DEFAULT_MODEL_TRAINING_SEED,
    startMs: DEFAULT_MODEL_TRAINING_START,
  });
  // The learning loop's order: the champion in force decides (the model this one replaces, kept
  // beside this file, with the shipped rules), its outcomes become labels, the challenger learns.
  const champion: unknown = JSON.parse(
    readFileSync(new URL("./previous-champion-model.json", import.meta.url), "utf8"),
  );
  const decided = await replayDecisionRecords(sim.events, { documents: { model: champion } });
  const outcomes = simulateOutcomes({
    seed: DEFAULT_MODEL_TRAINING_SEED,
    events: sim.events,
    truth: sim.truth,
    decisions: new Map(decided.map((d) => [d.eventId, d])),
  });
  const cutoff = sim.timeline.liveEnd + 30 * 86_400_000;
  const dataset = buildDataset(
    decided,
    groupLabels(outcomeLabels(outcomes), (l) => subjectKey(l.subject)),
    { labelsAsOfMs: cutoff, unlabelled: { kind: "assume-legit", minAgeMs: 30 * 86_400_000 } },
  );
  const featureIds = dataset.featureIds.filter((id) => !(id in EXCLUDED_FROM_TRAINING));

  const aggregations = new Map(DEFAULT_FEATURE_SET.features.map((f) => [f.id, f.aggregation.type]));
  const s = dataset.summary;
  const result = trainModel(dataset.rows, featureIds, {
    algorithm: "lr",
    id: "vigil-default-lr",
    version: "2026.12.1-sim",
    createdAt: "2026-12-06T00:00:00.000Z",
    data:
      `local/training/default-model.ts: the default simulation of seed ${DEFAULT_MODEL_TRAINING_SEED} (not the evaluation's ${20_260_301}), ` +
      `decided in process with the shipped rules and the previous champion (2026.03.1-sim); ${s.rows} rows (${s.fraud} fraud) with the labels its outcomes gave ` +
      `(challenges, reviews, chargebacks, investigations) known 30 days after the live day, unlabelled let-through decisions assumed legit; ` +
      `left out: ${Object.keys(EXCLUDED_FROM_TRAINING).join(", ")}, country and currency. Simulated patterns, not real data.`,
    seed: DEFAULT_MODEL_TRAINING_SEED,
    // The simulator places each attack in a country it draws: weights on country or currency would
    // learn its dice, not fraud, so the model sees neither (the amount and the scenario stay).
    excludeInputs: ["country", "currency"],
    aggregations,
  });
  return { active: result.artifact } as ModelDocument;
}
