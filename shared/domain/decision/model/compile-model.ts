import { type ConfigIssue, ConfigValidationError, zodIssues } from "#shared/domain/decision/issues";
import {
  AGE_UNITS,
  type AnyModelArtifact,
  type ModelArtifact,
  type ModelDocument,
  type ModelTerm,
  modelDocumentSchema,
  TREE_ENSEMBLE_FORMAT,
} from "#shared/domain/decision/model/model-schema";
import { compileTreeEnsemble } from "#shared/domain/decision/model/tree-ensemble";
import type { CleanEvent } from "#shared/domain/event/index";
import { minorUnits } from "#shared/domain/event/index";

/** One term's share of the logit: exactly weight × transformed value. */
export interface Contribution {
  readonly term: string;
  /** What the term read: a feature id, `age(<feature id>)` or `event.<field>`. */
  readonly input: string;
  /** The raw input (null when absent). */
  readonly value: number | string | null;
  /** The value after the term's transform (1 for the active one-hot category or bin). */
  readonly transformed: number;
  readonly weight: number;
  readonly contribution: number;
  readonly reason: string;
}

/** A model's output for one event. */
export interface ModelScore {
  /** Probability of fraud: sigmoid(logit). */
  readonly score: number;
  readonly logit: number;
  /** Every term's contribution, in term order. */
  readonly contributions: readonly Contribution[];
  /**
   * Tree ensembles: the score's bias (score = bias + Σ contributions, exactly). Absent for a
   * logistic regression, whose contributions add up to the logit with the intercept.
   */
  readonly bias?: number;
}

/** What a model reads for one event. */
export interface ModelInput {
  readonly event: CleanEvent;
  /** Epoch ms of the event (ages are measured from it). */
  readonly eventMs: number;
  readonly features: Readonly<Record<string, number | null | undefined>>;
}

/** A model's score with only its largest contributions (what a decision keeps). */
export interface TopModelScore {
  /** Exactly `score(input).score`. */
  readonly score: number;
  /** Exactly `topContributions(score(input).contributions, k)`. */
  readonly top: Contribution[];
}

/** A model ready to score. */
export interface CompiledModel {
  readonly id: string;
  readonly version: string;
  readonly artifact: AnyModelArtifact;
  /** Feature ids the model reads. */
  readonly features: readonly string[];
  score(input: ModelInput): ModelScore;
  /**
   * Optional fast path for the engine: the same score and the `k` largest positive contributions,
   * without building every term's contribution. A model kind without it is scored with `score`
   * and `topContributions`, with the same result.
   */
  scoreTop?(input: ModelInput, k: number): TopModelScore;
}

/** Reads a term's raw input. */
export type Reader = (input: ModelInput) => number | string | null;
type Transform = (value: number | string | null) => { transformed: number; weight: number };

/** Compiles one artifact. Unknown feature ids are refused when `knownFeatures` is given. */
export function compileModel(
  artifact: ModelArtifact,
  options: { readonly knownFeatures?: ReadonlySet<string>; readonly path?: string } = {},
): CompiledModel {
  const issues: ConfigIssue[] = [];
  const path = options.path ?? "model";
  const terms = artifact.terms.map((term, i) => {
    if ("feature" in term.input && options.knownFeatures && !options.knownFeatures.has(term.input.feature)) {
      issues.push({
        path: `${path}.terms[${i}].input.feature`,
        message: `unknown feature '${term.input.feature}'`,
      });
    }
    return { term, inputName: inputName(term), read: termReader(term), transform: transformer(term) };
  });
  if (issues.length > 0) throw new ConfigValidationError("model", issues);
  const intercept = artifact.intercept;
  const fast = fastTerms(artifact.terms);
  return {
    id: artifact.id,
    version: artifact.version,
    artifact,
    features: [...new Set(artifact.terms.flatMap((t) => ("feature" in t.input ? [t.input.feature] : [])))],
    score(input) {
      let logit = intercept;
      const contributions: Contribution[] = [];
      for (const t of terms) {
        const value = t.read(input);
        const { transformed, weight } = t.transform(value);
        const contribution = weight * transformed;
        logit += contribution;
        contributions.push({
          term: t.term.name,
          input: t.inputName,
          value,
          transformed,
          weight,
          contribution,
          reason: t.term.reason,
        });
      }
      return { score: sigmoid(logit), logit, contributions };
    },
    scoreTop(input, k) {
      return fast.scoreTop(intercept, input, k, terms);
    },
  };
}

/** Term parameters in flat form for the fast path: the same arithmetic as `transformer`, no objects. */
interface FastTerm {
  readonly kind: 0 | 1 | 2;
  readonly read: Reader;
  readonly weight: number;
  readonly missing: number;
  readonly log1p: boolean;
  readonly clip: readonly [number, number] | undefined;
  readonly mean: number;
  readonly std: number;
  readonly weights: ReadonlyMap<string, number>;
  readonly missingWeight: number;
  readonly edges: readonly number[];
  readonly binWeights: readonly number[];
}

/**
 * The fast path of a logistic regression: each term's raw value, transformed value, weight and
 * contribution go into arrays kept by the model (scoring is synchronous, so they are reused), the
 * logit is summed in term order exactly as `score` sums it, and only the `k` largest positive
 * contributions become objects.
 */
function fastTerms(modelTerms: readonly ModelTerm[]) {
  const terms: FastTerm[] = modelTerms.map((term) => {
    const t = term.transform;
    const base = {
      read: termReader(term),
      weight: 0,
      missing: 0,
      log1p: false,
      clip: undefined,
      mean: 0,
      std: 1,
      weights: new Map<string, number>(),
      missingWeight: 0,
      edges: [] as number[],
      binWeights: [] as number[],
    };
    if (t.type === "standardize")
      return {
        ...base,
        kind: 0 as const,
        weight: t.weight,
        missing: t.missing ?? 0,
        log1p: t.log1p ?? false,
        clip: t.clip,
        mean: t.mean,
        std: t.std,
      };
    if (t.type === "onehot")
      return {
        ...base,
        kind: 1 as const,
        weights: new Map(Object.entries(t.weights)),
        missingWeight: t.missingWeight ?? 0,
      };
    return {
      ...base,
      kind: 2 as const,
      edges: t.edges,
      binWeights: t.weights,
      missingWeight: t.missingWeight ?? 0,
    };
  });
  const n = terms.length;
  const values: (number | string | null)[] = new Array(n).fill(null);
  const transformed = new Float64Array(n);
  const weights = new Float64Array(n);
  const contributions = new Float64Array(n);
  const order: number[] = [];
  return {
    scoreTop(
      intercept: number,
      input: ModelInput,
      k: number,
      described: ReadonlyArray<{ readonly term: ModelTerm; readonly inputName: string }>,
    ): TopModelScore {
      let logit = intercept;
      order.length = 0;
      for (let i = 0; i < n; i++) {
        const t = terms[i] as FastTerm;
        const value = t.read(input);
        let x: number;
        let w: number;
        if (t.kind === 0) {
          w = t.weight;
          if (typeof value !== "number") x = t.missing;
          else {
            let y = t.log1p ? Math.log1p(Math.max(value, 0)) : value;
            if (t.clip) y = Math.min(Math.max(y, t.clip[0]), t.clip[1]);
            x = (y - t.mean) / t.std;
          }
        } else if (t.kind === 1) {
          if (value === null) {
            x = 1;
            w = t.missingWeight;
          } else {
            const found = t.weights.get(String(value));
            if (found === undefined) {
              x = 0;
              w = 0;
            } else {
              x = 1;
              w = found;
            }
          }
        } else if (typeof value !== "number") {
          x = 1;
          w = t.missingWeight;
        } else {
          let bin = 0;
          while (bin < t.edges.length && value >= (t.edges[bin] ?? Number.POSITIVE_INFINITY)) bin++;
          x = 1;
          w = t.binWeights[bin] ?? 0;
        }
        const c = w * x;
        logit += c;
        values[i] = value;
        transformed[i] = x;
        weights[i] = w;
        contributions[i] = c;
        // Keep the k largest positive contributions, largest first, ties in term order.
        if (c > 0 && k > 0) {
          let at = order.length;
          while (at > 0 && (contributions[order[at - 1] as number] as number) < c) at--;
          if (at < k) {
            order.splice(at, 0, i);
            if (order.length > k) order.pop();
          }
        }
      }
      const top: Contribution[] = order.map((i) => {
        const d = described[i] as { readonly term: ModelTerm; readonly inputName: string };
        return {
          term: d.term.name,
          input: d.inputName,
          value: values[i] ?? null,
          transformed: transformed[i] as number,
          weight: weights[i] as number,
          contribution: contributions[i] as number,
          reason: d.term.reason,
        };
      });
      return { score: sigmoid(logit), top };
    },
  };
}

/** Compiles an artifact of either format (logistic regression, tree ensemble). */
export function compileAnyModel(
  artifact: AnyModelArtifact,
  options: { readonly knownFeatures?: ReadonlySet<string>; readonly path?: string } = {},
): CompiledModel {
  return artifact.format === TREE_ENSEMBLE_FORMAT
    ? compileTreeEnsemble(artifact, options)
    : compileModel(artifact, options);
}

/** Validates and compiles a model document (active and shadow). */
export function compileModelDocument(
  input: unknown,
  options: { readonly knownFeatures?: ReadonlySet<string> } = {},
): { readonly active: CompiledModel; readonly shadow?: CompiledModel; readonly document: ModelDocument } {
  const parsed = modelDocumentSchema.safeParse(input);
  if (!parsed.success) throw new ConfigValidationError("model", zodIssues(parsed.error.issues));
  const active = compileAnyModel(parsed.data.active, { ...options, path: "active" });
  const shadow = parsed.data.shadow
    ? compileAnyModel(parsed.data.shadow, { ...options, path: "shadow" })
    : undefined;
  return { active, ...(shadow ? { shadow } : {}), document: parsed.data };
}

/** The logistic function, written so that neither branch overflows. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * The largest positive contributions, largest first (ties by term order): what pushed the score
 * up. Negative contributions explain why a score is low and are left out of reason codes.
 */
export function topContributions(contributions: readonly Contribution[], n: number): Contribution[] {
  return contributions
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.contribution > 0)
    .sort((a, b) => b.c.contribution - a.c.contribution || a.i - b.i)
    .slice(0, n)
    .map(({ c }) => c);
}

/** How a term's input is named in contributions. */
export function inputName(term: Pick<ModelTerm, "input">): string {
  if ("event" in term.input) return `event.${term.input.event}`;
  return term.input.ageIn ? `age(${term.input.feature})` : term.input.feature;
}

/** Reads a term's raw input for one event (null when absent). */
export function termReader(term: Pick<ModelTerm, "input">): Reader {
  const input = term.input;
  if ("feature" in input) {
    const id = input.feature;
    const unit = input.ageIn ? AGE_UNITS[input.ageIn] : undefined;
    return ({ features, eventMs }) => {
      const value = features[id];
      if (typeof value !== "number" || !Number.isFinite(value)) return null;
      return unit === undefined ? value : (eventMs - value) / unit;
    };
  }
  switch (input.event) {
    case "type":
      return ({ event }) => event.type;
    case "geo.country":
      return ({ event }) => event.geo?.country ?? null;
    case "currency":
      return ({ event }) => (event.type === "order" || event.type === "payment" ? event.currency : null);
    case "emailDomain":
      return ({ event }) =>
        event.email === undefined ? null : event.email.slice(event.email.lastIndexOf("@") + 1);
    case "amountMinor":
      return ({ event }) =>
        event.type === "order" || event.type === "payment"
          ? minorUnits({ amount: event.amount, currency: event.currency })
          : null;
  }
}

function transformer(term: ModelTerm): Transform {
  const t = term.transform;
  switch (t.type) {
    case "standardize": {
      const missing = t.missing ?? 0;
      return (value) => {
        if (typeof value !== "number") return { transformed: missing, weight: t.weight };
        let x = t.log1p ? Math.log1p(Math.max(value, 0)) : value;
        if (t.clip) x = Math.min(Math.max(x, t.clip[0]), t.clip[1]);
        return { transformed: (x - t.mean) / t.std, weight: t.weight };
      };
    }
    case "onehot": {
      const weights = new Map(Object.entries(t.weights));
      const missingWeight = t.missingWeight ?? 0;
      return (value) => {
        if (value === null) return { transformed: 1, weight: missingWeight };
        const weight = weights.get(String(value));
        return weight === undefined ? { transformed: 0, weight: 0 } : { transformed: 1, weight };
      };
    }
    case "bins": {
      const missingWeight = t.missingWeight ?? 0;
      return (value) => {
        if (typeof value !== "number") return { transformed: 1, weight: missingWeight };
        let bin = 0;
        while (bin < t.edges.length && value >= (t.edges[bin] ?? Number.POSITIVE_INFINITY)) bin++;
        return { transformed: 1, weight: t.weights[bin] ?? 0 };
      };
    }
  }
}
