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
import { ConfigConflictError, type ConfigStore, type ConfigVersionInfo } from "#shared/ports/config-store";

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
 * Feature ids rules and models may reference: those of the `features` document in force when
 * there is one, else those of the default feature set (what the score function then computes).
 */
export async function knownFeatureIds(store: ConfigStore): Promise<Set<string>> {
  const current = await featuresInForce(store);
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
 * Refuses a feature set that drops features the rules or the models in force read: those rules
 * would fail on every event (and model terms read null) from the next reload on. Change the
 * rules or the model first, then the features. Throws ConfigValidationError naming each reader.
 */
export async function checkFeatureReaders(store: ConfigStore, document: unknown): Promise<void> {
  const ids = new Set(compileFeatureDocument(document).features.map((f) => f.id));
  const issues: ConfigIssue[] = [];
  const readers: [kind: "rules" | "model", check: (doc: unknown) => unknown][] = [
    ["rules", (doc) => compileRuleset(doc, { knownFeatures: ids })],
    ["model", (doc) => compileModelDocument(doc, { knownFeatures: ids })],
  ];
  for (const [kind, check] of readers) {
    const current = await currentDocument(store, kind);
    if (current.version === 0) continue;
    try {
      check(current.document);
    } catch (error) {
      if (!(error instanceof ConfigValidationError)) throw error;
      for (const issue of error.issues) {
        const id = /^unknown feature '([^']+)'/.exec(issue.message)?.[1];
        if (id === undefined) continue;
        const where = issue.ruleId === undefined ? issue.path : `rule ${issue.ruleId}`;
        issues.push({
          path: "features",
          message: `${kind} version ${current.version} (${where}) reads feature '${id}', which this set does not define; change the ${kind} first or keep the feature`,
        });
      }
    }
  }
  if (issues.length > 0) throw new ConfigValidationError("features", issues);
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
 * newest, so rule versions follow the operator's view.
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
  const knownFeatures =
    kind === "features" || options.checkFeatures === false
      ? undefined
      : (options.knownFeatures ?? (await knownFeatureIds(store)));
  const prepared = prepareDocument(kind, previous, document, options, knownFeatures ? { knownFeatures } : {});
  if (kind === "features") await checkFeatureReaders(store, prepared);
  return store.apply({
    kind,
    document: prepared,
    expectedVersion: expected,
    author: options.author,
    now: options.now,
    ...(options.comment ? { comment: options.comment } : {}),
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
 * validated again first, because the code that runs it may have changed since.
 */
export async function rollback(
  store: ConfigStore,
  kind: DecisionKind,
  to: number,
  options: ChangeOptions,
): Promise<ConfigVersionInfo> {
  const target = await store.get(kind, to);
  if (!target) throw new ConfigOperationError(`${kind} has no version ${to}`);
  validateDecisionDocument(kind, target.document);
  if (kind === "features") await checkFeatureReaders(store, target.document);
  const expected = options.expectedVersion ?? (await store.head(kind))?.version ?? 0;
  return store.apply({
    kind,
    document: target.document,
    expectedVersion: expected,
    author: options.author,
    now: options.now,
    comment: options.comment ?? `rollback to version ${to}`,
    restoredFrom: to,
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
