import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ensurePseudonymKeyFile } from "#shared/adapters/file-pseudonym-key";
import { ENV } from "#shared/resources";

/** Where the local stack keeps what stands in for Secrets Manager, SNS and OpenSearch. */
export function localSinkPaths(stateDir: string) {
  return {
    /** The pseudonymization key (mode 0600), created on first `local up` and kept. */
    pseudonymKeyFile: join(stateDir, "pseudonym-key.json"),
    /** One JSON file per alert, exactly the SNS Publish input. */
    alertOutboxDir: join(stateDir, "outbox"),
    /** Audit documents as `_bulk` NDJSON, one file per function invocation. */
    auditDir: join(stateDir, "audit"),
  };
}

/**
 * Creates the key file (if missing) and the outbox and audit directories under `stateDir`, and
 * returns the environment variables that point the functions and the CLI at them.
 */
export function prepareLocalSinks(stateDir: string): Record<string, string> {
  const paths = localSinkPaths(stateDir);
  ensurePseudonymKeyFile(paths.pseudonymKeyFile);
  mkdirSync(paths.alertOutboxDir, { recursive: true });
  mkdirSync(paths.auditDir, { recursive: true });
  return {
    [ENV.pseudonymKeyFile]: paths.pseudonymKeyFile,
    [ENV.alertOutboxDir]: paths.alertOutboxDir,
    [ENV.auditDir]: paths.auditDir,
  };
}
