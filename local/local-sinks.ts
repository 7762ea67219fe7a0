import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ensurePseudonymKeyFile } from "#shared/adapters/file-pseudonym-key";
import { ENV } from "#shared/resources";

/** Where the local stack keeps what stands in for Secrets Manager, SNS, OpenSearch and S3. */
export function localSinkPaths(stateDir: string) {
  return {
    /** The pseudonymization key (mode 0600), created on first `local up` and kept. */
    pseudonymKeyFile: join(stateDir, "pseudonym-key.json"),
    /** One JSON file per alert, exactly the SNS Publish input. */
    alertOutboxDir: join(stateDir, "outbox"),
    /** Audit documents as `_bulk` NDJSON, one file per function invocation. */
    auditDir: join(stateDir, "audit"),
    /** The event archive: the archive bucket's keys as paths (docs/backtest.md). */
    archiveDir: join(stateDir, "archive"),
  };
}

/**
 * Creates the key file (if missing) and the outbox, audit and archive directories under `stateDir`, and
 * returns the environment variables that point the functions and the CLI at them.
 */
export function prepareLocalSinks(stateDir: string): Record<string, string> {
  const paths = localSinkPaths(stateDir);
  ensurePseudonymKeyFile(paths.pseudonymKeyFile);
  mkdirSync(paths.alertOutboxDir, { recursive: true });
  mkdirSync(paths.auditDir, { recursive: true });
  mkdirSync(paths.archiveDir, { recursive: true });
  return {
    [ENV.pseudonymKeyFile]: paths.pseudonymKeyFile,
    [ENV.alertOutboxDir]: paths.alertOutboxDir,
    [ENV.auditDir]: paths.auditDir,
    [ENV.archiveDir]: paths.archiveDir,
  };
}
