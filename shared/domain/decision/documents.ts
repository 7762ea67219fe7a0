import { DecisionEngine, type EngineOptions, type EngineParts } from "#shared/domain/decision/engine";
import { ConfigValidationError } from "#shared/domain/decision/issues";
import { ListIndex } from "#shared/domain/decision/lists/list-index";
import { validateListsDocument } from "#shared/domain/decision/lists/validate-lists";
import { compileModelDocument } from "#shared/domain/decision/model/compile-model";
import type { RuleCompileOptions } from "#shared/domain/decision/rules/compile-rule";
import { type CompiledRuleset, compileRuleset } from "#shared/domain/decision/rules/compile-ruleset";
import { featureConditions } from "#shared/domain/decision/rules/feature-condition";
import { rulesDocumentSchema } from "#shared/domain/decision/rules/rule-schema";
import { stampRules } from "#shared/domain/decision/rules/stamp-rules";
import { type CompiledRates, compileRates, RatesDocumentError } from "#shared/domain/enrichment/rates";
import {
  type CompiledFeatureSet,
  compileFeatureSet,
  FeatureDefinitionError,
} from "#shared/domain/features/index";

/**
 * The configuration documents the decision engine reads from the config table, and the factory
 * that turns stored versions into an engine, compiling each document once per version.
 */

/**
 * Document kinds in the config table: the rules (with the policy), the lists, the models, the
 * feature definitions the score function computes, and the exchange rates converted features
 * read (docs/features.md).
 */
export const DECISION_KINDS = ["rules", "lists", "model", "features", "rates"] as const;
/** One of DECISION_KINDS. */
export type DecisionKind = (typeof DECISION_KINDS)[number];
/** The kinds a fresh deployment is seeded with (rates have no shipped default: they are the operator's). */
export type SeededKind = Exclude<DecisionKind, "rates">;

/** A document as stored: its config-table version and its content. */
export interface VersionedDocument {
  readonly version: number;
  readonly document: unknown;
}

/** The stored documents an engine is built from; a missing kind means "not configured". */
export type DecisionDocuments = Readonly<Partial<Record<DecisionKind, VersionedDocument>>>;

/** Validates a document of a kind as `apply` must before writing; throws ConfigValidationError. */
export function validateDecisionDocument(
  kind: DecisionKind,
  document: unknown,
  options: RuleCompileOptions = {},
): void {
  switch (kind) {
    case "rules":
      compileRuleset(document, options);
      return;
    case "lists":
      validateListsDocument(document);
      return;
    case "model":
      compileModelDocument(document, options);
      return;
    case "features":
      compileFeatureDocument(document);
      return;
    case "rates":
      compileRatesDocument(document);
      return;
  }
}

/** Compiles an exchange-rate table (`rates` kind); throws ConfigValidationError with every problem. */
export function compileRatesDocument(document: unknown, version?: number): CompiledRates {
  try {
    return compileRates(document, version);
  } catch (error) {
    if (!(error instanceof RatesDocumentError)) throw error;
    throw new ConfigValidationError("rates", error.issues);
  }
}

/**
 * Compiles a feature set as the score function runs it: CEL filter conditions included.
 * Throws ConfigValidationError with every problem, each with its path and feature id.
 */
export function compileFeatureDocument(document: unknown): CompiledFeatureSet {
  try {
    return compileFeatureSet(document, { conditions: featureConditions });
  } catch (error) {
    if (!(error instanceof FeatureDefinitionError)) throw error;
    throw new ConfigValidationError(
      "features",
      error.issues.map((i) => ({
        path: i.path,
        message: i.message,
        ...(i.featureId === undefined ? {} : { featureId: i.featureId }),
      })),
    );
  }
}

/**
 * What `apply` stores for a kind: the document validated and compiled (so nothing invalid is
 * ever written), and for rules stamped with lifecycle metadata against the previous version.
 * Throws ConfigValidationError.
 */
export function prepareDocument(
  kind: DecisionKind,
  previous: unknown,
  next: unknown,
  stamp: { readonly author: string; readonly now: string },
  options: RuleCompileOptions = {},
): unknown {
  validateDecisionDocument(kind, next, options);
  if (kind !== "rules") return next;
  const before = previous === undefined ? undefined : rulesDocumentSchema.safeParse(previous);
  return stampRules(before?.success ? before.data : undefined, rulesDocumentSchema.parse(next), stamp);
}

/** A document kind that failed to compile, with the version that failed. */
export class DecisionConfigError extends Error {
  override readonly name = "DecisionConfigError";
  constructor(
    readonly kind: DecisionKind,
    readonly version: number,
    override readonly cause: unknown,
  ) {
    super(`${kind} version ${version} is invalid: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/**
 * Builds engines from stored documents, compiling each kind once per version: a refresh that
 * changes only the lists reuses the compiled rules and model. Keeps the last two versions of each
 * kind, enough for a flip back and forth without recompiling.
 */
export class DecisionEngineFactory {
  private readonly rulesets = new VersionCache<CompiledRuleset>();
  private readonly listIndexes = new VersionCache<ListIndex>();
  private readonly models = new VersionCache<ReturnType<typeof compileModelDocument>>();
  private readonly featureSets = new VersionCache<CompiledFeatureSet>();
  private readonly rateTables = new VersionCache<CompiledRates>();

  constructor(private readonly options: { readonly engine?: EngineOptions } = {}) {}

  /** The compiled rules of a stored version (cached by version); throws DecisionConfigError. */
  rules(doc: VersionedDocument): NonNullable<EngineParts["rules"]> {
    const ruleset = this.rulesets.get(doc.version, () =>
      wrap("rules", doc.version, () => compileRuleset(doc.document)),
    );
    return { version: doc.version, ruleset };
  }

  /** The list index of a stored version (cached by version); throws DecisionConfigError. */
  lists(doc: VersionedDocument): NonNullable<EngineParts["lists"]> {
    const index = this.listIndexes.get(doc.version, () =>
      wrap("lists", doc.version, () => new ListIndex(validateListsDocument(doc.document))),
    );
    return { version: doc.version, index };
  }

  /** The compiled models of a stored version (cached by version); throws DecisionConfigError. */
  model(doc: VersionedDocument): NonNullable<EngineParts["model"]> {
    const compiled = this.models.get(doc.version, () =>
      wrap("model", doc.version, () => compileModelDocument(doc.document)),
    );
    return { active: compiled.active, ...(compiled.shadow ? { shadow: compiled.shadow } : {}) };
  }

  /** The compiled feature set of a stored version (cached by version); throws DecisionConfigError. */
  features(doc: VersionedDocument): CompiledFeatureSet {
    return this.featureSets.get(doc.version, () =>
      wrap("features", doc.version, () => compileFeatureDocument(doc.document)),
    );
  }

  /** The compiled exchange rates of a stored version (cached by version); throws DecisionConfigError. */
  rates(doc: VersionedDocument): CompiledRates {
    return this.rateTables.get(doc.version, () =>
      wrap("rates", doc.version, () => compileRatesDocument(doc.document, doc.version)),
    );
  }

  /** An engine from compiled parts (cheap: no compilation happens here). */
  engine(parts: EngineParts): DecisionEngine {
    return new DecisionEngine(parts, this.options.engine);
  }

  /** An engine for these documents; throws DecisionConfigError naming the first invalid kind. */
  build(documents: DecisionDocuments): DecisionEngine {
    return this.engine({
      ...(documents.rules ? { rules: this.rules(documents.rules) } : {}),
      ...(documents.lists ? { lists: this.lists(documents.lists) } : {}),
      ...(documents.model ? { model: this.model(documents.model) } : {}),
    });
  }
}

function wrap<T>(kind: DecisionKind, version: number, compile: () => T): T {
  try {
    return compile();
  } catch (error) {
    if (error instanceof ConfigValidationError) throw new DecisionConfigError(kind, version, error);
    throw error;
  }
}

/** The compiled form of the last few versions of one kind. */
class VersionCache<T> {
  private readonly entries = new Map<number, T>();

  get(version: number, compile: () => T): T {
    const hit = this.entries.get(version);
    if (hit !== undefined) return hit;
    const value = compile();
    this.entries.set(version, value);
    if (this.entries.size > 2) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return value;
  }
}
