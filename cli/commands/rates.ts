import type { Command } from "commander";
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
import { applyDocument, ConfigOperationError, currentDocument, rollback } from "#cli/config-operations";
import { say } from "#cli/output";
import { compileRatesDocument } from "#shared/domain/decision/index";

/**
 * `vigil rates validate|apply|show|list|rollback`: the exchange-rate table (config kind `rates`)
 * that converted features read (docs/features.md, "Currency"). Versioned like the rules; the
 * score function uses a new version after its next config reload.
 */
export function registerRatesCommands(program: Command): void {
  const rates = program
    .command("rates")
    .description("Exchange rates for features that sum or compare amounts in a reference currency");

  rates
    .command("validate")
    .description("Check a rates file (YAML or JSON) without writing anything; needs no stack")
    .argument("<file>", 'rates: { base, asOf, source?, rates: { USD: "0.92", ... } }')
    .action(async (path: string) => {
      const file = readFile(path);
      await runConfigCommand(async () => {
        const compiled = compileRatesDocument(file.document);
        say(
          `${path}: valid: ${compiled.currencies.length} currencies in ${compiled.base}, as of ${compiled.asOf}.`,
        );
        process.stdout.write(
          `${JSON.stringify({ valid: true, base: compiled.base, asOf: compiled.asOf, currencies: compiled.currencies.length })}\n`,
        );
      }, file);
    });

  withChangeFlags(
    rates
      .command("apply")
      .description(
        "Validate and store a rates table as the next version; in force after the next config reload",
      )
      .argument("<file>", "rates (YAML or JSON)"),
  ).action(async (path: string, opts: ChangeFlags) => {
    const file = readFile(path);
    await runConfigCommand(async () => {
      const info = await applyDocument(configStore(), "rates", file.document, changeOptions(opts));
      const compiled = compileRatesDocument(file.document, info.version);
      say(
        `Applied ${path} as rates version ${info.version} (by ${info.author}): ${compiled.converter.label}.`,
      );
      process.stdout.write(`${JSON.stringify({ ...info, base: compiled.base, asOf: compiled.asOf })}\n`);
    }, file);
  });

  rates
    .command("show")
    .description("Print the rates table in force (or a stored version) as JSON")
    .option("--version <n>", "a stored version instead of the one in force")
    .action(async (opts: { version?: string }) => {
      await runConfigCommand(async () => {
        const store = configStore();
        const version = versionOption(opts.version, "--version");
        const current =
          version === undefined
            ? await currentDocument(store, "rates")
            : { version, document: (await store.get("rates", version))?.document };
        if (current.document === undefined) {
          throw new ConfigOperationError(
            version === undefined
              ? "no rates have been applied yet (vigil rates apply <file>): converted features read only amounts in their own reference currency"
              : `rates has no version ${version}`,
          );
        }
        const compiled = compileRatesDocument(current.document, current.version);
        say(`${compiled.converter.label}: ${compiled.currencies.length} currencies.`);
        process.stdout.write(
          `${JSON.stringify({ version: current.version, ...(current.document as object) }, null, 2)}\n`,
        );
      });
    });

  rates
    .command("list")
    .description("List the stored versions of the rates table, newest first")
    .option("--limit <n>", "at most this many versions", "20")
    .option("--json", "one JSON object per line")
    .action(async (opts: { limit: string; json?: boolean }) => {
      await runConfigCommand(async () => printVersions(configStore(), "rates", opts));
    });

  withChangeFlags(
    rates
      .command("rollback")
      .description("Restore an earlier rates table exactly, as a new version (history is kept)")
      .requiredOption("--to <n>", "the version to restore"),
  ).action(async (opts: ChangeFlags & { to: string }) => {
    await runConfigCommand(async () => {
      const to = versionOption(opts.to, "--to") ?? 0;
      const info = await rollback(configStore(), "rates", to, changeOptions(opts));
      say(`Rates version ${info.version} restores version ${to}.`);
      process.stdout.write(`${JSON.stringify(info)}\n`);
    });
  });
}
