import {
  compileModel,
  type ModelInput,
  type Reader,
  sigmoid,
  termReader,
} from "#shared/domain/decision/model/compile-model";
import { MODEL_FORMAT, type ModelArtifact, type ModelTerm } from "#shared/domain/decision/model/model-schema";

/**
 * Fitting a logistic-regression artifact: the transforms' parameters (means, deviations) from
 * the training data, the weights by Newton's method with an L2 penalty, and held-out metrics
 * computed with the finished artifact, so the recorded metrics are those of the weights served.
 * Deterministic: the same data give the same artifact, byte for byte.
 */

/** A term to fit: like a model term, without the numbers. */
export type TermSpec = Pick<ModelTerm, "name" | "input" | "reason" | "description"> & {
  readonly transform:
    | { readonly type: "standardize"; readonly log1p?: boolean; readonly clip?: readonly [number, number] }
    | { readonly type: "onehot"; readonly categories: readonly string[]; readonly missing?: boolean }
    | { readonly type: "bins"; readonly edges: readonly number[]; readonly missing?: boolean };
};

/** What to fit: everything of the artifact except its numbers and metrics. */
export interface ModelSpec {
  readonly id: string;
  readonly version: string;
  readonly description?: string;
  readonly createdAt: string;
  readonly provenance: Omit<ModelArtifact["provenance"], "metrics">;
  readonly terms: readonly TermSpec[];
}

/** One training example. */
export interface LabeledInput {
  readonly input: ModelInput;
  readonly label: 0 | 1;
}

/** Fitting options. */
export interface FitOptions {
  /** L2 penalty on the weights (not the intercept), per example. Default 1e-4. */
  readonly l2?: number;
  readonly maxIterations?: number;
  /** Stop when no coefficient moves by more than this. */
  readonly tolerance?: number;
  /** Significant digits kept in the artifact. Default 6. */
  readonly digits?: number;
  /**
   * Fraud rate expected in production. When the training data were enriched with fraud, the
   * intercept is shifted by logit(baseRate) − logit(training rate) (prior correction), so scores
   * are probabilities at the production rate; the weights, and so the ranking, do not change.
   */
  readonly baseRate?: number;
  /**
   * Weight of each fraud example (legit ones weigh 1): class weighting for rare fraud. The
   * intercept is then shifted back (prior correction to `baseRate`, or to the unweighted training
   * rate when none is given), so scores stay probabilities; the ranking is the weighted fit's.
   */
  readonly positiveWeight?: number;
}

/** Fits the spec on `train`, measures on `holdout`, and returns the artifact. */
export function fitModelArtifact(
  spec: ModelSpec,
  train: readonly LabeledInput[],
  holdout: readonly LabeledInput[],
  options: FitOptions = {},
): ModelArtifact {
  const digits = options.digits ?? 6;
  const round = (x: number) => Number(x.toPrecision(digits));
  const readers = spec.terms.map((t) => termReader(t));
  const stats = spec.terms.map((t, i) =>
    t.transform.type === "standardize" ? standardization(t, readers[i], train, round) : undefined,
  );
  const columns = (row: ModelInput): number[] => {
    const out: number[] = [1];
    spec.terms.forEach((t, i) => {
      const value = (readers[i] as Reader)(row);
      out.push(...termColumns(t, value, stats[i]));
    });
    return out;
  };
  const X = train.map((s) => columns(s.input));
  const y = train.map((s) => s.label);
  const positiveWeight = options.positiveWeight ?? 1;
  const weights = positiveWeight === 1 ? undefined : y.map((v) => (v === 1 ? positiveWeight : 1));
  const fit = fitLogistic(X, y, options, weights);
  const weightedRate = weights ? weightedMean(y, weights) : mean(y);
  let c = 1;
  const take = () => round(fit.coefficients[c++] ?? 0);
  const terms: ModelTerm[] = spec.terms.map((t, i) => {
    const base = {
      name: t.name,
      input: t.input,
      reason: t.reason,
      ...(t.description ? { description: t.description } : {}),
    };
    const tr = t.transform;
    switch (tr.type) {
      case "standardize": {
        const s = stats[i] ?? { mean: 0, std: 1 };
        return {
          ...base,
          transform: {
            type: "standardize",
            ...(tr.log1p ? { log1p: true } : {}),
            ...(tr.clip ? { clip: [tr.clip[0], tr.clip[1]] as [number, number] } : {}),
            mean: s.mean,
            std: s.std,
            weight: take(),
          },
        };
      }
      case "onehot": {
        const weights: Record<string, number> = {};
        for (const category of tr.categories) weights[category] = take();
        return {
          ...base,
          transform: { type: "onehot", weights, ...(tr.missing ? { missingWeight: take() } : {}) },
        };
      }
      default: {
        const weights = [...tr.edges, 0].map(() => take());
        return {
          ...base,
          transform: {
            type: "bins",
            edges: [...tr.edges],
            weights,
            ...(tr.missing ? { missingWeight: take() } : {}),
          },
        };
      }
    }
  });
  const draft: ModelArtifact = {
    format: MODEL_FORMAT,
    id: spec.id,
    version: spec.version,
    ...(spec.description ? { description: spec.description } : {}),
    createdAt: spec.createdAt,
    provenance: { ...spec.provenance },
    intercept: round(
      (fit.coefficients[0] ?? 0) +
        priorShift(options.baseRate ?? (weights ? mean(y) : undefined), weightedRate),
    ),
    terms,
  };
  const model = compileModel(draft);
  const score = (set: readonly LabeledInput[]) => set.map((s) => model.score(s.input).score);
  const heldScores = score(holdout);
  const heldLabels = holdout.map((s) => s.label);
  const metrics: Record<string, number> = {
    trainExamples: train.length,
    holdoutExamples: holdout.length,
    trainFraudRate: round(mean(y)),
    holdoutFraudRate: round(mean(heldLabels)),
    ...(options.baseRate === undefined ? {} : { baseRate: options.baseRate }),
    ...(weights ? { positiveWeight } : {}),
    iterations: fit.iterations,
    trainLogLoss: round(logLoss(score(train), y)),
    holdoutLogLoss: round(logLoss(heldScores, heldLabels)),
    holdoutAuc: round(auc(heldScores, heldLabels)),
  };
  return { ...draft, provenance: { ...draft.provenance, metrics } };
}

function priorShift(baseRate: number | undefined, trainRate: number): number {
  if (baseRate === undefined) return 0;
  const logit = (p: number) => Math.log(p / (1 - p));
  return logit(baseRate) - logit(trainRate);
}

/** Mean and deviation of a standardized term's pre-transformed values over the training examples. */
export function standardization(
  term: TermSpec,
  read: Reader | undefined,
  train: readonly LabeledInput[],
  round: (x: number) => number,
): { mean: number; std: number } {
  const tr = term.transform;
  const values: number[] = [];
  for (const s of train) {
    const v = read?.(s.input);
    if (typeof v === "number") values.push(preTransform(tr, v));
  }
  const m = values.length > 0 ? mean(values) : 0;
  const variance = values.length > 0 ? mean(values.map((v) => (v - m) ** 2)) : 1;
  const std = Math.sqrt(variance);
  return { mean: round(m), std: std > 1e-9 ? round(std) : 1 };
}

function preTransform(tr: TermSpec["transform"], v: number): number {
  if (tr.type !== "standardize") return v;
  let x = tr.log1p ? Math.log1p(Math.max(v, 0)) : v;
  if (tr.clip) x = Math.min(Math.max(x, tr.clip[0]), tr.clip[1]);
  return x;
}

/** The design-matrix columns of one term for one value (the serving transform with weight 1). */
export function termColumns(
  term: TermSpec,
  value: number | string | null,
  stats: { mean: number; std: number } | undefined,
): number[] {
  const tr = term.transform;
  switch (tr.type) {
    case "standardize":
      return [typeof value === "number" && stats ? (preTransform(tr, value) - stats.mean) / stats.std : 0];
    case "onehot": {
      const cols = tr.categories.map((c) => (value !== null && String(value) === c ? 1 : 0));
      if (tr.missing) cols.push(value === null ? 1 : 0);
      return cols;
    }
    case "bins": {
      const cols = [...tr.edges, 0].map(() => 0);
      if (typeof value === "number") {
        let bin = 0;
        while (bin < tr.edges.length && value >= (tr.edges[bin] ?? Number.POSITIVE_INFINITY)) bin++;
        cols[bin] = 1;
      }
      if (tr.missing) cols.push(typeof value === "number" ? 0 : 1);
      return cols;
    }
  }
}

/**
 * Logistic regression by Newton's method (iteratively reweighted least squares) with an L2
 * penalty on every coefficient but the first (the intercept column of ones). `weights` weigh
 * each example's log-likelihood (default 1 each).
 */
export function fitLogistic(
  X: readonly (readonly number[])[],
  y: readonly number[],
  options: FitOptions = {},
  weights?: readonly number[],
): { coefficients: number[]; iterations: number } {
  const n = X.length;
  const p = X[0]?.length ?? 0;
  const l2 = (options.l2 ?? 1e-4) * n;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-8;
  const beta = new Array<number>(p).fill(0);
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    const gradient = new Array<number>(p).fill(0);
    const hessian = Array.from({ length: p }, () => new Array<number>(p).fill(0));
    for (let r = 0; r < n; r++) {
      const row = X[r] ?? [];
      let z = 0;
      for (let j = 0; j < p; j++) z += (beta[j] ?? 0) * (row[j] ?? 0);
      const mu = sigmoid(z);
      const sampleWeight = weights?.[r] ?? 1;
      const w = sampleWeight * mu * (1 - mu);
      const residual = sampleWeight * ((y[r] ?? 0) - mu);
      for (let j = 0; j < p; j++) {
        const xj = row[j] ?? 0;
        if (xj === 0) continue;
        gradient[j] = (gradient[j] ?? 0) + residual * xj;
        const hj = hessian[j] as number[];
        for (let k = 0; k <= j; k++) hj[k] = (hj[k] ?? 0) + w * xj * (row[k] ?? 0);
      }
    }
    for (let j = 0; j < p; j++) {
      const hj = hessian[j] as number[];
      for (let k = 0; k < j; k++) (hessian[k] as number[])[j] = hj[k] ?? 0;
      if (j > 0) {
        gradient[j] = (gradient[j] ?? 0) - l2 * (beta[j] ?? 0);
        hj[j] = (hj[j] ?? 0) + l2;
      }
    }
    const step = solve(hessian, gradient);
    let largest = 0;
    for (let j = 0; j < p; j++) {
      beta[j] = (beta[j] ?? 0) + (step[j] ?? 0);
      largest = Math.max(largest, Math.abs(step[j] ?? 0));
    }
    if (largest < tolerance) break;
  }
  return { coefficients: beta, iterations };
}

/** Solves A x = b by Gaussian elimination with partial pivoting (A is small and positive definite). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const m = A.map((row, i) => [...row, b[i] ?? 0]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs(m[r]?.[col] ?? 0) > Math.abs(m[pivot]?.[col] ?? 0)) pivot = r;
    [m[col], m[pivot]] = [m[pivot] as number[], m[col] as number[]];
    const top = m[col] as number[];
    const d = top[col] ?? 1;
    for (let r = col + 1; r < n; r++) {
      const row = m[r] as number[];
      const f = (row[col] ?? 0) / d;
      if (f === 0) continue;
      for (let k = col; k <= n; k++) row[k] = (row[k] ?? 0) - f * (top[k] ?? 0);
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    const row = m[r] as number[];
    let s = row[n] ?? 0;
    for (let k = r + 1; k < n; k++) s -= (row[k] ?? 0) * (x[k] ?? 0);
    x[r] = s / (row[r] ?? 1);
  }
  return x;
}

/** Mean log loss (natural log), with scores clamped away from 0 and 1. */
export function logLoss(scores: readonly number[], labels: readonly number[]): number {
  let sum = 0;
  scores.forEach((s, i) => {
    const p = Math.min(Math.max(s, 1e-15), 1 - 1e-15);
    sum += labels[i] === 1 ? -Math.log(p) : -Math.log(1 - p);
  });
  return sum / Math.max(1, scores.length);
}

/** Area under the ROC curve (ties count one half), by ranking. */
export function auc(scores: readonly number[], labels: readonly number[]): number {
  const order = scores.map((s, i) => ({ s, y: labels[i] ?? 0 })).sort((a, b) => a.s - b.s);
  let positives = 0;
  let negatives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]?.s === order[i]?.s) j++;
    const midRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (order[k]?.y === 1) {
        positives++;
        rankSum += midRank;
      } else negatives++;
    }
    i = j;
  }
  if (positives === 0 || negatives === 0) return 0.5;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

function weightedMean(values: readonly number[], weights: readonly number[]): number {
  let s = 0;
  let total = 0;
  values.forEach((v, i) => {
    s += v * (weights[i] ?? 1);
    total += weights[i] ?? 1;
  });
  return total > 0 ? s / total : 0;
}

function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return values.length > 0 ? s / values.length : 0;
}
