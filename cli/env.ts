import { CliError, say } from "#cli/output";
import { DEFAULT_STATE_DIR } from "#local/local-stack";
import { readStatus } from "#local/supervisor";
import { STREAMS, type StreamKey, TABLES, type TableKey } from "#shared/resources";

/** Where a CLI command sends its requests: the SDK's standard variables plus `VIGIL_*` names. */
export interface CliTarget {
  readonly env: Readonly<Record<string, string | undefined>>;
  table(key: TableKey): string;
  stream(key: StreamKey): string;
}

/**
 * The environment a command runs against. If this shell sets no endpoint and no Vigil resource
 * names but a local stack is running (`vigil local up`), its environment is used and that is said
 * on stderr; otherwise the process environment is used as it is (LocalStack, AWS).
 */
export function resolveTarget(stateDir: string = DEFAULT_STATE_DIR): CliTarget {
  const configured = Object.values(TABLES).some((t) => process.env[t.envVar]) || process.env.AWS_ENDPOINT_URL;
  let env: Readonly<Record<string, string | undefined>> = process.env;
  if (!configured) {
    const status = readStatus(stateDir);
    if (status) {
      env = { ...process.env, ...status.env };
      say(`(using the local stack from ${status.envFile})`);
    }
  }
  const need = (envVar: string, what: string): string => {
    const value = env[envVar];
    if (!value) {
      throw new CliError(
        `${envVar} is not set, so the ${what} is unknown. Start a local stack (npx vigil local up) or export the names of your deployment's resources (see README, "Deploying to AWS").`,
      );
    }
    return value;
  };
  return {
    env,
    table: (key) => need(TABLES[key].envVar, `${key} table`),
    stream: (key) => need(STREAMS[key].envVar, `${key} stream`),
  };
}
