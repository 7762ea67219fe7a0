import { ConfigValidationError } from "#shared/domain/decision/issues";
import {
  type CompiledModel,
  type Contribution,
  inputName,
  type ModelInput,
  type Reader,
  termReader,
} from "#shared/domain/decision/model/compile-model";
import type { TreeEnsembleArtifact, TreeInput } from "#shared/domain/decision/model/model-schema";

/**
 * Scoring a tree ensemble with exact per-input contributions (docs/training.md, "Tree
 * ensembles"). Score = mean over trees of the leaf reached. Contributions by path attribution
 * (Saabas): walking a tree from the root, each split's change of value (child − split) is
 * credited to the input owning the split's column; the root values' mean is the bias. So for
 * every event, bias + Σ contributions = score, and because node values are multiples of 2^-30
 * and the number of trees is a power of two, every sum involved is exact in double precision:
 * the equality holds bit for bit, in any order of summation.
 */

/** Flat tree arrays for the hot path: one typed array per node field. */
interface FlatTree {
  readonly column: Int32Array; // -1 for a leaf
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly value: Float64Array;
}

/** How many columns an input becomes. */
export function inputColumns(input: TreeInput): number {
  return input.encoding.type === "numeric" ? 1 : input.encoding.categories.length;
}

/** Writes an input's columns for one raw value into `row` at `offset`. */
export function encodeInput(
  input: TreeInput,
  value: number | string | null,
  row: Float64Array | number[],
  offset: number,
): void {
  const e = input.encoding;
  if (e.type === "numeric") {
    row[offset] = typeof value === "number" ? value : e.missing;
    return;
  }
  const text = value === null ? undefined : String(value);
  for (let i = 0; i < e.categories.length; i++) row[offset + i] = e.categories[i] === text ? 1 : 0;
}

/**
 * Compiles a tree-ensemble artifact (validated by the schema) into a model the engine scores.
 * Unknown feature ids are refused when `knownFeatures` is given.
 */
export function compileTreeEnsemble(
  artifact: TreeEnsembleArtifact,
  options: { readonly knownFeatures?: ReadonlySet<string>; readonly path?: string } = {},
): CompiledModel {
  const path = options.path ?? "model";
  const issues = artifact.inputs.flatMap((input, i) =>
    "feature" in input.input && options.knownFeatures && !options.knownFeatures.has(input.input.feature)
      ? [{ path: `${path}.inputs[${i}].input.feature`, message: `unknown feature '${input.input.feature}'` }]
      : [],
  );
  if (issues.length > 0) throw new ConfigValidationError("model", issues);
  const inputs = artifact.inputs.map((input) => ({
    input,
    name: inputName(input),
    read: termReader(input) as Reader,
    width: inputColumns(input),
  }));
  const columnCount = inputs.reduce((n, i) => n + i.width, 0);
  /** Column → index of the input that owns it. */
  const owner = new Int32Array(columnCount);
  let offset = 0;
  inputs.forEach((input, i) => {
    owner.fill(i, offset, offset + input.width);
    offset += input.width;
  });
  const trees: FlatTree[] = artifact.trees.map((t) => {
    const n = t.nodes.length;
    const flat: FlatTree = {
      column: new Int32Array(n).fill(-1),
      threshold: new Float64Array(n),
      left: new Int32Array(n),
      right: new Int32Array(n),
      value: new Float64Array(n),
    };
    t.nodes.forEach((node, i) => {
      flat.value[i] = node.value;
      if ("column" in node) {
        flat.column[i] = node.column;
        flat.threshold[i] = node.threshold;
        flat.left[i] = node.left;
        flat.right[i] = node.right;
      }
    });
    return flat;
  });
  const treeCount = trees.length;
  const features = [
    ...new Set(artifact.inputs.flatMap((i) => ("feature" in i.input ? [i.input.feature] : []))),
  ];
  return {
    id: artifact.id,
    version: artifact.version,
    artifact,
    features,
    score(modelInput: ModelInput) {
      const raw: (number | string | null)[] = new Array(inputs.length);
      const row = new Float64Array(columnCount);
      let at = 0;
      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i] as (typeof inputs)[number];
        const value = input.read(modelInput);
        raw[i] = value;
        encodeInput(input.input, value, row, at);
        at += input.width;
      }
      const credit = new Float64Array(inputs.length);
      let rootSum = 0;
      let leafSum = 0;
      for (const tree of trees) {
        let node = 0;
        rootSum += tree.value[0] as number;
        for (;;) {
          const column = tree.column[node] as number;
          if (column < 0) break;
          const next =
            (row[column] as number) < (tree.threshold[node] as number)
              ? (tree.left[node] as number)
              : (tree.right[node] as number);
          const credited = owner[column] as number;
          credit[credited] =
            (credit[credited] as number) + (tree.value[next] as number) - (tree.value[node] as number);
          node = next;
        }
        leafSum += tree.value[node] as number;
      }
      const score = leafSum / treeCount;
      const contributions: Contribution[] = inputs.map((input, i) => {
        const contribution = (credit[i] as number) / treeCount;
        return {
          term: input.input.name,
          input: input.name,
          value: raw[i] ?? null,
          transformed: 1,
          weight: contribution,
          contribution,
          reason: input.input.reason,
        };
      });
      const p = Math.min(Math.max(score, 2 ** -40), 1 - 2 ** -40);
      return { score, logit: Math.log(p / (1 - p)), contributions, bias: rootSum / treeCount };
    },
  };
}

/**
 * The bias of a tree-ensemble score (the mean of the root values): score = bias + Σ
 * contributions. Logistic regressions have none (their intercept is in the logit).
 */
export function scoreBias(score: { readonly bias?: number }): number {
  return score.bias ?? 0;
}
