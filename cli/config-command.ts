import { userInfo } from "node:os";
import type { Command } from "commander";
import { ConfigOperationError } from "#cli/config-operations";
import { resolveTarget } from "#cli/env";
import { CliError, say } from "#cli/output";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import {
  type ConfigFile,
  ConfigFileError,
  describeIssuesInFile,
  readConfigFile,
} from "#shared/adapters/config-files";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import { ConfigValidationError, formatIssue, ListEntryNotFoundError } from "#shared/domain/decision/index";
import {
  ConfigConflictError,
  type ConfigKind,
  type ConfigStore,
  ConfigTooLargeError,
} from "#shared/ports/config-store";

/**
 * What `vigil rules`, `vigil lists` and `vigil features` share: the config store of the target,
 * change flags (author, comment, expected version), file reading, and one mapping of errors to
 * messages and exit codes.
 */

/** Exit codes of the config commands: invalid input, not found, conflicting change. */
export const CONFIG_EXIT = { invalid: 2, notFound: 3, conflict: 4 } as const;

/** The config store of the target environment (local stack or the process environment). */
export function configStore(): ConfigStore {
  const target = resolveTarget();
  return new DynamoDbConfigStore(createDynamoDbClient(target.env), target.table("config"));
}

/** `--author` default: the login name, as operators are used to from git. */
export function defaultAuthor(): string {
  return process.env.USER ?? process.env.USERNAME ?? safeUserName() ?? "unknown";
}

function safeUserName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (some containers): the caller falls back to "unknown".
    return undefined;
  }
}

/** Parses `--expect-version`. */
export function versionOption(text: string | undefined, name = "--expect-version"): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(text))
    throw new CliError(`${name} must be a version number, got ${text}`, CONFIG_EXIT.invalid);
  return Number(text);
}

/**
 * Runs a config command, mapping the errors operators meet to one clear message and an exit
 * code: invalid input 2, not found 3, conflict 4.
 */
export async function runConfigCommand(action: () => Promise<void>, file?: ConfigFile): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      const lines = file ? describeIssuesInFile(file, error) : error.issues.map((i) => formatIssue(i));
      throw new CliError(`invalid ${error.kind}:\n  ${lines.join("\n  ")}`, CONFIG_EXIT.invalid);
    }
    if (error instanceof ConfigFileError) throw new CliError(error.message, CONFIG_EXIT.invalid);
    if (error instanceof ConfigTooLargeError) throw new CliError(error.message, CONFIG_EXIT.invalid);
    if (error instanceof ConfigOperationError || error instanceof ListEntryNotFoundError) {
      throw new CliError(error.message, CONFIG_EXIT.notFound);
    }
    if (error instanceof ConfigConflictError) throw new CliError(error.message, CONFIG_EXIT.conflict);
    throw error;
  }
}

/** The flags every change takes (see withChangeFlags). */
export interface ChangeFlags {
  author: string;
  comment?: string;
  expectVersion?: string;
}

/** Change flags as the options of the config operations. */
export function changeOptions(opts: ChangeFlags) {
  const expectedVersion = versionOption(opts.expectVersion);
  return {
    author: opts.author,
    now: new Date().toISOString(),
    ...(opts.comment ? { comment: opts.comment } : {}),
    ...(expectedVersion === undefined ? {} : { expectedVersion }),
  };
}

/** Adds `--author`, `--comment` and `--expect-version` to a command that writes a new version. */
export function withChangeFlags(command: Command): Command {
  return command
    .option("--author <name>", "who makes the change (recorded with the version)", defaultAuthor())
    .option("--comment <text>", "why (recorded with the version)")
    .option(
      "--expect-version <n>",
      "fail unless the version in force is this one (default: the version read now)",
    );
}

/** Reads a YAML or JSON config file, turning read and parse errors into exit code 2. */
export function readFile(path: string): ConfigFile {
  try {
    return readConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigFileError) throw new CliError(error.message, CONFIG_EXIT.invalid);
    throw error;
  }
}

/** Prints the stored versions of a kind, newest first, marking the one in force. */
export async function printVersions(
  store: ConfigStore,
  kind: ConfigKind,
  opts: { readonly limit: string; readonly json?: boolean },
): Promise<void> {
  const head = await store.head(kind);
  const versions = await store.list(kind, { limit: Number(opts.limit) });
  if (versions.length === 0) say(`No ${kind} version has been applied yet.`);
  for (const v of versions) {
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ...v, inForce: v.version === head?.version })}\n`);
      continue;
    }
    const marks = `${v.version === head?.version ? " (in force)" : ""}${v.restoredFrom ? ` restores ${v.restoredFrom}` : ""}`;
    process.stdout.write(
      `${String(v.version).padStart(4)}  ${v.createdAt}  ${v.author}${marks}${v.comment ? `\n      ${v.comment}` : ""}\n`,
    );
  }
}
