import { userInfo } from "node:os";
import type { Command } from "commander";
import { stringify as toYaml } from "yaml";
import {
  applyDocument,
  ConfigOperationError,
  rollback,
  rulesInForce,
  setRuleMode,
} from "#cli/config-operations";
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
import {
  ConfigValidationError,
  compileRuleset,
  formatIssue,
  ListEntryNotFoundError,
  type RuleMode,
  ruleReason,
} from "#shared/domain/decision/index";
import { DEFAULT_FEATURE_SET } from "#shared/domain/features/index";
import { ConfigConflictError, type ConfigStore, ConfigTooLargeError } from "#shared/ports/config-store";

/** Exit codes shared by `vigil rules` and `vigil lists`. */
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

interface ChangeFlags {
  author: string;
  comment?: string;
  expectVersion?: string;
}

function changeOptions(opts: ChangeFlags) {
  const expectedVersion = versionOption(opts.expectVersion);
  return {
    author: opts.author,
    now: new Date().toISOString(),
    ...(opts.comment ? { comment: opts.comment } : {}),
    ...(expectedVersion === undefined ? {} : { expectedVersion }),
  };
}

function withChangeFlags(command: Command): Command {
  return command
    .option("--author <name>", "who makes the change (recorded with the version)", defaultAuthor())
    .option("--comment <text>", "why (recorded with the version)")
    .option(
      "--expect-version <n>",
      "fail unless the rules in force are this version (default: the version read now)",
    );
}

function readFile(path: string): ConfigFile {
  try {
    return readConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigFileError) throw new CliError(error.message, CONFIG_EXIT.invalid);
    throw error;
  }
}

/**
 * `vigil rules validate|apply|list|show|enable|disable|shadow|rollback`: the rule lifecycle.
 * Every change is a new version of the rules document with author, time and comment.
 */
export function registerRulesCommands(program: Command): void {
  const rules = program.command("rules").description("Validate, apply, inspect and roll back decision rules");

  rules
    .command("validate")
    .description("Check a rules file (YAML or JSON) without writing anything; needs no stack")
    .argument("<file>", "rules document: policy and rules")
    .option("--allow-unknown-features", "accept feature ids the default feature set does not have")
    .action(async (path: string, opts: { allowUnknownFeatures?: boolean }) => {
      const file = readFile(path);
      await runConfigCommand(async () => {
        const knownFeatures = opts.allowUnknownFeatures
          ? undefined
          : new Set(DEFAULT_FEATURE_SET.features.map((f) => f.id));
        const compiled = compileRuleset(file.document, knownFeatures ? { knownFeatures } : {});
        const count = (mode: RuleMode) => compiled.document.rules.filter((r) => r.mode === mode).length;
        say(
          `${path}: valid: ${count("active")} active, ${count("shadow")} shadow, ${count("disabled")} disabled rule(s).`,
        );
        process.stdout.write(`${JSON.stringify({ valid: true, rules: compiled.document.rules.length })}\n`);
      }, file);
    });

  withChangeFlags(
    rules
      .command("apply")
      .description("Validate, compile and store a rules file as the next version")
      .argument("<file>", "rules document (YAML or JSON)")
      .option(
        "--allow-unknown-features",
        "accept feature ids the feature set in force does not have (rules guarded with has())",
      ),
  ).action(async (path: string, opts: ChangeFlags & { allowUnknownFeatures?: boolean }) => {
    const file = readFile(path);
    await runConfigCommand(async () => {
      const info = await applyDocument(configStore(), "rules", file.document, {
        ...changeOptions(opts),
        ...(opts.allowUnknownFeatures ? { checkFeatures: false } : {}),
      });
      say(`Applied ${path} as rules version ${info.version} (by ${info.author}).`);
      process.stdout.write(`${JSON.stringify(info)}\n`);
    }, file);
  });

  rules
    .command("list")
    .description("List the rules in force, or with --versions the stored versions of the rules document")
    .option("--versions", "list document versions (newest first) instead of rules")
    .option("--limit <n>", "at most this many versions", "20")
    .option("--json", "one JSON object per line")
    .action(async (opts: { versions?: boolean; limit: string; json?: boolean }) => {
      await runConfigCommand(async () => {
        const store = configStore();
        if (opts.versions) {
          const head = await store.head("rules");
          const versions = await store.list("rules", { limit: Number(opts.limit) });
          if (versions.length === 0) say("No rules have been applied yet.");
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
          return;
        }
        const current = await rulesInForce(store);
        say(`Rules version ${current.version}:`);
        for (const r of current.document.rules) {
          const row = {
            id: r.id,
            mode: r.mode,
            action: r.action,
            severity: r.severity,
            scenarios: r.scenarios,
            version: r.version,
            updatedAt: r.updatedAt,
            author: r.author,
          };
          process.stdout.write(
            opts.json
              ? `${JSON.stringify(row)}\n`
              : `${r.id.padEnd(32)} ${r.mode.padEnd(8)} ${r.action.padEnd(14)} v${r.version ?? "?"}  ${r.scenarios.join(",")}\n`,
          );
        }
      });
    });

  rules
    .command("show")
    .description("Print the rules document (or one rule) as YAML, ready to edit and apply")
    .argument("[ruleId]", "only this rule")
    .option("--version <n>", "a stored version instead of the one in force")
    .option("--json", "JSON instead of YAML")
    .action(async (ruleId: string | undefined, opts: { version?: string; json?: boolean }) => {
      await runConfigCommand(async () => {
        const current = await rulesInForce(configStore(), versionOption(opts.version, "--version"));
        let value: unknown = current.document;
        if (ruleId !== undefined) {
          const rule = current.document.rules.find((r) => r.id === ruleId);
          if (!rule) throw new ConfigOperationError(`no rule ${ruleId} in rules version ${current.version}`);
          value = { ...rule, reason: ruleReason(rule) };
        }
        say(`# rules version ${current.version}`);
        process.stdout.write(
          opts.json ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value, { lineWidth: 110 }),
        );
      });
    });

  const modeCommand = (name: string, mode: RuleMode, description: string) =>
    withChangeFlags(rules.command(name).description(description).argument("<ruleId>", "the rule")).action(
      async (ruleId: string, opts: ChangeFlags) => {
        await runConfigCommand(async () => {
          const info = await setRuleMode(configStore(), ruleId, mode, changeOptions(opts));
          if (!info) {
            say(`Rule ${ruleId} is already ${mode}; nothing written.`);
            process.stdout.write(`${JSON.stringify({ unchanged: true, rule: ruleId, mode })}\n`);
            return;
          }
          say(`Rule ${ruleId} is now ${mode}: rules version ${info.version}.`);
          process.stdout.write(`${JSON.stringify({ ...info, rule: ruleId, mode })}\n`);
        });
      },
    );
  modeCommand("enable", "active", "Make a rule active: its hits act on decisions");
  modeCommand("disable", "disabled", "Disable a rule: it is no longer evaluated");
  modeCommand("shadow", "shadow", "Put a rule in shadow mode: evaluated and recorded, never acting");

  withChangeFlags(
    rules
      .command("rollback")
      .description("Restore an earlier version exactly, as a new version (history is kept)")
      .requiredOption("--to <n>", "the version to restore"),
  ).action(async (opts: ChangeFlags & { to: string }) => {
    await runConfigCommand(async () => {
      const to = versionOption(opts.to, "--to") ?? 0;
      const info = await rollback(configStore(), "rules", to, changeOptions(opts));
      say(`Rules version ${info.version} restores version ${to}.`);
      process.stdout.write(`${JSON.stringify(info)}\n`);
    });
  });
}
