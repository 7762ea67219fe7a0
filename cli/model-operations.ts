import { readFileSync } from "node:fs";
import { applyDocument, currentDocument } from "#cli/config-operations";
import { compileAnyModel } from "#shared/domain/decision/model/compile-model";
import {
  type AnyModelArtifact,
  anyModelArtifactSchema,
  type ModelDocument,
  modelDocumentSchema,
} from "#shared/domain/decision/model/model-schema";
import { resolvePolicies, type ScenarioPolicy } from "#shared/domain/decision/policy/policy-schema";
import { rulesDocumentSchema } from "#shared/domain/decision/rules/rule-schema";
import type { EventType } from "#shared/domain/event/index";
import { type Label, labelAsOf, subjectKey } from "#shared/domain/labels/index";
import { type DatasetRow, unflattenRow } from "#shared/domain/training/dataset";
import { modelInputOfRow } from "#shared/domain/training/inputs";
import {
  evaluateScores,
  type ModelEvaluation,
  type OperatingPoint,
  recallAtFpr,
  type ScoredExample,
} from "#shared/domain/training/metrics";
import type { ConfigStore, ConfigVersionInfo } from "#shared/ports/config-store";
import type { DecisionRecord } from "#shared/ports/decision-store";

/**
 * What `vigil model` does apart from argument parsing: reading artifacts and training sets,
 * evaluating and comparing models on the same rows, publishing as champion or challenger, and
 * the champion/challenger report on labels that came back.
 */

/** A model file that is neither an artifact nor a model document. */
export class ModelFileError extends Error {
  override readonly name = "ModelFileError";
}

/**
 * Reads a model artifact from a JSON file: an artifact (`format` …) or a model document (its
 * `active` model; `shadow` with `which: "shadow"`).
 */
export function readModelFile(path: string, which: "active" | "shadow" = "active"): AnyModelArtifact {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ModelFileError(`${path}: ${(error as NodeJS.ErrnoException).code ?? "not JSON"}`);
  }
  const asDocument = modelDocumentSchema.safeParse(json);
  if (asDocument.success) {
    const chosen = asDocument.data[which];
    if (!chosen) throw new ModelFileError(`${path}: the document has no ${which} model`);
    return chosen;
  }
  const asArtifact = anyModelArtifactSchema.safeParse(json);
  if (!asArtifact.success) {
    const issue = asArtifact.error.issues[0];
    throw new ModelFileError(
      `${path}: not a model artifact: ${issue?.path.join(".") || "artifact"}: ${issue?.message}`,
    );
  }
  return asArtifact.data;
}

/** A training set file (NDJSON of `vigil dataset export`) and its feature ids. */
export function readDatasetFile(path: string): { rows: DatasetRow[]; featureIds: string[] } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ModelFileError(`${path}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
  const records = text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l, i) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new ModelFileError(`${path}:${i + 1}: not JSON`);
      }
    });
  const featureIds = [
    ...new Set(
      records.flatMap((r) =>
        Object.keys(r)
          .filter((k) => k.startsWith("feature."))
          .map((k) => k.slice(8)),
      ),
    ),
  ].sort();
  return { rows: records.map(unflattenRow), featureIds };
}

/** The data dictionary next to a training set (`<base>.dictionary.json`), if there is one. */
export function readDictionary(
  datasetPath: string,
): { aggregations: Map<string, string>; text: string } | undefined {
  const path = datasetPath.replace(/\.ndjson$/, ".dictionary.json");
  if (path === datasetPath) return undefined;
  try {
    const dictionary = JSON.parse(readFileSync(path, "utf8")) as {
      parameters?: unknown;
      features?: Record<string, { aggregation?: string } | null>;
    };
    const aggregations = new Map<string, string>();
    for (const [id, d] of Object.entries(dictionary.features ?? {}))
      if (d?.aggregation) aggregations.set(id, d.aggregation);
    return { aggregations, text: JSON.stringify(dictionary.parameters ?? {}) };
  } catch {
    return undefined;
  }
}

/** The score bands per scenario of a rules document (default: the shipped rules). */
export function policiesOf(rulesDocument: unknown): Readonly<Record<EventType, ScenarioPolicy>> {
  return resolvePolicies(rulesDocumentSchema.parse(rulesDocument).policy);
}

/** Scores a training set's rows with a model. */
export function scoreRows(artifact: AnyModelArtifact, rows: readonly DatasetRow[]): ScoredExample[] {
  const model = compileAnyModel(artifact);
  return rows.map((r) => ({
    score: model.score(modelInputOfRow(r)).score,
    label: r.label,
    type: r.type,
    category: r.labelCategory,
  }));
}

/** Two models on the same rows, and each one's recall at the other's false-positive rate. */
export interface Comparison {
  readonly a: ModelEvaluation;
  readonly b: ModelEvaluation;
  /** At A's policy false-positive rate: A's policy point, and B's best recall with at most that FPR. */
  readonly atFprOfA: { readonly fpr: number; readonly a: OperatingPoint; readonly b: OperatingPoint };
  /** At B's policy false-positive rate, the other way round. */
  readonly atFprOfB: { readonly fpr: number; readonly a: OperatingPoint; readonly b: OperatingPoint };
}

/** Compares two sets of scores of the same rows. */
export function compareScores(
  a: readonly ScoredExample[],
  b: readonly ScoredExample[],
  policies: Readonly<Record<EventType, ScenarioPolicy>>,
): Comparison {
  const evalA = evaluateScores(a, policies);
  const evalB = evaluateScores(b, policies);
  return {
    a: evalA,
    b: evalB,
    atFprOfA: {
      fpr: evalA.policy.fpr,
      a: recallAtFpr(a, evalA.policy.fpr),
      b: recallAtFpr(b, evalA.policy.fpr),
    },
    atFprOfB: {
      fpr: evalB.policy.fpr,
      a: recallAtFpr(a, evalB.policy.fpr),
      b: recallAtFpr(b, evalB.policy.fpr),
    },
  };
}

/**
 * Publishes an artifact as a new model version: `challenger` keeps the champion in force and
 * puts the artifact in `shadow` (scored for every event, recorded, never acting); `champion`
 * makes it the active model (a challenger of the same version is promoted, so the shadow slot is
 * emptied; another challenger stays). Checked against the feature set in force like any model
 * apply; rollback is `vigil model rollback`.
 */
export async function publishModel(
  store: ConfigStore,
  artifact: AnyModelArtifact,
  as: "challenger" | "champion",
  options: {
    readonly author: string;
    readonly now: string;
    readonly comment?: string;
    readonly expectedVersion?: number;
  },
): Promise<{ info: ConfigVersionInfo; document: ModelDocument }> {
  const current = await currentDocument(store, "model");
  const parsed = current.document === undefined ? undefined : modelDocumentSchema.parse(current.document);
  let document: ModelDocument;
  if (as === "challenger") {
    if (!parsed) throw new ModelFileError("no champion in force: publish the first model --as champion");
    document = { active: parsed.active, shadow: artifact };
  } else {
    const keepShadow =
      parsed?.shadow && parsed.shadow.version !== artifact.version ? { shadow: parsed.shadow } : {};
    document = { active: artifact, ...keepShadow };
  }
  const info = await applyDocument(store, "model", document, {
    author: options.author,
    now: options.now,
    comment: options.comment ?? `${artifact.id} ${artifact.version} as ${as}`,
    expectedVersion: options.expectedVersion ?? current.version,
  });
  return { info, document };
}

/** What `vigil model report` found. */
export interface ChallengerReport {
  readonly champion: string | null;
  readonly challenger: string | null;
  /** Decisions scored by both since the start, and how many of them have a label now. */
  readonly decisions: number;
  readonly labelled: number;
  readonly fraud: number;
  readonly comparison: Comparison | undefined;
  /** Fraud the challenger catches at the champion's false-positive rate, minus the champion's. */
  readonly extraCaught: number | undefined;
}

/**
 * Champion against challenger on the decisions both scored (the champion's `score`, the
 * challenger's `shadow.score`) joined with the labels known now: at the champion's policy
 * false-positive rate, how many more frauds would the challenger have caught.
 */
export function challengerReport(
  decisions: readonly DecisionRecord[],
  labels: ReadonlyMap<string, readonly Label[]>,
  policies: Readonly<Record<EventType, ScenarioPolicy>>,
  nowMs: number,
): ChallengerReport {
  const both = decisions.filter(
    (d) => d.score !== null && d.shadow.score !== null && d.versions.shadowModel !== null,
  );
  const champion: ScoredExample[] = [];
  const challenger: ScoredExample[] = [];
  for (const d of both) {
    const label = labelAsOf(labels.get(subjectKey({ eventId: d.eventId })) ?? [], nowMs);
    if (!label) continue;
    const base = {
      label: label.label === "fraud" ? (1 as const) : (0 as const),
      type: d.type,
      category: label.category ?? null,
    };
    champion.push({ ...base, score: d.score as number });
    challenger.push({ ...base, score: d.shadow.score as number });
  }
  const fraud = champion.filter((e) => e.label === 1).length;
  const usable = fraud > 0 && fraud < champion.length;
  const comparison = usable ? compareScores(champion, challenger, policies) : undefined;
  const versionOf = (pick: (d: DecisionRecord) => string | null) => {
    const versions = [...new Set(both.map(pick))];
    return versions.length === 0 ? null : versions.join(", ");
  };
  return {
    champion: versionOf((d) => d.versions.model),
    challenger: versionOf((d) => d.versions.shadowModel),
    decisions: both.length,
    labelled: champion.length,
    fraud,
    comparison,
    extraCaught: comparison
      ? comparison.atFprOfA.b.truePositives - comparison.atFprOfA.a.truePositives
      : undefined,
  };
}
