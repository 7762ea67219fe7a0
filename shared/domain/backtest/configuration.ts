import {
  ConfigValidationError,
  compileFeatureDocument,
  DECISION_KINDS,
  type DecisionKind,
  prepareDocument,
  type RulesDocument,
  rulesDocumentSchema,
  zodIssues,
} from "#shared/domain/decision/index";
import { policySchema } from "#shared/domain/decision/policy/policy-schema";
import type { CompiledFeatureSet } from "#shared/domain/features/index";

/**
 * A backtest's two configurations: the one in force (what the pipeline decides with) and the
 * candidate (the one in force with some documents replaced). Pure.
 */

/** One configuration: a document per kind (absent: not configured) and the version it came from. */
export interface BacktestConfiguration {
  readonly documents: Readonly<Partial<Record<DecisionKind, unknown>>>;
  /** Config-table version per kind (0: a fallback such as the shipped rules; null: a candidate file). */
  readonly versions: Readonly<Partial<Record<DecisionKind, number | null>>>;
}

/** What a candidate replaces: whole documents of any kind, and/or the policy of the rules document. */
export interface CandidateChange {
  readonly documents?: Readonly<Partial<Record<DecisionKind, unknown>>>;
  /** A policy section (`{ default?, scenarios? }`) replacing the rules document's own. */
  readonly policy?: unknown;
}

/** How a backtest computes the candidate's decisions (docs/backtest.md). */
export type BacktestPath = "stored-vectors" | "recomputed-features";

/** The candidate configuration, validated, and what it changes. */
export interface ResolvedCandidate {
  readonly inForce: BacktestConfiguration;
  readonly candidate: BacktestConfiguration;
  /** Kinds whose document differs (policy counts as rules). */
  readonly changed: readonly DecisionKind[];
  /** Whether the feature definitions change (then features must be recomputed). */
  readonly featuresChange: boolean;
}

const STAMP = { author: "vigil backtest", now: "1970-01-01T00:00:00.000Z" };

/** The feature ids a configuration's feature set defines. */
function featureIdsOf(features: CompiledFeatureSet): Set<string> {
  return new Set(features.features.map((f) => f.id));
}

/**
 * The candidate configuration: the one in force with the candidate's documents and policy, each
 * validated and compiled as `vigil <kind> apply` would (rules and model against the candidate's
 * feature set, rules stamped against the version in force so unchanged rules keep their
 * versions). Throws ConfigValidationError naming the kind and every problem.
 */
export function resolveCandidate(inForce: BacktestConfiguration, change: CandidateChange): ResolvedCandidate {
  const documents: Partial<Record<DecisionKind, unknown>> = { ...inForce.documents };
  const versions: Partial<Record<DecisionKind, number | null>> = { ...inForce.versions };
  for (const kind of DECISION_KINDS) {
    const next = change.documents?.[kind];
    if (next === undefined) continue;
    documents[kind] = next;
    versions[kind] = null;
  }
  if (change.policy !== undefined) {
    const policy = policySchema.safeParse(change.policy);
    if (!policy.success) throw new ConfigValidationError("rules", zodIssues(policy.error.issues));
    const rules = rulesDocumentSchema.safeParse(documents.rules ?? { rules: [] });
    if (!rules.success) throw new ConfigValidationError("rules", zodIssues(rules.error.issues));
    documents.rules = { ...rules.data, policy: policy.data } satisfies RulesDocument;
    versions.rules = null;
  }
  const featureSet = compileFeatureDocument(documents.features);
  const knownFeatures = featureIdsOf(featureSet);
  for (const kind of ["rules", "lists", "model"] as const) {
    if (documents[kind] === undefined || versions[kind] !== null) continue;
    documents[kind] = prepareDocument(kind, inForce.documents[kind], documents[kind], STAMP, {
      knownFeatures,
    });
  }
  const beforeFeatures = compileFeatureDocument(inForce.documents.features);
  const changed = DECISION_KINDS.filter(
    (kind) => JSON.stringify(documents[kind] ?? null) !== JSON.stringify(inForce.documents[kind] ?? null),
  );
  return {
    inForce,
    candidate: { documents, versions },
    changed,
    featuresChange: beforeFeatures.version !== featureSet.version,
  };
}

/**
 * The path a backtest takes: the stored feature vectors when only rules, lists, model or policy
 * change and stored decisions are available; recomputed features otherwise.
 */
export function chooseBacktestPath(
  resolved: Pick<ResolvedCandidate, "featuresChange">,
  storedDecisions: boolean,
): BacktestPath {
  return resolved.featuresChange || !storedDecisions ? "recomputed-features" : "stored-vectors";
}
