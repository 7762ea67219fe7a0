import type { Command } from "commander";
import { stringify as toYaml } from "yaml";
import {
  type ChangeFlags,
  changeOptions,
  configStore,
  printVersions,
  readFile,
  runConfigCommand,
  versionOption,
  withChangeFlags,
} from "#cli/config-command";
import {
  applyDocument,
  ConfigOperationError,
  rollback,
  rulesInForce,
  setRuleMode,
} from "#cli/config-operations";
import { resolveTarget } from "#cli/env";
import { collectPaths, outcomesFromFiles } from "#cli/labels-option";
import { CliError, say } from "#cli/output";
import { readRuleStats } from "#cli/report/rule-stats-source";
import { localSinkPaths } from "#local/local-sinks";
import { DEFAULT_STATE_DIR } from "#local/local-stack";
import { readStatus } from "#local/supervisor";
import {
  compileFeatureDocument,
  compileRuleset,
  type RuleMode,
  ruleReason,
} from "#shared/domain/decision/index";
import { parseDuration } from "#shared/domain/features/duration";
import { DEFAULT_FEATURE_SET } from "#shared/domain/features/index";
import { formatRuleStats } from "#shared/domain/report/rule-stats";
import { ENV } from "#shared/resources";

/**
 * `vigil rules validate|apply|list|show|enable|disable|shadow|rollback|stats`: the rule lifecycle and
 * how each rule performs.
 * Every change is a new version of the rules document with author, time and comment.
 */
export function registerRulesCommands(program: Command): void {
  const rules = program.command("rules").description("Validate, apply, inspect and roll back decision rules");

  rules
    .command("validate")
    .description("Check a rules file (YAML or JSON) without writing anything; needs no stack")
    .argument("<file>", "rules document: policy and rules")
    .option("--features <file>", "check feature ids against this feature set (default: the built-in one)")
    .option("--allow-unknown-features", "accept any feature id")
    .action(async (path: string, opts: { features?: string; allowUnknownFeatures?: boolean }) => {
      const file = readFile(path);
      await runConfigCommand(async () => {
        const set = opts.features
          ? compileFeatureDocument(readFile(opts.features).document).definitions
          : DEFAULT_FEATURE_SET;
        const knownFeatures = opts.allowUnknownFeatures ? undefined : new Set(set.features.map((f) => f.id));
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
          await printVersions(store, "rules", opts);
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

  rules
    .command("stats")
    .description(
      "Per rule over a window: hits, the actions of its hits and those it drove, the share later labelled fraud or legit, and its trend",
    )
    .option("--since <duration>", "window length, ending now (e.g. 90m, 24h, 7d)", "24h")
    .option("--until <time>", "end of the window (ISO-8601), default now")
    .option(
      "--source <source>",
      "audit (local audit files) or table (the decisions table); default: audit when present",
    )
    .option("--labels <file>", "labels or ground truth (repeatable)", collectPaths, [] as string[])
    .option("--labels-as-of <time>", "labels known at this time count (default: now)")
    .option("--buckets <n>", "buckets of the trend", "12")
    .option("--state-dir <dir>", "the local stack's state directory", DEFAULT_STATE_DIR)
    .option("--json", "print the statistics as JSON")
    .action(
      async (opts: {
        since: string;
        until?: string;
        source?: string;
        labels: string[];
        labelsAsOf?: string;
        buckets: string;
        stateDir: string;
        json?: boolean;
      }) => {
        const sinceMs = parseDuration(opts.since);
        if (sinceMs === undefined)
          throw new CliError(`--since ${opts.since}: expected a duration like 24h`, 2);
        const until = opts.until ? new Date(opts.until) : new Date();
        if (Number.isNaN(until.getTime())) throw new CliError(`--until ${opts.until}: not a time`, 2);
        const buckets = Number(opts.buckets);
        if (!Number.isInteger(buckets) || buckets < 1 || buckets > 96)
          throw new CliError("--buckets must be an integer in [1, 96]", 2);
        if (opts.source !== undefined && opts.source !== "audit" && opts.source !== "table")
          throw new CliError("--source must be audit or table", 2);
        const outcomes = outcomesFromFiles(opts.labels, opts.labelsAsOf);
        let env: Readonly<Record<string, string | undefined>> = process.env;
        if (!process.env[ENV.auditDir] && !process.env[ENV.openSearchEndpoint]) {
          const status = readStatus(opts.stateDir);
          if (status) env = { ...process.env, ...status.env };
          else if (opts.source !== "table")
            env = { ...process.env, [ENV.auditDir]: localSinkPaths(opts.stateDir).auditDir };
        }
        if (opts.source === "table") env = { ...env, ...resolveTarget(opts.stateDir).env };
        let result: Awaited<ReturnType<typeof readRuleStats>>;
        try {
          result = await readRuleStats(
            env,
            { since: new Date(until.getTime() - sinceMs), until, buckets },
            outcomes,
            opts.source as "audit" | "table" | undefined,
          );
        } catch (error) {
          throw new CliError((error as Error).message);
        }
        say(`(from ${result.source})`);
        process.stdout.write(
          opts.json ? `${JSON.stringify(result.stats, null, 2)}\n` : `${formatRuleStats(result.stats)}\n`,
        );
      },
    );

  withChangeFlags(
    rules
      .command("rollback")
      .description(
        "Restore an earlier version exactly, as a new version (history is kept); refused when it reads features the feature set in force lacks",
      )
      .requiredOption("--to <n>", "the version to restore")
      .option(
        "--allow-unknown-features",
        "restore even if it reads feature ids the feature set in force does not have (rules guarded with has())",
      ),
  ).action(async (opts: ChangeFlags & { to: string; allowUnknownFeatures?: boolean }) => {
    await runConfigCommand(async () => {
      const to = versionOption(opts.to, "--to") ?? 0;
      const info = await rollback(configStore(), "rules", to, {
        ...changeOptions(opts),
        ...(opts.allowUnknownFeatures ? { checkFeatures: false } : {}),
      });
      say(`Rules version ${info.version} restores version ${to}.`);
      process.stdout.write(`${JSON.stringify(info)}\n`);
    });
  });
}
