import type { Command } from "commander";
import { stringify as toYaml } from "yaml";
import {
  type ChangeFlags,
  CONFIG_EXIT,
  changeOptions,
  configStore,
  printVersions,
  readFile,
  runConfigCommand,
  versionOption,
  withChangeFlags,
} from "#cli/config-command";
import { applyDocument, currentDocument, featuresInForce, rollback } from "#cli/config-operations";
import { resolveTarget } from "#cli/env";
import { CliError, say } from "#cli/output";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import { DynamoDbStateStore } from "#shared/adapters/dynamodb-state-store";
import { compileFeatureDocument, compileRatesDocument } from "#shared/domain/decision/index";
import { shippedIpEnrichment } from "#shared/domain/enrichment/shipped-ip-dataset";
import {
  type CompiledFeature,
  DEFAULT_FEATURE_SET,
  withCurrencyConverter,
} from "#shared/domain/features/index";
import type { ConfigStore } from "#shared/ports/config-store";

/** One line per feature: id, entity, aggregation, window, filter. */
function describeFeature(f: CompiledFeature): string {
  const n = f.normalized;
  const args = [
    n.field,
    n.currency === undefined ? null : `in ${n.currency}`,
    n.baseline === undefined ? null : `vs ${n.baseline}`,
    n.path === undefined ? null : n.path.join(" > "),
  ].filter((a) => a !== null);
  const aggregation = args.length === 0 ? n.aggregation : `${n.aggregation}(${args.join(" ")})`;
  const filter = [
    n.eventTypes ? `types ${n.eventTypes.join(",")}` : "",
    n.match
      ? `match ${Object.entries(n.match)
          .map(([field, values]) => `${field}=${values.join("|")}`)
          .join(" ")}`
      : "",
    n.condition ? `when ${n.condition.replace(/\s+/g, " ").trim()}` : "",
  ]
    .filter((p) => p !== "")
    .join("; ");
  return `${f.id.padEnd(34)} ${f.entity.name.padEnd(24)} ${aggregation.padEnd(22)} ${n.window.padEnd(5)} ${filter}`;
}

/**
 * `vigil features validate|apply|list|definitions|rollback|show`: the feature definitions the
 * score function computes (a versioned document in the config table, like the rules) and the
 * values it has computed for an entity.
 */
export function registerFeatureCommands(program: Command): void {
  const features = program
    .command("features")
    .description("Define windowed behaviour features and inspect an entity's current values");

  features
    .command("validate")
    .description("Check a feature set file (YAML or JSON) without writing anything; needs no stack")
    .argument("<file>", "feature set: { features: [...] }")
    .action(async (path: string) => {
      const file = readFile(path);
      await runConfigCommand(async () => {
        const set = compileFeatureDocument(file.document);
        say(
          `${path}: valid: ${set.features.length} feature(s) over ${set.groups.length} entity type(s); feature set version ${set.version}.`,
        );
        process.stdout.write(
          `${JSON.stringify({ valid: true, features: set.features.length, version: set.version })}\n`,
        );
      }, file);
    });

  withChangeFlags(
    features
      .command("apply")
      .description(
        "Validate and store a feature set as the next version; the score function computes it after its next config reload",
      )
      .argument("<file>", "feature set (YAML or JSON)"),
  ).action(async (path: string, opts: ChangeFlags) => {
    const file = readFile(path);
    await runConfigCommand(async () => {
      const store = configStore();
      const before = compileFeatureDocument((await featuresInForce(store)).document);
      const info = await applyDocument(store, "features", file.document, changeOptions(opts));
      const after = compileFeatureDocument(file.document);
      const kept = new Set(before.features.map((f) => f.stateKey));
      const fresh = after.features.filter((f) => !kept.has(f.stateKey)).map((f) => f.id);
      say(`Applied ${path} as features version ${info.version} (by ${info.author}).`);
      if (fresh.length > 0) {
        say(
          `New or changed, starting from empty state and filling up over their window: ${fresh.join(", ")}.`,
        );
      }
      process.stdout.write(`${JSON.stringify({ ...info, featureSetVersion: after.version, fresh })}\n`);
    }, file);
  });

  features
    .command("list")
    .description("List the features in force, or with --versions the stored versions of the feature set")
    .option("--versions", "list document versions (newest first) instead of features")
    .option("--limit <n>", "at most this many versions", "20")
    .option("--json", "one JSON object per line")
    .action(async (opts: { versions?: boolean; limit: string; json?: boolean }) => {
      await runConfigCommand(async () => {
        const store = configStore();
        if (opts.versions) {
          await printVersions(store, "features", opts);
          return;
        }
        const current = await featuresInForce(store);
        const set = compileFeatureDocument(current.document);
        say(
          current.version === 0
            ? `Built-in default feature set (none applied), version ${set.version}:`
            : `Features version ${current.version}, feature set version ${set.version}:`,
        );
        for (const f of set.features) {
          process.stdout.write(
            opts.json
              ? `${JSON.stringify({ ...f.normalized, entity: f.entity.name })}\n`
              : `${describeFeature(f)}\n`,
          );
        }
      });
    });

  features
    .command("definitions")
    .description("Print the feature set (YAML) ready to edit and apply")
    .option("--version <n>", "a stored version instead of the one in force (0: the built-in default)")
    .option("--default", "the built-in default feature set; needs no stack")
    .option("--json", "JSON instead of YAML")
    .action(async (opts: { version?: string; default?: boolean; json?: boolean }) => {
      await runConfigCommand(async () => {
        const version = opts.default ? 0 : versionOption(opts.version, "--version");
        // Version 0 is the built-in set: no table needed.
        const current =
          version === 0
            ? { version: 0, document: DEFAULT_FEATURE_SET }
            : await featuresInForce(configStore(), version);
        say(`# features version ${current.version}${current.version === 0 ? " (built-in default)" : ""}`);
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(current.document, null, 2)}\n`
            : toYaml(current.document, { lineWidth: 110 }),
        );
      });
    });

  withChangeFlags(
    features
      .command("rollback")
      .description(
        "Restore an earlier feature set exactly, as a new version (history is kept); refused when it drops a feature the rules or model in force read",
      )
      .requiredOption("--to <n>", "the version to restore"),
  ).action(async (opts: ChangeFlags & { to: string }) => {
    await runConfigCommand(async () => {
      const to = versionOption(opts.to, "--to") ?? 0;
      const info = await rollback(configStore(), "features", to, changeOptions(opts));
      say(`Features version ${info.version} restores version ${to}.`);
      process.stdout.write(`${JSON.stringify(info)}\n`);
    });
  });

  features
    .command("show")
    .description(
      "Print an entity's current values of the features in force (e.g. `features show deviceId dev-42`), with the IP dataset and exchange rates they use; without an entity, only those",
    )
    .argument(
      "[entityType]",
      "userId, ip, deviceId, cardFingerprint, phone, a derived key (email.canonical, ip.prefix, ...), or a combination like deviceId+campaignId",
    )
    .argument("[values...]", "the key value(s), one per field of the entity type")
    .action(async (entityType: string | undefined, values: string[]) => {
      const target = resolveTarget();
      const client = createDynamoDbClient(target.env);
      await runConfigCommand(async () => {
        // The score function's feature set: state is stored under each definition's hash.
        const config = new DynamoDbConfigStore(client, target.table("config"));
        const current = await featuresInForce(config);
        const rates = await ratesInForce(config);
        const set = withCurrencyConverter(compileFeatureDocument(current.document), rates?.converter);
        const ip = shippedIpEnrichment().dataset;
        const datasets = {
          ipDataset: {
            source: ip.source,
            date: ip.date,
            licence: ip.licence,
            usedByFeatures: set.ipDataset !== undefined,
          },
          rates: rates ? rates.converter.label : null,
        };
        say(
          `IP dataset: ${ip.source}, data of ${ip.date}${set.ipDataset ? "" : " (no feature in force uses it)"}.`,
        );
        say(rates ? `Exchange rates: ${rates.converter.label}.` : "Exchange rates: none applied.");
        if (entityType === undefined) {
          process.stdout.write(
            `${JSON.stringify({ featuresVersion: current.version, ...datasets }, null, 2)}\n`,
          );
          return;
        }
        const store = new DynamoDbStateStore({ client, tableName: target.table("state"), features: set });
        let reading: Awaited<ReturnType<DynamoDbStateStore["read"]>>;
        try {
          reading = await store.read(entityType, values);
        } catch (error) {
          if (error instanceof RangeError) throw new CliError(error.message, CONFIG_EXIT.invalid);
          throw error;
        }
        process.stdout.write(
          `${JSON.stringify({ featuresVersion: current.version, ...datasets, ...reading }, null, 2)}\n`,
        );
        if (!reading.exists) throw new CliError(`no state for ${entityType} ${values.join(" ")}`, 3);
      });
    });
}

/** The exchange rates in force, compiled, or undefined when none were applied. */
async function ratesInForce(store: ConfigStore) {
  const current = await currentDocument(store, "rates");
  return current.document === undefined ? undefined : compileRatesDocument(current.document, current.version);
}
