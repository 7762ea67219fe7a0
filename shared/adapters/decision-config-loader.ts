import {
  DECISION_KINDS,
  DecisionConfigError,
  type DecisionDocuments,
  type DecisionEngine,
  DecisionEngineFactory,
  type DecisionKind,
  type EngineParts,
  type MetricEntry,
  type VersionedDocument,
} from "#shared/domain/decision/index";
import { SHIPPED_DEFAULTS } from "#shared/domain/decision/shipped-defaults";
import type { CompiledRates } from "#shared/domain/enrichment/rates";
import {
  type CompiledFeatureSet,
  DEFAULT_FEATURE_SET,
  withCurrencyConverter,
} from "#shared/domain/features/index";
import { CONFIG_LOAD_ERRORS_METRIC } from "#shared/metrics";
import type { ConfigHead, ConfigStore } from "#shared/ports/config-store";

/** Default refresh interval: a change is in force for every decision made 30 s after it. */
export const DEFAULT_REFRESH_MS = 30_000;

/** How many older versions a cold start may walk back to find a valid one. */
const MAX_WALK_BACK = 5;

/** A problem found while loading configuration; the last good configuration stays in force. */
export interface ConfigLoadError {
  /** The document kind, or "store" when the config table could not be read. */
  readonly kind: DecisionKind | "store";
  /** The version that was refused (for invalid documents). */
  readonly version?: number;
  readonly message: string;
}

/**
 * The feature set used while none was ever applied (or none of the stored versions compiles):
 * the built-in default, as version 0.
 */
export const DEFAULT_FEATURES_DOCUMENT: VersionedDocument = { version: 0, document: DEFAULT_FEATURE_SET };

/**
 * The rules used while no configured rules version is in force (none applied, or none compiles
 * on a cold start): the shipped defaults, as version 0. Plain data, so bundles carry it.
 */
export const SHIPPED_RULES_DOCUMENT: VersionedDocument = { version: 0, document: SHIPPED_DEFAULTS.rules };

/** The configuration in force. */
export interface LoadedConfig {
  readonly engine: DecisionEngine;
  /**
   * The feature definitions the state store computes (always set: see DEFAULT_FEATURES_DOCUMENT),
   * with the exchange rates in force bound to its converted features.
   */
  readonly features: CompiledFeatureSet;
  /** The exchange rates in force (`rates` kind), or undefined when none was applied. */
  readonly rates?: CompiledRates;
  /**
   * Config-table version in force per kind (null: not configured; 0: the fallback, e.g. the
   * shipped default rules or the built-in feature set).
   */
  readonly versions: Readonly<Record<DecisionKind, number | null>>;
  /**
   * True while no configured rules version is in force (none applied, or none compiles on a cold
   * start) and the engine decides with the fallback rules (the shipped defaults).
   */
  readonly withoutConfiguredRules: boolean;
  /** Epoch ms of the last successful check of the heads. */
  readonly checkedAt: number;
  /** Problems found by the refresh that produced this result (empty when all was well). */
  readonly errors: readonly ConfigLoadError[];
}

/** Options of the loader. */
export interface DecisionConfigLoaderOptions {
  /** How long a checked configuration is trusted; default 30 s. */
  readonly refreshMs?: number;
  /** Epoch ms; injectable for tests. Default Date.now. */
  readonly clock?: () => number;
  /** Called for every load problem, e.g. to emit the ConfigLoadErrors metric or log. */
  readonly onError?: (error: ConfigLoadError) => void;
  /**
   * Documents for kinds with no configured version in force: never applied, or on a cold start
   * none of the head and the versions walked back compiles. Rules default to
   * SHIPPED_RULES_DOCUMENT and features to DEFAULT_FEATURES_DOCUMENT (scoring never runs without
   * either); lists and model have no fallback unless given.
   */
  readonly fallback?: DecisionDocuments;
  readonly factory?: DecisionEngineFactory;
}

/**
 * The score function's view of the config table: call `current()` once per batch.
 *
 * - Cheap when nothing changed: at most one BatchGetItem of the five head items per refresh
 *   interval; a version's document is read and compiled only when the head names a new one.
 * - Bounded staleness: a decision made at time t uses heads read after t − refreshMs.
 * - Never worse than before: a version that fails to compile is refused and the last good
 *   version of that kind stays in force; the refusal is reported on every refresh while the head
 *   points at it (so an error metric keeps firing until someone fixes or rolls back). On a cold
 *   start the loader walks back to the newest valid version instead.
 * - A failed read of the table keeps the configuration in force (and is reported, and retried on
 *   the next call); a cold start that cannot read the table throws, so the batch is retried
 *   rather than decided without rules.
 * - Never without rules: when no configured rules version is in force (none applied, or on a
 *   cold start none compiles), the shipped default rules decide (version 0), `withoutConfiguredRules`
 *   is true and a `rules` error is reported on every refresh; if even they do not compile, the
 *   call throws and the batch is retried. Lists and model without a version in force use
 *   `fallback` when given, or stay unconfigured (decisions then record `versions.<kind> = null`).
 */
export class DecisionConfigLoader {
  private readonly refreshMs: number;
  private readonly clock: () => number;
  private readonly factory: DecisionEngineFactory;
  private loaded: LoadedConfig | undefined;
  private inFlight: Promise<LoadedConfig> | undefined;
  /** Versions in force, with their compiled parts. */
  private readonly inForce = new Map<DecisionKind, { version: number; doc: VersionedDocument }>();
  /** Head versions refused, so a bad head is not read and compiled again on every refresh. */
  private readonly refused = new Map<DecisionKind, ConfigLoadError>();
  /** Kinds whose document in force is the fallback (no configured version is). */
  private readonly fromFallback = new Set<DecisionKind>();

  constructor(
    private readonly store: ConfigStore,
    private readonly options: DecisionConfigLoaderOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
    this.clock = options.clock ?? Date.now;
    this.factory = options.factory ?? new DecisionEngineFactory();
  }

  /** The configuration in force, refreshed first when the last check is refreshMs old or older. */
  current(): Promise<LoadedConfig> {
    const now = this.clock();
    if (this.loaded && now - this.loaded.checkedAt < this.refreshMs) return Promise.resolve(this.loaded);
    // Concurrent callers share one refresh.
    this.inFlight ??= this.refresh(now).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async refresh(now: number): Promise<LoadedConfig> {
    const errors: ConfigLoadError[] = [];
    const report = (error: ConfigLoadError) => {
      errors.push(error);
      this.options.onError?.(error);
    };
    let heads: ReadonlyMap<string, ConfigHead>;
    try {
      heads = await this.store.heads(DECISION_KINDS);
    } catch (error) {
      report({ kind: "store", message: `config table not readable: ${messageOf(error)}` });
      if (!this.loaded) throw error;
      // Keep deciding with what is in force; try again on the next call rather than in 30 s.
      return { ...this.loaded, errors };
    }

    let changed = this.loaded === undefined;
    for (const kind of DECISION_KINDS) {
      const head = heads.get(kind);
      if (head !== undefined && this.inForce.get(kind)?.version !== head.version) {
        const refused = this.refused.get(kind);
        if (refused?.version === head.version) report(refused);
        else {
          try {
            // Without a configured version in force (cold start, or the fallback), walk back.
            const walkBack = !this.configured(kind);
            if (await this.loadVersion(kind, head.version, walkBack, report)) changed = true;
          } catch (error) {
            report({ kind: "store", message: `config table not readable: ${messageOf(error)}` });
            if (!this.loaded) throw error;
          }
        }
      }
      if (this.configured(kind)) continue;
      const fallback = this.fallbackOf(kind);
      if (fallback === undefined) continue;
      if (!this.fromFallback.has(kind)) {
        if (this.tryCompile(kind, fallback, report).ok) {
          this.fromFallback.add(kind);
          changed = true;
        } else if (kind === "rules" || kind === "features") {
          // Scoring needs both: fail the batch (it is retried) rather than decide without them.
          throw new Error(
            `no ${kind} version compiles, nor the fallback ${kind}: nothing safe to decide with`,
          );
        }
      }
      if (kind === "rules") {
        // Kept firing (ConfigLoadErrors) while no configured rules version is in force.
        report({
          kind,
          version: fallback.version,
          message:
            head === undefined
              ? `no rules version applied; deciding with the fallback rules (version ${fallback.version})`
              : `no rules version compiles (head ${head.version}); deciding with the fallback rules (version ${fallback.version})`,
        });
      }
    }

    if (changed || !this.loaded) {
      const parts: {
        rules?: EngineParts["rules"];
        lists?: EngineParts["lists"];
        model?: EngineParts["model"];
      } = {};
      const rules = this.inForce.get("rules");
      const lists = this.inForce.get("lists");
      const model = this.inForce.get("model");
      const features = this.inForce.get("features") as { version: number; doc: VersionedDocument };
      const rates = this.inForce.get("rates");
      const compiledRates = rates ? this.factory.rates(rates.doc) : undefined;
      // Compiled parts come from the factory's per-version cache: nothing is compiled twice.
      if (rules) parts.rules = this.factory.rules(rules.doc);
      if (lists) parts.lists = this.factory.lists(lists.doc);
      if (model) parts.model = this.factory.model(model.doc);
      this.loaded = {
        engine: this.factory.engine(parts),
        features: withCurrencyConverter(this.factory.features(features.doc), compiledRates?.converter),
        ...(compiledRates ? { rates: compiledRates } : {}),
        versions: {
          rules: rules?.version ?? null,
          lists: lists?.version ?? null,
          model: model?.version ?? null,
          features: features.version,
          rates: rates?.version ?? null,
        },
        withoutConfiguredRules: !this.configured("rules"),
        checkedAt: now,
        errors,
      };
      return this.loaded;
    }
    this.loaded = { ...(this.loaded as LoadedConfig), checkedAt: now, errors };
    return this.loaded;
  }

  /** Whether a stored version of the kind (not a fallback) is in force. */
  private configured(kind: DecisionKind): boolean {
    return this.inForce.has(kind) && !this.fromFallback.has(kind);
  }

  /** The fallback document of a kind: the caller's, else the shipped rules and the built-in features. */
  private fallbackOf(kind: DecisionKind): VersionedDocument | undefined {
    const given = this.options.fallback?.[kind];
    if (given) return given;
    if (kind === "rules") return SHIPPED_RULES_DOCUMENT;
    if (kind === "features") return DEFAULT_FEATURES_DOCUMENT;
    return undefined;
  }

  /**
   * Reads and compiles the head version; with `walkBack` (no configured version in force) walks
   * back to the newest version that compiles. Returns whether a version was put in force. A
   * refused head is remembered, so it is reported, not read again, until the head moves.
   */
  private async loadVersion(
    kind: DecisionKind,
    head: number,
    walkBack: boolean,
    report: (e: ConfigLoadError) => void,
  ): Promise<boolean> {
    const lowest = walkBack ? Math.max(1, head - MAX_WALK_BACK) : head;
    let headRefusal: ConfigLoadError | undefined;
    for (let version = head; version >= lowest; version--) {
      const stored = await this.store.get(kind, version);
      let refusal: ConfigLoadError;
      if (stored === undefined) {
        refusal = { kind, version, message: `${kind} version ${version} is named by the head but missing` };
        report(refusal);
      } else {
        const compiled = this.tryCompile(kind, { version, document: stored.document }, report);
        if (compiled.ok) {
          this.fromFallback.delete(kind);
          return true;
        }
        refusal = compiled.refusal;
      }
      if (version === head) headRefusal = refusal;
    }
    if (headRefusal) this.refused.set(kind, headRefusal);
    return false;
  }

  /** Compiles a document and puts it in force, or reports and returns why it was refused. */
  private tryCompile(
    kind: DecisionKind,
    doc: VersionedDocument,
    report: (e: ConfigLoadError) => void,
  ): { readonly ok: true } | { readonly ok: false; readonly refusal: ConfigLoadError } {
    try {
      if (kind === "rules") this.factory.rules(doc);
      else if (kind === "lists") this.factory.lists(doc);
      else if (kind === "model") this.factory.model(doc);
      else if (kind === "rates") this.factory.rates(doc);
      else this.factory.features(doc);
    } catch (error) {
      // Any failure refuses the version, a compiler fault included: the next one may compile.
      const message =
        error instanceof DecisionConfigError
          ? error.message
          : `${kind} version ${doc.version} could not be compiled (${error instanceof Error ? error.name : "error"})`;
      const refusal: ConfigLoadError = { kind, version: doc.version, message };
      report(refusal);
      return { ok: false, refusal };
    }
    this.inForce.set(kind, { version: doc.version, doc });
    return { ok: true };
  }
}

export { CONFIG_LOAD_ERRORS_METRIC } from "#shared/metrics";

/** EMF entries for a refresh's problems: one per kind, dimensioned by kind. */
export function configLoadMetrics(errors: readonly ConfigLoadError[]): MetricEntry[] {
  const counts = new Map<string, number>();
  for (const e of errors) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([kind, value]) => ({
      name: CONFIG_LOAD_ERRORS_METRIC,
      unit: "Count",
      value,
      dimensions: { kind },
    }));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
