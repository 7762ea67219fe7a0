/**
 * Versioned configuration documents (rules, lists, models, feature definitions): every change is
 * a new immutable version with who, when and why; a head pointer names the version in force.
 * Writers name the version they started from, so two operators never silently overwrite each
 * other: the second one gets ConfigConflictError and re-applies on top of the first. A write
 * checked against another kind's version (rules against the features they read) names that
 * version too, and happens only while it is still in force.
 */

/** A document kind: lower case, e.g. "rules", "lists", "model", "features". */
export type ConfigKind = string;

/** What is recorded about one version, without its document. */
export interface ConfigVersionInfo {
  readonly kind: ConfigKind;
  /** 1, 2, 3…: consecutive per kind. */
  readonly version: number;
  readonly author: string;
  /** ISO-8601 time of the apply. */
  readonly createdAt: string;
  readonly comment?: string;
  /** When this version restores an earlier one (rollback), that version. */
  readonly restoredFrom?: number;
  /** SHA-256 (hex) of the document's JSON text: equal content, equal hash. */
  readonly sha256: string;
  /** Size of the document's JSON text in bytes. */
  readonly bytes: number;
}

/** One version with its document. */
export interface ConfigVersion extends ConfigVersionInfo {
  readonly document: unknown;
}

/** The version in force for a kind. */
export interface ConfigHead {
  readonly kind: ConfigKind;
  readonly version: number;
  readonly updatedAt: string;
}

/** Another kind's head a write was checked against: the write happens only while it is still there. */
export interface HeadCondition {
  readonly kind: ConfigKind;
  /** The version the head must still name; 0: the kind must still have no head. */
  readonly version: number;
}

/** A new version to write. */
export interface ApplyRequest {
  readonly kind: ConfigKind;
  readonly document: unknown;
  /** The version the change was made on; 0 when the kind has no version yet. */
  readonly expectedVersion: number;
  readonly author: string;
  readonly comment?: string;
  readonly restoredFrom?: number;
  /** ISO-8601 time to record. */
  readonly now: string;
  /**
   * Heads of other kinds the document was checked against (rules against the feature set, a
   * feature set against the rules and the model), checked in the same transaction as the write.
   */
  readonly requireHeads?: readonly HeadCondition[];
}

/** Reading and writing versioned configuration. */
export interface ConfigStore {
  /** The head of a kind, or undefined when nothing was ever applied. Strongly consistent. */
  head(kind: ConfigKind): Promise<ConfigHead | undefined>;
  /** Heads of several kinds in one round trip (the loader's cheap refresh check). */
  heads(kinds: readonly ConfigKind[]): Promise<ReadonlyMap<ConfigKind, ConfigHead>>;
  /** One version with its document. */
  get(kind: ConfigKind, version: number): Promise<ConfigVersion | undefined>;
  /** Versions of a kind, newest first, without documents. */
  list(kind: ConfigKind, options?: { readonly limit?: number }): Promise<ConfigVersionInfo[]>;
  /**
   * Writes version expectedVersion + 1 and moves the head to it, atomically, if and only if the
   * head is still at expectedVersion and every head of `requireHeads` is still at its version;
   * otherwise writes nothing and throws ConfigConflictError (this kind's head moved) or
   * ConfigDependencyConflictError (a required head moved).
   */
  apply(request: ApplyRequest): Promise<ConfigVersionInfo>;
}

/** Another version was applied since the one the change was made on. */
export class ConfigConflictError extends Error {
  override readonly name: string = "ConfigConflictError";
  constructor(
    readonly kind: ConfigKind,
    readonly expectedVersion: number,
    /** The head found after the failed write (undefined: none, or unknown). */
    readonly currentVersion: number | undefined,
  ) {
    super(
      `${kind}: version ${expectedVersion === 0 ? "none" : expectedVersion} is no longer current (head is ${currentVersion ?? "unknown"}); ` +
        "someone applied a change in between. Review it (vigil rules show / list), then apply again on top of it.",
    );
  }
}

/**
 * The head of another kind that a write was checked against moved before the write (a concurrent
 * apply or rollback of that kind): nothing was written; check again against the new head.
 */
export class ConfigDependencyConflictError extends ConfigConflictError {
  override readonly name: string = "ConfigDependencyConflictError";
  constructor(
    kind: ConfigKind,
    expectedVersion: number,
    /** The kind whose head moved. */
    readonly dependency: ConfigKind,
    /** The version of it the write was checked against (0: none). */
    readonly dependencyVersion: number,
    /** Its head found after the failed write (undefined: none, or unknown). */
    readonly currentDependencyVersion: number | undefined,
  ) {
    super(kind, expectedVersion, expectedVersion);
    this.message =
      `${kind}: checked against ${dependency} version ${dependencyVersion === 0 ? "none" : dependencyVersion}, ` +
      `but ${dependency} is now at ${currentDependencyVersion ?? "none"}; nothing was written. ` +
      `Apply again: it is checked against the ${dependency} in force.`;
  }
}

/** A document too large for one version item. */
export class ConfigTooLargeError extends Error {
  override readonly name = "ConfigTooLargeError";
  constructor(
    readonly kind: ConfigKind,
    readonly compressedBytes: number,
    readonly limitBytes: number,
  ) {
    super(
      `${kind}: document is ${compressedBytes} bytes compressed; at most ${limitBytes} fit in one version`,
    );
  }
}
