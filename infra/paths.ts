import { fileURLToPath } from "node:url";

/**
 * Absolute path of the repository root: the project root for bundling (entries in
 * `shared/resources.ts` are relative to it) and the home of the one `package-lock.json`.
 */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Lock file NodejsFunction reads to pin dependency versions; the repository has exactly one. */
export const LOCK_FILE = fileURLToPath(new URL("../package-lock.json", import.meta.url));
