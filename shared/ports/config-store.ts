/**
 * Versioned configuration documents (rules, lists, models, feature definitions): every change is
 * a new immutable version with who, when and why; a head pointer names the version in force.
 * Writers name the version they started from, so two operators never silently overwrite each
 * other: the second one gets ConfigConflictError and re-applies on top of the first.
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
   * head is still at expectedVersion; otherwise throws ConfigConflictError.
   */
  apply(request: ApplyRequest): Promise<ConfigVersionInfo>;
}

/** Another version was applied since the one the change was made on. */
export class ConfigConflictError extends Error {
  override readonly name = "ConfigConflictError";
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
