/**
 * Errors of the local Lambda runtime. Each class sets `name`, so logs and the on-failure
 * destination say what kind of failure happened without a stack trace.
 */

/** Base class of every error the local runtime raises itself. */
export class LocalRuntimeError extends Error {
  override readonly name: string = "LocalRuntimeError";
}

/** esbuild could not bundle a function; the message lists esbuild's diagnostics with file and line. */
export class BundleError extends LocalRuntimeError {
  override readonly name = "BundleError";
  constructor(
    message: string,
    /** esbuild's formatted diagnostics, one per entry. */
    readonly diagnostics: readonly string[],
  ) {
    super(message);
  }
}

/** The runtime configuration is invalid (missing event source, unknown field, bad number). */
export class RuntimeConfigError extends LocalRuntimeError {
  override readonly name = "RuntimeConfigError";
}
