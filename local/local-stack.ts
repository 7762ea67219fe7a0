import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { bootstrapResources, type LocalResourceNames, resourceEnv, resourceNames } from "#local/bootstrap";
import { type Emulators, startEmulators } from "#local/emulators";
import { prepareLocalSinks } from "#local/local-sinks";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { seedDefaultConfig } from "#shared/adapters/config-files";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";

/** Default directory (relative to the working directory) for local stack data, logs and checkpoints. */
export const DEFAULT_STATE_DIR = ".vigil";
/** Default resource name prefix for the local stack. */
export const DEFAULT_PREFIX = "vigil-local";

export interface LocalStackOptions {
  /** Data, logs, checkpoints and the env file live here. Default `.vigil`. */
  readonly stateDir?: string;
  /** Keep engine data on disk so a restarted stack finds its streams, tables and items again. */
  readonly persist?: boolean;
  readonly prefix?: string;
  /** Write the shipped default rules, lists and model to an empty config table. Default true. */
  readonly seedConfig?: boolean;
  readonly log?: (message: string) => void;
}

/** A running local stack: engines up and every resource of `shared/resources.ts` created. */
export interface LocalStack {
  readonly stateDir: string;
  readonly emulators: Emulators;
  readonly names: LocalResourceNames;
  /** SDK standard variables plus the `VIGIL_*` resource names: what a function or tool needs. */
  readonly env: Readonly<Record<string, string>>;
  /** Path of the sourceable env file written by {@link writeEnvFile}. */
  readonly envFile: string;
  stop(): Promise<void>;
}

/** Shell-quotes a value for a `KEY='value'` line. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * Writes `export KEY='value'` lines that a shell can `source` and that `vigil` tools read back,
 * so other terminals talk to the same engines through the SDK's standard variables.
 */
export function writeEnvFile(path: string, env: Readonly<Record<string, string>>): void {
  const lines = [
    "# Written by `vigil local up`: source it to point the AWS SDK and CLI at the local stack.",
    ...Object.entries(env).map(([key, value]) => `export ${key}=${shellQuote(value)}`),
    "",
  ];
  writeFileSync(path, lines.join("\n"), { mode: 0o600 });
}

/** Starts the engines, creates every resource and writes `<stateDir>/local.env`. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? (() => {});
  const stateDir = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
  mkdirSync(stateDir, { recursive: true });
  const emulators = await startEmulators({
    dataDir: join(stateDir, "data"),
    persist: options.persist ?? false,
    log,
  });
  try {
    const names = resourceNames(options.prefix ?? DEFAULT_PREFIX);
    const kinesis = createKinesisClient({ env: emulators.awsEnv });
    const dynamodb = createDynamoDbClient(emulators.awsEnv);
    await bootstrapResources({ kinesis, dynamodb }, names, log);
    if (options.seedConfig ?? true) {
      const seeded = await seedDefaultConfig(new DynamoDbConfigStore(dynamodb, names.tables.config), {
        author: "vigil local up",
        now: new Date().toISOString(),
      });
      for (const v of seeded) log(`config ${v.kind} v${v.version} seeded from the shipped defaults`);
    }
    kinesis.destroy();
    dynamodb.destroy();
    // The key file and the alert/audit directories stand in for Secrets Manager, SNS and OpenSearch.
    const env = { ...emulators.awsEnv, ...resourceEnv(names), ...prepareLocalSinks(stateDir) };
    const envFile = join(stateDir, "local.env");
    writeEnvFile(envFile, env);
    return { stateDir, emulators, names, env, envFile, stop: () => emulators.stop() };
  } catch (error) {
    await emulators.stop();
    throw error;
  }
}
