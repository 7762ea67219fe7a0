import * as z from "zod";

/**
 * A logistic-regression model as a versioned artifact. The artifact carries its own transforms
 * (standardization, one-hot, bins), so serving applies exactly what training fitted, and its
 * provenance, so anyone can tell where the weights came from.
 *
 * score = sigmoid(intercept + Σ term contributions), where each term's contribution is
 * weight × transformed input (for one-hot and bins, the weight of the active category or bin).
 */

/** Format tag of artifacts this code reads. */
export const MODEL_FORMAT = "vigil.logistic-regression/v1";

const TERM_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const REASON_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const FEATURE_ID = /^[a-z][a-z0-9_]{0,63}$/;

/** Event fields a term can read. */
export const MODEL_EVENT_FIELDS = ["type", "geo.country", "currency", "emailDomain", "amountMinor"] as const;
/** One of MODEL_EVENT_FIELDS. */
export type ModelEventField = (typeof MODEL_EVENT_FIELDS)[number];

/** Units for `ageIn`. */
export const AGE_UNITS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const finite = z.number().refine(Number.isFinite, "a finite number");

/** Where a term's input comes from. */
export const termInputSchema = z.union([
  z.strictObject({
    /** A feature value by id. */
    feature: z.string().regex(FEATURE_ID),
    /**
     * Read a first/last-seen feature (epoch ms) as the time since then, in this unit:
     * (event time − value) / unit.
     */
    ageIn: z.enum(["s", "m", "h", "d"]).optional(),
  }),
  z.strictObject({ event: z.enum(MODEL_EVENT_FIELDS) }),
]);

const standardize = z.strictObject({
  type: z.literal("standardize"),
  /** Applied first: ln(1 + max(x, 0)), for counts and amounts with long tails. */
  log1p: z.boolean().optional(),
  /** Applied after log1p: the value is clamped into [min, max]. */
  clip: z.tuple([finite, finite]).optional(),
  mean: finite,
  std: finite.refine((s) => s > 0, "std must be positive"),
  weight: finite,
  /** Transformed value when the input is absent; default 0 (the mean). */
  missing: finite.optional(),
});

const onehot = z.strictObject({
  type: z.literal("onehot"),
  /** Weight per category; other categories contribute 0. */
  weights: z.record(z.string().min(1).max(64), finite),
  /** Contribution when the input is absent; default 0. */
  missingWeight: finite.optional(),
});

const bins = z
  .strictObject({
    type: z.literal("bins"),
    /** Ascending edges e1 < … < ek: bin 0 is x < e1, bin i is e_i ≤ x < e_(i+1), bin k is x ≥ ek. */
    edges: z.array(finite).min(1).max(50),
    /** One weight per bin: edges.length + 1. */
    weights: z.array(finite),
    missingWeight: finite.optional(),
  })
  .refine((b) => b.weights.length === b.edges.length + 1, "bins need exactly edges.length + 1 weights")
  .refine(
    (b) => b.edges.every((e, i) => i === 0 || e > (b.edges[i - 1] ?? Number.NEGATIVE_INFINITY)),
    "edges must ascend",
  );

/** One term of the model. */
export const modelTermSchema = z.strictObject({
  name: z.string().regex(TERM_NAME, "a term name: lower snake case"),
  input: termInputSchema,
  transform: z.union([standardize, onehot, bins]),
  /** Reason code the term gives when it is among the largest positive contributions. */
  reason: z.string().regex(REASON_CODE, "an upper-case reason code"),
  description: z.string().max(500).optional(),
});

/** Where the weights came from: required, so no artifact is anonymous. */
export const provenanceSchema = z.strictObject({
  /** How the weights were obtained, in plain words (e.g. fit on simulated data; hand-set priors). */
  method: z.string().min(1).max(2_000),
  /** The data the model was fit on. */
  data: z.string().min(1).max(2_000),
  /** Script or notebook that produced the artifact, if any. */
  script: z.string().max(500).optional(),
  seed: z.int().optional(),
  /** Held-out metrics, by name (e.g. auc, logLoss). */
  metrics: z.record(z.string(), finite).optional(),
  /** Training parameters, by name (algorithm, folds, class weight, selected inputs...). */
  parameters: z.record(z.string(), z.union([z.string().max(2_000), finite, z.boolean()])).optional(),
  notes: z.string().max(2_000).optional(),
});

/** A model artifact. */
export const modelArtifactSchema = z.strictObject({
  format: z.literal(MODEL_FORMAT),
  id: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/),
  /** Unique per artifact: decisions record it. */
  version: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  description: z.string().max(1_000).optional(),
  createdAt: z.iso.datetime({ offset: true }),
  provenance: provenanceSchema,
  intercept: finite,
  terms: z
    .array(modelTermSchema)
    .max(200)
    .refine((t) => new Set(t.map((x) => x.name)).size === t.length, "term names must not repeat"),
});

/** Format tag of tree-ensemble artifacts (docs/training.md). */
export const TREE_ENSEMBLE_FORMAT = "vigil.tree-ensemble/v1";

/**
 * Node values are multiples of this (2^-30): sums and differences of them are exact in double
 * precision, so a tree ensemble's contributions add up to its score exactly, in any order.
 */
export const TREE_VALUE_QUANTUM = 2 ** -30;

/** One input of a tree ensemble and the columns it becomes. */
export const treeInputSchema = z.strictObject({
  name: z.string().regex(TERM_NAME, "an input name: lower snake case"),
  input: termInputSchema,
  reason: z.string().regex(REASON_CODE, "an upper-case reason code"),
  description: z.string().max(500).optional(),
  /**
   * `numeric`: one column, the raw value (`missing` when absent; ages as with `ageIn`);
   * `onehot`: one column per category, 1 for the event's category, else 0 (all 0 when absent).
   */
  encoding: z.union([
    z.strictObject({ type: z.literal("numeric"), missing: finite }),
    z.strictObject({
      type: z.literal("onehot"),
      categories: z.array(z.string().min(1).max(64)).min(1).max(100),
    }),
  ]),
});

const treeValue = finite.refine(
  (v) => Math.abs(v) <= 1 && Number.isInteger(v / TREE_VALUE_QUANTUM),
  "a node value in [-1, 1] that is a multiple of 2^-30",
);

/**
 * A tree node: a split (`column` < `threshold` goes `left`, else `right`; children are later in
 * the array) or a leaf. Every node has a `value`: a leaf's is its prediction; a split's is the
 * mean prediction of the training rows that reached it, which the path attribution needs.
 */
export const treeNodeSchema = z.union([
  z.strictObject({
    column: z.int().min(0),
    threshold: finite,
    left: z.int().min(1),
    right: z.int().min(1),
    value: treeValue,
  }),
  z.strictObject({ value: treeValue }),
]);

/** One tree: its nodes, the root first. */
export const treeSchema = z
  .strictObject({ nodes: z.array(treeNodeSchema).min(1).max(65_536) })
  .refine(
    (t) =>
      t.nodes.every(
        (n, i) =>
          !("column" in n) ||
          (n.left > i && n.right > i && n.left < t.nodes.length && n.right < t.nodes.length),
      ),
    "a split's children must come after it, inside the tree",
  );

/**
 * A tree ensemble (a random forest): score = mean of the trees' leaf values; contributions by
 * path attribution (Saabas): along each tree's path, the change of value at a split is credited
 * to the input owning the split's column; the mean of the root values is the bias. The number of
 * trees is a power of two and values are multiples of 2^-30, so bias + Σ contributions = score
 * exactly.
 */
export const treeEnsembleArtifactSchema = z
  .strictObject({
    format: z.literal(TREE_ENSEMBLE_FORMAT),
    id: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/),
    version: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    description: z.string().max(1_000).optional(),
    createdAt: z.iso.datetime({ offset: true }),
    provenance: provenanceSchema,
    inputs: z
      .array(treeInputSchema)
      .min(1)
      .max(200)
      .refine((t) => new Set(t.map((x) => x.name)).size === t.length, "input names must not repeat"),
    trees: z
      .array(treeSchema)
      .min(1)
      .max(1024)
      .refine((t) => Number.isInteger(Math.log2(t.length)), "the number of trees must be a power of two"),
  })
  .refine((a) => {
    const columns = a.inputs.reduce(
      (n, i) => n + (i.encoding.type === "numeric" ? 1 : i.encoding.categories.length),
      0,
    );
    return a.trees.every((t) => t.nodes.every((n) => !("column" in n) || n.column < columns));
  }, "a split names a column the inputs do not have");

/** Any model artifact the engine scores: a logistic regression or a tree ensemble. */
export const anyModelArtifactSchema = z.union([modelArtifactSchema, treeEnsembleArtifactSchema]);

/** The model document: the active (champion) model and an optional shadow (challenger). */
export const modelDocumentSchema = z.strictObject({
  active: anyModelArtifactSchema,
  /** Evaluated for every event and recorded in the decision; never changes the action. */
  shadow: anyModelArtifactSchema.optional(),
});

/** A logistic-regression model artifact. */
export type ModelArtifact = z.infer<typeof modelArtifactSchema>;
/** A tree-ensemble artifact. */
export type TreeEnsembleArtifact = z.infer<typeof treeEnsembleArtifactSchema>;
/** One input of a tree ensemble. */
export type TreeInput = z.infer<typeof treeInputSchema>;
/** Either kind of artifact. */
export type AnyModelArtifact = z.infer<typeof anyModelArtifactSchema>;
/** One term. */
export type ModelTerm = z.infer<typeof modelTermSchema>;
/** The model document. */
export type ModelDocument = z.infer<typeof modelDocumentSchema>;
