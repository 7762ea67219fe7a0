import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { resolveCaseOperation } from "#cli/case-operations";
import { groupLabels } from "#cli/dataset-export";
import { compareScores, publishModel } from "#cli/model-operations";
import type { LocalResourceNames } from "#local/bootstrap";
import { replayDecisionRecords } from "#local/replay";
import { defaultDocuments } from "#shared/adapters/config-files";
import { DynamoDbCaseStore } from "#shared/adapters/dynamodb-case-store";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import { DynamoDbDecisionScan } from "#shared/adapters/dynamodb-decision-scan";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import { DynamoDbLabelStore } from "#shared/adapters/dynamodb-label-store";
import { putEvents } from "#shared/adapters/event-producer";
import { modelDocumentSchema } from "#shared/domain/decision/model/model-schema";
import { resolvePolicies } from "#shared/domain/decision/policy/policy-schema";
import { rulesDocumentSchema } from "#shared/domain/decision/rules/rule-schema";
import { type Label, subjectKey } from "#shared/domain/labels/index";
import {
  DEFAULT_SIMULATION,
  type SimulatedOutcomes,
  type Simulation,
  scaledAttacks,
  simulate,
  simulateOutcomes,
} from "#shared/domain/simulation/index";
import { buildDataset, type DatasetSummary } from "#shared/domain/training/dataset";
import type { OperatingPoint, ScoredExample } from "#shared/domain/training/metrics";
import { trainModel } from "#shared/domain/training/train";
import type { DecisionRecord } from "#shared/ports/decision-store";

const DAY_MS = 86_400_000;
/** Fewest fraud (and legit) rows the loop trains on. */
const MIN_CLASS_ROWS = 20;

/** What the learning loop of `npm start` did and measured. */
export interface LearningSummary {
  readonly outcomes: {
    /** Challenge results put on the events stream, and how many of them were decided. */
    readonly challengeResults: number;
    readonly challengeResultsDecided: number;
    /** Labels the score function wrote from them (passed and failed; abandoned gives none). */
    readonly challengeLabels: number;
    readonly reviewsResolved: number;
    /** Chargebacks and ring investigations imported. */
    readonly importedLabels: number;
  };
  /** The training set: decisions of the simulated days with the labels known 30 days after the live day. */
  readonly dataset: DatasetSummary;
  readonly labelsAsOf: string;
  /** The trained challenger; undefined when the training set had too few fraud or legit rows. */
  readonly model?: {
    readonly version: string;
    readonly inputs: readonly string[];
    readonly cvAuc: number;
    readonly seconds: number;
  };
  /** The model version the challenger was published as (shadow of the shipped champion). */
  readonly published?: number;
  /** The next day of another seed, decided in process by the champion with the challenger in shadow. */
  readonly holdout?: {
    readonly seed: number;
    readonly events: number;
    readonly fraud: number;
    readonly championAuc: number;
    readonly challengerAuc: number;
    /** The champion at its policy bands, and the challenger at the same false-positive rate. */
    readonly champion: OperatingPoint;
    readonly challenger: OperatingPoint;
  };
  readonly seconds: number;
}

/** The stack and run the loop works on. */
export interface LearningContext {
  readonly seed: number;
  readonly users: number;
  readonly attackScale: number;
  readonly sim: Simulation;
  /** Live decisions by eventId (from the pipeline). */
  readonly decisions: ReadonlyMap<string, DecisionRecord>;
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  readonly names: LocalResourceNames;
  readonly log: (message: string) => void;
  readonly signal?: AbortSignal;
}

async function waitForDecisions(
  store: DynamoDbDecisionStore,
  ids: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const found = new Set<string>();
  while (found.size < ids.length && Date.now() < deadline) {
    signal?.throwIfAborted();
    const missing = ids.filter((id) => !found.has(id));
    for (let i = 0; i < missing.length; i += 500) {
      for (const id of (await store.getMany(missing.slice(i, i + 500))).keys()) found.add(id);
    }
    if (found.size < ids.length) await new Promise((r) => setTimeout(r, 250));
  }
  return found.size;
}

/**
 * The loop after the live day (docs/simulator.md, "The learning loop"): what comes back about the
 * live decisions arrives with its delays (challenge results as events on the stream, seconds
 * after the challenge; review verdicts hours later through the review queue; chargebacks and ring
 * investigations days later as an import); a training set is built from the decisions table and
 * the labels known 30 days after the live day; a logistic regression is trained on it and
 * published as challenger; and champion and challenger are compared on the next day of another
 * seed, decided in process.
 */
export async function runLearningLoop(ctx: LearningContext): Promise<LearningSummary> {
  const started = Date.now();
  const { sim, log } = ctx;
  const decisionStore = new DynamoDbDecisionStore(ctx.dynamodb, ctx.names.tables.decisions, 0);
  const labels = new DynamoDbLabelStore(ctx.dynamodb, ctx.names.tables.labels);
  const scan = new DynamoDbDecisionScan(ctx.dynamodb, ctx.names.tables.decisions);
  const outcomes: SimulatedOutcomes = simulateOutcomes({
    seed: ctx.seed,
    events: sim.events,
    truth: sim.truth,
    decisions: ctx.decisions,
  });

  // Seconds: challenge results, as the challenge service would put them.
  log(
    `Outcomes: ${outcomes.challengeOutcomes.length} challenge results (seconds after the challenge), ${outcomes.reviews.length} review verdicts (hours), ${outcomes.labels.length} chargebacks and investigations (days)...`,
  );
  const put = await putEvents(
    ctx.kinesis,
    ctx.names.streams.events,
    outcomes.challengeOutcomes.map((e) => new TextEncoder().encode(JSON.stringify(e))),
  );
  if (put.rejected.length > 0 || put.failed.length > 0)
    throw new Error(`${put.rejected.length} challenge results rejected, ${put.failed.length} not accepted`);
  const outcomeIds = outcomes.challengeOutcomes.map((e) => e.eventId);
  const decided = await waitForDecisions(decisionStore, outcomeIds, 120_000, ctx.signal);
  const challengeLabels = (
    await labels.forSubjects(
      outcomes.challengeOutcomes.map((e) => subjectKey({ eventId: e.challengedEventId })),
    )
  ).size;

  // Hours: reviewers resolve the review cases through the queue.
  const caseDeps = {
    decisions: decisionStore,
    scan,
    cases: new DynamoDbCaseStore(ctx.dynamodb, ctx.names.tables.cases, ctx.names.tables.labels),
    labels,
  };
  let next = 0;
  const resolveNext = async () => {
    while (next < outcomes.reviews.length) {
      const review = outcomes.reviews[next++];
      if (review) await resolveCaseOperation(caseDeps, review.eventId, review.verdict);
    }
  };
  await Promise.all(Array.from({ length: 8 }, resolveNext));
  // Days: the acquirer's chargeback file and the analysts' ring investigations.
  const imported = await labels.put(outcomes.labels);

  // A point-in-time training set from the tables, 30 days after the live day.
  const cutoff = sim.timeline.liveEnd + 30 * DAY_MS;
  const stored: DecisionRecord[] = [];
  for await (const d of scan.scan({})) stored.push(d);
  const known: Label[] = [];
  for await (const l of labels.all()) known.push(l);
  const dataset = buildDataset(
    stored,
    groupLabels(known, (l) => subjectKey(l.subject)),
    {
      labelsAsOfMs: cutoff,
      unlabelled: { kind: "assume-legit", minAgeMs: 30 * DAY_MS },
    },
  );
  const outcomeCounts = {
    challengeResults: outcomeIds.length,
    challengeResultsDecided: decided,
    challengeLabels,
    reviewsResolved: outcomes.reviews.length,
    importedLabels: imported.stored + imported.existing,
  };
  if (dataset.summary.fraud < MIN_CLASS_ROWS || dataset.summary.legit < MIN_CLASS_ROWS) {
    log(
      `Training set: ${dataset.summary.rows} rows, ${dataset.summary.fraud} fraud: too few labels to train a model.`,
    );
    return {
      outcomes: outcomeCounts,
      dataset: dataset.summary,
      labelsAsOf: new Date(cutoff).toISOString(),
      seconds: (Date.now() - started) / 1000,
    };
  }
  log(
    `Training set: ${dataset.summary.rows} rows (${dataset.summary.fraud} fraud) with the labels known on ${new Date(cutoff).toISOString().slice(0, 10)}; training a logistic regression...`,
  );
  const trainStarted = Date.now();
  const trained = trainModel(dataset.rows, dataset.featureIds, {
    algorithm: "lr",
    id: "vigil-demo-lr",
    version: `demo-${ctx.seed}`,
    createdAt: new Date().toISOString(),
    data: `npm start: ${dataset.summary.rows} decisions of seed ${ctx.seed} with the labels known 30 days after the live day`,
    seed: ctx.seed,
  });
  const trainSeconds = (Date.now() - trainStarted) / 1000;
  const configStore = new DynamoDbConfigStore(ctx.dynamodb, ctx.names.tables.config);
  const { info } = await publishModel(configStore, trained.artifact, "challenger", {
    author: "vigil demo",
    now: new Date().toISOString(),
  });
  log(
    `Published ${trained.artifact.version} as challenger (model version ${info.version}). Deciding the holdout day...`,
  );

  // The next day of another seed: champion active, challenger in shadow, decided in process.
  const holdoutSeed = ctx.seed + 1;
  const later = simulate({
    ...DEFAULT_SIMULATION,
    seed: holdoutSeed,
    users: ctx.users,
    attacks: scaledAttacks(ctx.attackScale),
    startMs: sim.timeline.liveStart + DAY_MS,
  });
  const shipped = modelDocumentSchema.parse(defaultDocuments().model);
  const replayed = await replayDecisionRecords(later.events, {
    documents: { model: { active: shipped.active, shadow: trained.artifact } },
  });
  const truth = new Map(later.truth.map((t) => [t.eventId, t]));
  const champion: ScoredExample[] = [];
  const challenger: ScoredExample[] = [];
  for (const d of replayed) {
    const t = truth.get(d.eventId);
    if (t?.phase !== "live" || d.score === null || d.shadow.score === null) continue;
    const base = {
      label: t.label === "attack" ? (1 as const) : (0 as const),
      type: d.type,
      category: t.label === "attack" ? t.attack : t.kind,
    };
    champion.push({ ...base, score: d.score });
    challenger.push({ ...base, score: d.shadow.score });
  }
  const policies = resolvePolicies(rulesDocumentSchema.parse(defaultDocuments().rules).policy);
  const comparison = compareScores(champion, challenger, policies);
  return {
    outcomes: outcomeCounts,
    dataset: dataset.summary,
    labelsAsOf: new Date(cutoff).toISOString(),
    model: {
      version: trained.artifact.version,
      inputs: trained.selected,
      cvAuc: trained.cvAuc,
      seconds: trainSeconds,
    },
    published: info.version,
    holdout: {
      seed: holdoutSeed,
      events: champion.length,
      fraud: comparison.a.fraud,
      championAuc: comparison.a.auc,
      challengerAuc: comparison.b.auc,
      champion: comparison.a.policy,
      challenger: comparison.atFprOfA.b,
    },
    seconds: (Date.now() - started) / 1000,
  };
}
