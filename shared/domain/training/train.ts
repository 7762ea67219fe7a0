import { DecisionTreeRegression } from "ml-cart";
import {
  type CompiledModel,
  compileAnyModel,
  type Reader,
  termReader,
} from "#shared/domain/decision/model/compile-model";
import {
  auc,
  fitLogistic,
  fitModelArtifact,
  type LabeledInput,
  type ModelSpec,
  standardization,
  type TermSpec,
  termColumns,
} from "#shared/domain/decision/model/fit-model";
import {
  type AnyModelArtifact,
  TREE_ENSEMBLE_FORMAT,
  TREE_VALUE_QUANTUM,
  type TreeEnsembleArtifact,
  type TreeInput,
} from "#shared/domain/decision/model/model-schema";
import { encodeInput, inputColumns } from "#shared/domain/decision/model/tree-ensemble";
import { Rng } from "#shared/domain/simulation/random";
import type { DatasetRow } from "#shared/domain/training/dataset";
import {
  AGE_EDGES_HOURS,
  type Candidate,
  candidateInputs,
  modelInputOfRow,
} from "#shared/domain/training/inputs";

/**
 * Training a model from a point-in-time training set (docs/training.md): a time-ordered split
 * (the latest rows are the holdout), cross-validation in contiguous time blocks of the rest,
 * class weighting for rare fraud, and feature engineering per algorithm:
 *
 * - `lr`: counts and amounts standardized after log1p (clipped at the 99th percentile), ages
 *   binned, categories one-hot; inputs chosen by forward selection on cross-validated AUC; the L2
 *   penalty chosen the same way; fitted by Newton's method (fit-model.ts), intercept shifted back
 *   for the class weight, so scores are probabilities at the training fraud rate (or `baseRate`);
 * - `tree-ensemble`: a random forest of CART regression trees grown by ml-cart on quantile-binned
 *   inputs (bootstrap rows and a random subset of columns per tree), depth chosen by
 *   cross-validation; inputs no tree splits on are dropped; exported as a tree-ensemble artifact
 *   whose thresholds are back in raw units and whose node values are quantized to 2^-30.
 *
 * Deterministic: the same rows and options give the same artifact.
 */

/** Training options. */
export interface TrainOptions {
  readonly algorithm: "lr" | "tree-ensemble";
  readonly id: string;
  readonly version: string;
  readonly createdAt: string;
  /** What the rows are (file, export parameters), for the artifact's provenance. */
  readonly data: string;
  /** Share of the latest rows held out. Default 0.2. */
  readonly holdoutShare?: number;
  /** Cross-validation blocks. Default 4. */
  readonly folds?: number;
  /** Weight of a fraud row; "balanced" (the default) is legit rows / fraud rows. */
  readonly positiveWeight?: number | "balanced";
  /** LR: production fraud rate to calibrate to (prior correction). Default: the training rate. */
  readonly baseRate?: number;
  readonly seed?: number;
  /**
   * Candidate inputs left out by name (`country`, `currency`, `amount`, `scenario`, or a feature's
   * term name): for inputs whose weights would learn how the data was made rather than fraud.
   */
  readonly excludeInputs?: readonly string[];
  /** Feature id → aggregation, from the data dictionary (ages are firstSeen/lastSeen). */
  readonly aggregations?: ReadonlyMap<string, string>;
  /** Trees: a power of two. Default 64. */
  readonly trees?: number;
  /** Trees: depths tried by cross-validation. Default [4, 8]. */
  readonly depths?: readonly number[];
  /** Trees: a node with at most this many rows becomes a leaf. Default 8. */
  readonly minLeaf?: number;
  /** Trees: share of columns each tree sees. Default 0.6. */
  readonly columnShare?: number;
}

/** A trained model, the rows it was trained and measured on, and how it was chosen. */
export interface TrainResult {
  readonly artifact: AnyModelArtifact;
  readonly train: readonly DatasetRow[];
  readonly holdout: readonly DatasetRow[];
  /** Inputs kept, in artifact order. */
  readonly selected: readonly string[];
  /** Cross-validated AUC of the chosen configuration. */
  readonly cvAuc: number;
  /** Trees only: the library's own predictions for rows (the mean of ml-cart's tree predictions). */
  readonly libraryPredict?: (rows: readonly DatasetRow[]) => number[];
}

/** Rows in time order, split: the first (1 − share) for training, the rest held out. */
export function timeOrderedSplit<T extends { readonly occurredAt: string }>(
  rows: readonly T[],
  share: number,
): { train: T[]; holdout: T[] } {
  const sorted = [...rows].sort((a, b) =>
    a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0,
  );
  const cut = Math.round(sorted.length * (1 - share));
  return { train: sorted.slice(0, cut), holdout: sorted.slice(cut) };
}

/** Contiguous blocks [start, end) of n rows. */
function blocks(n: number, folds: number): [number, number][] {
  return Array.from({ length: folds }, (_, k) => [
    Math.floor((k * n) / folds),
    Math.floor(((k + 1) * n) / folds),
  ]);
}

/** Trains a model on a training set's rows (any order; they are sorted by time). */
export function trainModel(
  rows: readonly DatasetRow[],
  featureIds: readonly string[],
  options: TrainOptions,
): TrainResult {
  const { train, holdout } = timeOrderedSplit(rows, options.holdoutShare ?? 0.2);
  const fraud = train.filter((r) => r.label === 1).length;
  if (fraud === 0 || fraud === train.length)
    throw new Error(
      `the training part needs fraud and legit rows (it has ${fraud} fraud of ${train.length})`,
    );
  const positiveWeight =
    options.positiveWeight === undefined || options.positiveWeight === "balanced"
      ? (train.length - fraud) / fraud
      : options.positiveWeight;
  const excluded = new Set(options.excludeInputs ?? []);
  const candidates = candidateInputs(train, featureIds, options.aggregations).filter(
    (c) => !excluded.has(c.name),
  );
  return options.algorithm === "lr"
    ? trainLogistic(train, holdout, candidates, positiveWeight, options)
    : trainForest(train, holdout, candidates, positiveWeight, options);
}

// --- Logistic regression ----------------------------------------------------------------------

function termSpec(c: Candidate, train: readonly LabeledInput[]): TermSpec {
  const base = { name: c.name, input: c.input, reason: c.reason };
  switch (c.kind) {
    case "category":
      return { ...base, transform: { type: "onehot", categories: c.categories ?? [] } };
    case "age":
      return { ...base, transform: { type: "bins", edges: AGE_EDGES_HOURS, missing: true } };
    default: {
      const read = termReader(c);
      const logs = train
        .map((s) => read(s.input))
        .filter((v): v is number => typeof v === "number")
        .map((v) => Math.log1p(Math.max(v, 0)))
        .sort((a, b) => a - b);
      const p99 = logs[Math.min(logs.length - 1, Math.floor(logs.length * 0.99))] ?? 0;
      return { ...base, transform: { type: "standardize", log1p: true, clip: [0, Math.max(p99, 1e-6)] } };
    }
  }
}

function trainLogistic(
  trainRows: readonly DatasetRow[],
  holdoutRows: readonly DatasetRow[],
  candidates: readonly Candidate[],
  positiveWeight: number,
  options: TrainOptions,
): TrainResult {
  const train: LabeledInput[] = trainRows.map((r) => ({ input: modelInputOfRow(r), label: r.label }));
  const holdout: LabeledInput[] = holdoutRows.map((r) => ({ input: modelInputOfRow(r), label: r.label }));
  const specs = candidates.map((c) => termSpec(c, train));
  // Each term's design columns for every training row, computed once.
  const columns = specs.map((spec) => {
    const read = termReader(spec) as Reader;
    const stats =
      spec.transform.type === "standardize" ? standardization(spec, read, train, (x) => x) : undefined;
    return train.map((s) => termColumns(spec, read(s.input), stats));
  });
  const y = train.map((s) => s.label);
  const weights = y.map((v) => (v === 1 ? positiveWeight : 1));
  const folds = blocks(train.length, options.folds ?? 4);
  const cvAuc = (terms: readonly number[], l2: number): number => {
    const X = train.map((_, r) => [1, ...terms.flatMap((t) => columns[t]?.[r] ?? [])]);
    const scores = new Array<number>(train.length);
    for (const [start, end] of folds) {
      const fitRows = X.flatMap((_, r) => (r < start || r >= end ? [r] : []));
      const { coefficients } = fitLogistic(
        fitRows.map((r) => X[r] as number[]),
        fitRows.map((r) => y[r] as number),
        { l2, maxIterations: 25, tolerance: 1e-6 },
        fitRows.map((r) => weights[r] as number),
      );
      for (let r = start; r < end; r++)
        scores[r] = (X[r] as number[]).reduce((z, x, j) => z + x * (coefficients[j] ?? 0), 0);
    }
    return auc(scores, y);
  };
  // Forward selection: the scenario first, then candidates in order of their own cross-validated
  // AUC, each kept only if it raises the cross-validated AUC by at least 0.001.
  const scenario = candidates.findIndex((c) => c.name === "scenario");
  let selected = scenario >= 0 ? [scenario] : [];
  const ranked = candidates
    .map((_, i) => i)
    .filter((i) => i !== scenario)
    .map((i) => ({ i, auc: cvAuc([...selected, i], 1e-3) }))
    .sort((a, b) => b.auc - a.auc || a.i - b.i);
  let best = selected.length > 0 ? cvAuc(selected, 1e-3) : 0.5;
  for (const { i } of ranked) {
    const score = cvAuc([...selected, i], 1e-3);
    if (score >= best + 0.001) {
      selected = [...selected, i];
      best = score;
    }
  }
  let l2 = 1e-3;
  for (const candidate of [1e-4, 1e-2]) {
    const score = cvAuc(selected, candidate);
    if (score > best) {
      best = score;
      l2 = candidate;
    }
  }
  selected.sort((a, b) => a - b);
  const spec: ModelSpec = {
    id: options.id,
    version: options.version,
    createdAt: options.createdAt,
    description: `Logistic regression trained by vigil model train on ${trainRows.length} rows.`,
    provenance: {
      method:
        "Logistic regression by Newton's method with an L2 penalty; inputs by forward selection on cross-validated AUC (contiguous time blocks); fraud rows weighted, intercept shifted back (prior correction).",
      data: options.data,
      script: "vigil model train --algorithm lr",
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    },
    terms: selected.map((i) => specs[i] as TermSpec),
  };
  const artifact = fitModelArtifact(spec, train, holdout, {
    l2,
    positiveWeight,
    ...(options.baseRate === undefined ? {} : { baseRate: options.baseRate }),
  });
  const parameters = {
    algorithm: "lr",
    holdoutShare: options.holdoutShare ?? 0.2,
    folds: folds.length,
    positiveWeight: round(positiveWeight),
    l2,
    cvAuc: round(best),
    selected: spec.terms.map((t) => t.name).join(","),
    candidates: candidates.length,
  };
  const withMetrics = finish(
    { ...artifact, provenance: { ...artifact.provenance, parameters } },
    holdoutRows,
  );
  return {
    artifact: withMetrics,
    train: trainRows,
    holdout: holdoutRows,
    selected: spec.terms.map((t) => t.name),
    cvAuc: best,
  };
}

// --- Tree ensemble ------------------------------------------------------------------------------

interface BinnedColumns {
  /** Per column: ascending distinct edges; bin(x) = number of edges ≤ x. */
  readonly edges: readonly (readonly number[])[];
}

const MAX_BINS = 16;

function binEdges(values: readonly number[]): number[] {
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  if (distinct.length <= MAX_BINS) return distinct;
  const edges = new Set<number>();
  for (let k = 1; k < MAX_BINS; k++)
    edges.add(distinct[Math.floor((k * distinct.length) / MAX_BINS)] as number);
  return [...edges].sort((a, b) => a - b);
}

function bin(x: number, edges: readonly number[]): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((edges[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const quantize = (v: number) => Math.round(v / TREE_VALUE_QUANTUM) * TREE_VALUE_QUANTUM;

/** One grown tree: ml-cart's tree, the global columns it saw, and its bootstrap rows. */
interface GrownTree {
  readonly tree: DecisionTreeRegression;
  readonly columns: readonly number[];
  readonly rows: readonly number[];
}

function treeInputOf(c: Candidate): TreeInput {
  const base = { name: c.name, input: c.input, reason: c.reason };
  return c.kind === "category"
    ? { ...base, encoding: { type: "onehot", categories: [...(c.categories ?? [])] } }
    : { ...base, encoding: { type: "numeric", missing: -1 } };
}

function rawMatrix(rows: readonly DatasetRow[], inputs: readonly TreeInput[]): number[][] {
  const readers = inputs.map((i) => termReader(i) as Reader);
  const width = inputs.reduce((n, i) => n + inputColumns(i), 0);
  return rows.map((row) => {
    const input = modelInputOfRow(row);
    const out = new Array<number>(width).fill(0);
    let at = 0;
    inputs.forEach((inp, k) => {
      encodeInput(inp, (readers[k] as Reader)(input), out, at);
      at += inputColumns(inp);
    });
    return out;
  });
}

function growForest(
  binned: readonly (readonly number[])[],
  y: readonly number[],
  options: {
    trees: number;
    depth: number;
    minLeaf: number;
    columnShare: number;
    positiveWeight: number;
    seed: number;
  },
): GrownTree[] {
  const width = binned[0]?.length ?? 0;
  // Class weight by replication: a fraud row is drawn as often as `positiveWeight` rows.
  const copies = Math.max(1, Math.round(options.positiveWeight));
  const pool = y.flatMap((label, r) => (label === 1 ? Array<number>(copies).fill(r) : [r]));
  const grown: GrownTree[] = [];
  for (let t = 0; t < options.trees; t++) {
    const rng = Rng.derive(options.seed, `tree/${t}`);
    const rows = Array.from({ length: y.length }, () => pool[rng.int(0, pool.length - 1)] as number);
    // Fraud rows last: among equal values ml-cart then sees one label change, not one per row.
    rows.sort((a, b) => (y[a] as number) - (y[b] as number) || a - b);
    let columns = Array.from({ length: width }, (_, c) => c).filter(() => rng.chance(options.columnShare));
    if (columns.length === 0) columns = [rng.int(0, width - 1)];
    const tree = new DecisionTreeRegression({ maxDepth: options.depth, minNumSamples: options.minLeaf });
    tree.train(
      rows.map((r) => columns.map((c) => (binned[r] as readonly number[])[c] as number)),
      rows.map((r) => y[r] as number),
    );
    grown.push({ tree, columns, rows });
  }
  return grown;
}

function predictForest(grown: readonly GrownTree[], binned: readonly (readonly number[])[]): number[] {
  const sums = new Array<number>(binned.length).fill(0);
  for (const g of grown) {
    const p = g.tree.predict(binned.map((row) => g.columns.map((c) => row[c] as number)));
    p.forEach((v, i) => {
      sums[i] = (sums[i] as number) + v;
    });
  }
  return sums.map((s) => s / grown.length);
}

function trainForest(
  trainRows: readonly DatasetRow[],
  holdoutRows: readonly DatasetRow[],
  candidates: readonly Candidate[],
  positiveWeight: number,
  options: TrainOptions,
): TrainResult {
  const trees = options.trees ?? 64;
  if (!Number.isInteger(Math.log2(trees)) || trees < 1 || trees > 1024)
    throw new Error("--trees must be a power of two between 1 and 1024");
  const seed = options.seed ?? 1;
  const minLeaf = options.minLeaf ?? 8;
  const columnShare = options.columnShare ?? 0.6;
  const allInputs = candidates.map(treeInputOf);
  const raw = rawMatrix(trainRows, allInputs);
  const width = raw[0]?.length ?? 0;
  const columns: BinnedColumns = {
    edges: Array.from({ length: width }, (_, c) => binEdges(raw.map((r) => r[c] as number))),
  };
  const binRows = (m: readonly (readonly number[])[]) =>
    m.map((r) => r.map((x, c) => bin(x, columns.edges[c] ?? [])));
  const binned = binRows(raw);
  const y = trainRows.map((r) => r.label as number);
  // Depth by cross-validation on contiguous time blocks, with a quarter of the trees.
  const folds = blocks(trainRows.length, options.folds ?? 4);
  let depth = options.depths?.[0] ?? 4;
  let best = -1;
  for (const d of options.depths ?? [4, 8]) {
    const scores = new Array<number>(trainRows.length).fill(0);
    for (const [start, end] of folds) {
      const fitIdx = binned.flatMap((_, r) => (r < start || r >= end ? [r] : []));
      const grown = growForest(
        fitIdx.map((r) => binned[r] as number[]),
        fitIdx.map((r) => y[r] as number),
        { trees: Math.max(4, trees / 4), depth: d, minLeaf, columnShare, positiveWeight, seed },
      );
      predictForest(grown, binned.slice(start, end)).forEach((p, k) => {
        scores[start + k] = p;
      });
    }
    const score = auc(scores, y);
    if (score > best) {
      best = score;
      depth = d;
    }
  }
  const grown = growForest(binned, y, { trees, depth, minLeaf, columnShare, positiveWeight, seed });

  // Export: used columns only (inputs no tree splits on are dropped), thresholds in raw units.
  interface RawNode {
    column?: number;
    threshold?: number;
    left?: number;
    right?: number;
    sum: number;
    count: number;
    leaf?: number;
  }
  const exported = grown.map((g) => {
    const nodes: RawNode[] = [];
    const walk = (node: import("ml-cart").CartNode): number => {
      const index = nodes.length;
      const out: RawNode = { sum: 0, count: 0 };
      nodes.push(out);
      if (node.left && node.right && node.splitColumn !== undefined && node.splitValue !== undefined) {
        const column = g.columns[node.splitColumn] as number;
        const edges = columns.edges[column] ?? [];
        out.column = column;
        out.threshold = edges[Math.ceil(node.splitValue) - 1] as number;
        out.left = walk(node.left);
        out.right = walk(node.right);
      } else {
        out.leaf = quantize(node.distribution ?? 0);
      }
      return index;
    };
    walk(g.tree.root);
    // Split values: mean leaf value of the tree's own bootstrap rows that reached the split.
    for (const r of g.rows) {
      let i = 0;
      const path: number[] = [];
      for (;;) {
        path.push(i);
        const n = nodes[i] as RawNode;
        if (n.leaf !== undefined) break;
        i =
          ((raw[r] as number[])[n.column as number] as number) < (n.threshold as number)
            ? (n.left as number)
            : (n.right as number);
      }
      const leaf = (nodes[i] as RawNode).leaf as number;
      for (const p of path) {
        (nodes[p] as RawNode).sum += leaf;
        (nodes[p] as RawNode).count++;
      }
    }
    const value = (i: number): number => {
      const n = nodes[i] as RawNode;
      if (n.leaf !== undefined) return n.leaf;
      return n.count > 0
        ? quantize(n.sum / n.count)
        : quantize((value(n.left as number) + value(n.right as number)) / 2);
    };
    return nodes.map((n, i) => ({ ...n, value: value(i) }));
  });
  const used = new Set(
    exported.flatMap((nodes) => nodes.flatMap((n) => (n.column === undefined ? [] : [n.column]))),
  );
  const keptInputs: TreeInput[] = [];
  const remap = new Map<number, number>();
  let at = 0;
  let next = 0;
  for (const input of allInputs) {
    const w = inputColumns(input);
    const own = Array.from({ length: w }, (_, k) => at + k);
    if (own.some((c) => used.has(c))) {
      keptInputs.push(input);
      for (const c of own) remap.set(c, next++);
    }
    at += w;
  }
  const artifact: TreeEnsembleArtifact = {
    format: TREE_ENSEMBLE_FORMAT,
    id: options.id,
    version: options.version,
    description: `Random forest of ${trees} CART regression trees (ml-cart) trained by vigil model train on ${trainRows.length} rows.`,
    createdAt: options.createdAt,
    provenance: {
      method:
        "Random forest: bootstrap rows (fraud rows weighted by replication) and a random column subset per tree, CART regression trees grown by ml-cart on quantile-binned inputs, depth by cross-validated AUC (contiguous time blocks); path attribution (Saabas) for contributions.",
      data: options.data,
      script: "vigil model train --algorithm tree-ensemble",
      seed,
      parameters: {
        algorithm: "tree-ensemble",
        trees,
        depth,
        minLeaf,
        columnShare,
        holdoutShare: options.holdoutShare ?? 0.2,
        folds: folds.length,
        positiveWeight: round(positiveWeight),
        cvAuc: round(best),
        selected: keptInputs.map((i) => i.name).join(","),
        candidates: candidates.length,
      },
    },
    inputs: keptInputs,
    trees: exported.map((nodes) => ({
      nodes: nodes.map((n) =>
        n.column === undefined
          ? { value: n.value }
          : {
              column: remap.get(n.column) as number,
              threshold: n.threshold as number,
              left: n.left as number,
              right: n.right as number,
              value: n.value,
            },
      ),
    })),
  };
  const libraryPredict = (rows: readonly DatasetRow[]) =>
    predictForest(grown, binRows(rawMatrix(rows, allInputs)));
  return {
    artifact: finish(artifact, holdoutRows),
    train: trainRows,
    holdout: holdoutRows,
    selected: keptInputs.map((i) => i.name),
    cvAuc: best,
    libraryPredict,
  };
}

// --- Both ---------------------------------------------------------------------------------------

function round(x: number): number {
  return Number(x.toPrecision(6));
}

/** Holdout metrics measured with the finished artifact, recorded in its provenance. */
function finish<A extends AnyModelArtifact>(artifact: A, holdout: readonly DatasetRow[]): A {
  const model: CompiledModel = compileAnyModel(artifact);
  const scores = holdout.map((r) => model.score(modelInputOfRow(r)).score);
  const labels = holdout.map((r) => r.label as number);
  const flagged = scores.map((s) => s >= 0.5);
  const fraud = labels.filter((l) => l === 1).length;
  const tp = flagged.filter((f, i) => f && labels[i] === 1).length;
  const fp = flagged.filter((f, i) => f && labels[i] === 0).length;
  const metrics: Record<string, number> = {
    ...(artifact.provenance.metrics ?? {}),
    holdoutExamples: holdout.length,
    holdoutFraudRate: round(fraud / Math.max(1, holdout.length)),
    holdoutAuc: round(auc(scores, labels)),
    holdoutRecallAt05: round(fraud > 0 ? tp / fraud : 0),
    holdoutFprAt05: round(holdout.length - fraud > 0 ? fp / (holdout.length - fraud) : 0),
  };
  return { ...artifact, provenance: { ...artifact.provenance, metrics } };
}
