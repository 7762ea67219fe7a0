import {
  addListEntry,
  type ConfigIssue,
  ConfigValidationError,
  compileFeatureDocument,
  compileModelDocument,
  compileRuleset,
  type DecisionKind,
  EMPTY_LISTS,
  type ListEdit,
  type ListEntryInput,
  type ListKind,
  type ListsDocument,
  prepareDocument,
  type RuleMode,
  type RulesDocument,
  removeListEntry,
  rulesDocumentSchema,
  validateDecisionDocument,
  validateListsDocument,
} from "#shared/domain/decision/index";
import { DEFAULT_FEATURE_SET, type FeatureSetDefinition } from "#shared/domain/features/index";
import {
  type ApplyRequest,
  ConfigConflictError,
  ConfigDependencyConflictError,
  type ConfigStore,
  type ConfigVersionInfo,
} from "#shared/ports/config-store";

/**
 * The operator's configuration changes, on any ConfigStore: what `vigil rules` and `vigil lists`
 * do, kept apart from argument parsing so that tests run the very same code on DynamoDB Local.
 * Every change validates and compiles the new document before writing and writes with the
 * version it was made on, so a concurrent change is never overwritten.
 */

/** Who changes what, and when. */
export interface ChangeOptions {
  readonly author: string;
  /** ISO-8601 time to record. */
  readonly now: string;
  readonly comment?: string;
  /** The version the change is made on; default: the head read now. */
  readonly expectedVersion?: number;
}

/** Options of rule changes. */
export interface RuleChangeOptions extends ChangeOptions {
  /** Feature ids rules and models may read; default: the stored feature set, else the default one. */
  readonly knownFeatures?: ReadonlySet<string>;
  /**
   * False accepts any feature id (for rules staged ahead of a feature, guarded with has());
   * default true.
   */
  readonly checkFeatures?: boolean;
}

/** A requested change that is not possible (unknown rule, version, list entry). */
export class ConfigOperationError extends Error {
  override readonly name = "ConfigOperationError";
}

/**
 * Feature ids rules and models may reference: those of the `features` document in force (or of
 * `version`) when there is one, else those of the default feature set (what the score function
 * then computes).
 */
export async function knownFeatureIds(store: ConfigStore, version?: number): Promise<Set<string>> {
  const current = await featuresInForce(store, version);
  return new Set(current.document.features.map((f) => f.id));
}

/**
 * The feature set of a version (default: the one in force). Version 0 is the built-in default
 * feature set, which is in force while none has been applied.
 */
export async function featuresInForce(
  store: ConfigStore,
  version?: number,
): Promise<{ version: number; document: FeatureSetDefinition }> {
  const v = version ?? (await store.head("features"))?.version ?? 0;
  if (v === 0) return { version: 0, document: DEFAULT_FEATURE_SET };
  const stored = await store.get("features", v);
  if (!stored) throw new ConfigOperationError(`features has no version ${v}`);
  return { version: v, document: compileFeatureDocument(stored.document).definitions };
}

/**
 * Refuses a feature set that drops features the rules or the model read: features of the set in
 * force (`versions.features`) missing from the new one and read by the rules or model versions
 * given (`versions.rules`, `versions.model`; default: the heads read now). Those rules would fail
 * or miss on every event, and model terms read null, from the next reload on. Change the rules or
 * the model first, then the features. Ids the readers read that the set in force lacks too (rules
 * staged with --allow-unknown-features) are not drops, unless the set in force no longer compiles
 * (then every read id the new set lacks is). Throws ConfigValidationError naming each reader.
 */
export async function checkFeatureReaders(
  store: ConfigStore,
  document: unknown,
  versions: Partial<Readonly<Record<DecisionKind, number>>> = {},
): Promise<void> {
  const next = new Set(compileFeatureDocument(document).features.map((f) => f.id));
  let before: Set<string> | undefined;
  try {
    before = await knownFeatureIds(store, versions.features);
  } catch (error) {
    // The set in force no longer compiles (the score function keeps an earlier one): which
    // features it computes is unknown, so every read feature the new set lacks counts as dropped.
    if (!(error instanceof ConfigValidationError)) throw error;
  }
  const isDropped = (id: string) => !next.has(id) && (before === undefined || before.has(id));
  if (before !== undefined && ![...before].some((id) => !next.has(id))) return;
  const issues: ConfigIssue[] = [];
  const readers: [kind: "rules" | "model", reads: (doc: unknown) => Map<string, string[]>][] = [
    ["rules", rulesReading],
    ["model", modelReading],
  ];
  for (const [kind, reads] of readers) {
    const current = await documentAt(store, kind, versions[kind]);
    if (current.version === 0) continue;
    let read: Map<string, string[]>;
    try {
      read = reads(current.document);
    } catch (error) {
      // A stored version that no longer compiles is refused by the score function: it reads nothing.
      if (error instanceof ConfigValidationError) continue;
      throw error;
    }
    for (const [id, where] of read) {
      if (!isDropped(id)) continue;
      for (const w of where) {
        issues.push({
          path: "features",
          message: `${kind} version ${current.version} (${w}) reads feature '${id}', which this set drops; change the ${kind} first or keep the feature`,
        });
      }
    }
  }
  if (issues.length > 0) throw new ConfigValidationError("features", issues);
}

/** Feature id → the rules (`rule <id>`) of a stored rules document that read it, disabled ones too. */
function rulesReading(document: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of compileRuleset(document).allRules) {
    for (const id of r.analysis.features) out.set(id, [...(out.get(id) ?? []), `rule ${r.rule.id}`]);
  }
  return out;
}

/** Feature id → the models (`active`, `shadow`) of a stored model document that read it. */
function modelReading(document: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const compiled = compileModelDocument(document);
  const models = [["active model", compiled.active] as const, ["shadow model", compiled.shadow] as const];
  for (const [where, model] of models) {
    for (const id of model?.features ?? []) out.set(id, [...(out.get(id) ?? []), where]);
  }
  return out;
}

/** A kind's document at a version, or the head's when no version is given (0: none applied). */
async function documentAt(
  store: ConfigStore,
  kind: DecisionKind,
  version: number | undefined,
): Promise<{ version: number; document: unknown }> {
  if (version === undefined) return currentDocument(store, kind);
  if (version === 0) return { version: 0, document: undefined };
  const stored = await store.get(kind, version);
  if (!stored) throw new ConfigOperationError(`${kind} has no version ${version}`);
  return { version, document: stored.document };
}

/**
 * The kinds a document of `kind` is checked against, whose heads its write is conditional on:
 * rules and the model read features; a feature set must keep what they read. Lists interact
 * with nothing (an unknown list name is simply false in rules).
 */
export function crossKindDependencies(kind: DecisionKind, checkFeatures = true): DecisionKind[] {
  if (kind === "features") return ["rules", "model"];
  if ((kind === "rules" || kind === "model") && checkFeatures) return ["features"];
  return [];
}

/** Attempts of a checked write against concurrent changes of the kinds it was checked against. */
const DEPENDENCY_ATTEMPTS = 5;

/**
 * Writes a document checked against other kinds' documents, atomically: reads their heads,
 * prepares (validates and checks) the document against exactly those versions, and writes with a
 * condition that each head is still there (one DynamoDB transaction). When one moved in between,
 * nothing was written: it checks again against the new head (up to 5 times), so a change that has
 * become invalid is refused and a valid one lands.
 */
async function applyChecked(
  store: ConfigStore,
  request: Omit<ApplyRequest, "document" | "requireHeads">,
  dependencies: readonly DecisionKind[],
  prepare: (versions: Readonly<Partial<Record<DecisionKind, number>>>) => Promise<unknown>,
): Promise<ConfigVersionInfo> {
  for (let attempt = 1; ; attempt++) {
    const heads = dependencies.length > 0 ? await store.heads(dependencies) : new Map();
    const versions: Partial<Record<DecisionKind, number>> = {};
    for (const kind of dependencies) versions[kind] = heads.get(kind)?.version ?? 0;
    const document = await prepare(versions);
    try {
      return await store.apply({
        ...request,
        document,
        ...(dependencies.length > 0
          ? { requireHeads: dependencies.map((kind) => ({ kind, version: versions[kind] ?? 0 })) }
          : {}),
      });
    } catch (error) {
      if (!(error instanceof ConfigDependencyConflictError) || attempt >= DEPENDENCY_ATTEMPTS) throw error;
    }
  }
}

/** The document in force for a kind and its version (0 and undefined when none was applied). */
export async function currentDocument(
  store: ConfigStore,
  kind: DecisionKind,
): Promise<{ version: number; document: unknown }> {
  const head = await store.head(kind);
  if (!head) return { version: 0, document: undefined };
  const stored = await store.get(kind, head.version);
  if (!stored)
    throw new ConfigOperationError(`${kind} version ${head.version} is named by the head but missing`);
  return { version: head.version, document: stored.document };
}

/**
 * Validates, compiles, stamps (rules) and writes a document as the next version. The previous
 * version for stamping is the one the change is made on (`expectedVersion`), not whatever is
 * newest, so rule versions follow the operator's view. Rules and models are checked against the
 * feature set in force, a feature set against the rules and model in force, and the write is
 * conditional on those heads not having moved (see applyChecked).
 */
export async function applyDocument(
  store: ConfigStore,
  kind: DecisionKind,
  document: unknown,
  options: RuleChangeOptions,
): Promise<ConfigVersionInfo> {
  const expected = options.expectedVersion ?? (await store.head(kind))?.version ?? 0;
  const previous = expected > 0 ? (await store.get(kind, expected))?.document : undefined;
  if (expected > 0 && previous === undefined) {
    throw new ConfigOperationError(`${kind} has no version ${expected}`);
  }
  const checkFeatures = options.checkFeatures !== false;
  const request = {
    kind,
    expectedVersion: expected,
    author: options.author,
    now: options.now,
    ...(options.comment ? { comment: options.comment } : {}),
  };
  return applyChecked(store, request, crossKindDependencies(kind, checkFeatures), async (versions) => {
    const knownFeatures =
      kind === "features" || !checkFeatures
        ? undefined
        : (options.knownFeatures ?? (await knownFeatureIds(store, versions.features)));
    const prepared = prepareDocument(
      kind,
      previous,
      document,
      options,
      knownFeatures ? { knownFeatures } : {},
    );
    if (kind === "features") await checkFeatureReaders(store, prepared, { ...versions, features: expected });
    return prepared;
  });
}

/**
 * Sets one rule's mode (enable = active, disable, shadow) as a new version. Returns undefined
 * when the rule already has that mode (nothing is written).
 */
export async function setRuleMode(
  store: ConfigStore,
  ruleId: string,
  mode: RuleMode,
  options: RuleChangeOptions,
): Promise<ConfigVersionInfo | undefined> {
  const current = await rulesInForce(store, options.expectedVersion);
  const rule = current.document.rules.find((r) => r.id === ruleId);
  if (!rule) {
    throw new ConfigOperationError(
      `no rule ${ruleId} in rules version ${current.version}; rules: ${current.document.rules.map((r) => r.id).join(", ") || "(none)"}`,
    );
  }
  if (rule.mode === mode) return undefined;
  const next: RulesDocument = {
    ...current.document,
    rules: current.document.rules.map((r) => (r.id === ruleId ? { ...r, mode } : r)),
  };
  // Feature ids are not re-checked: only a mode changes, and switching a rule off in an
  // emergency must not fail because the feature set moved since the rules were applied.
  return applyDocument(store, "rules", next, {
    ...options,
    expectedVersion: current.version,
    checkFeatures: false,
  });
}

/**
 * Restores version `to` exactly: a new version whose document is byte-for-byte version `to`'s
 * (rule versions and timestamps included), recorded as restoredFrom `to`. The document is
 * validated again first, because the code that runs it may have changed since, and goes through
 * the same cross-kind check as an apply (rules and model against the feature set in force, a
 * feature set against the rules and model in force), conditional on those heads in the same
 * transaction: a rollback that would break the other kind is refused. `checkFeatures: false`
 * (rules, model) skips the feature check, as `--allow-unknown-features` does for apply.
 */
export async function rollback(
  store: ConfigStore,
  kind: DecisionKind,
  to: number,
  options: ChangeOptions & { readonly checkFeatures?: boolean },
): Promise<ConfigVersionInfo> {
  const target = await store.get(kind, to);
  if (!target) throw new ConfigOperationError(`${kind} has no version ${to}`);
  const expected = options.expectedVersion ?? (await store.head(kind))?.version ?? 0;
  const checkFeatures = options.checkFeatures !== false;
  const request = {
    kind,
    expectedVersion: expected,
    author: options.author,
    now: options.now,
    comment: options.comment ?? `rollback to version ${to}`,
    restoredFrom: to,
  };
  return applyChecked(store, request, crossKindDependencies(kind, checkFeatures), async (versions) => {
    const knownFeatures =
      kind === "features" || !checkFeatures ? undefined : await knownFeatureIds(store, versions.features);
    validateDecisionDocument(kind, target.document, knownFeatures ? { knownFeatures } : {});
    if (kind === "features") {
      await checkFeatureReaders(store, target.document, { ...versions, features: expected });
    }
    return target.document;
  });
}

/** The rules document of a version (default: the one in force). */
export async function rulesInForce(
  store: ConfigStore,
  version?: number,
): Promise<{ version: number; document: RulesDocument }> {
  const v = version ?? (await store.head("rules"))?.version;
  if (v === undefined)
    throw new ConfigOperationError("no rules have been applied yet (vigil rules apply <file>)");
  const stored = await store.get("rules", v);
  if (!stored) throw new ConfigOperationError(`rules has no version ${v}`);
  return { version: v, document: rulesDocumentSchema.parse(stored.document) };
}

/** The lists document of a version (default: the one in force; empty when none was applied). */
export async function listsInForce(
  store: ConfigStore,
  version?: number,
): Promise<{ version: number; document: ListsDocument }> {
  const v = version ?? (await store.head("lists"))?.version ?? 0;
  if (v === 0) return { version: 0, document: EMPTY_LISTS };
  const stored = await store.get("lists", v);
  if (!stored) throw new ConfigOperationError(`lists has no version ${v}`);
  return { version: v, document: validateListsDocument(stored.document) };
}

/** Attempts of a list edit against concurrent edits before giving up. */
const LIST_EDIT_ATTEMPTS = 5;

/**
 * Applies a list edit as a new lists version. An edit is a delta (add or remove one entry), so
 * on a conflict it is re-applied on top of the newer version instead of failing: nothing is
 * lost either way, because the newer version is read again before editing.
 */
async function editLists(
  store: ConfigStore,
  edit: (document: ListsDocument) => ListEdit,
  options: ChangeOptions,
): Promise<{ info: ConfigVersionInfo; edit: ListEdit }> {
  for (let attempt = 1; ; attempt++) {
    const current = await listsInForce(store);
    const result = edit(current.document);
    try {
      const info = await store.apply({
        kind: "lists",
        document: result.document,
        expectedVersion: current.version,
        author: options.author,
        now: options.now,
        ...(options.comment ? { comment: options.comment } : {}),
      });
      return { info, edit: result };
    } catch (error) {
      if (!(error instanceof ConfigConflictError) || attempt >= LIST_EDIT_ATTEMPTS) throw error;
    }
  }
}

/** Adds (or renews) a list entry. */
export function addToList(
  store: ConfigStore,
  input: ListEntryInput,
  options: ChangeOptions,
): Promise<{ info: ConfigVersionInfo; edit: ListEdit }> {
  return editLists(store, (doc) => addListEntry(doc, input, options), options);
}

/** Removes a list entry; fails when there is none. */
export function removeFromList(
  store: ConfigStore,
  input: { readonly list: string; readonly kind: ListKind; readonly value: string },
  options: ChangeOptions,
): Promise<{ info: ConfigVersionInfo; edit: ListEdit }> {
  return editLists(store, (doc) => removeListEntry(doc, input), options);
}
