import { CliError, say } from "#cli/output";
import { loadStackOutputs, type StackOutputs } from "#cli/stack-outputs";
import { DEFAULT_STATE_DIR } from "#local/local-stack";
import { readStatus } from "#local/supervisor";
import type { AwsEnv } from "#shared/adapters/aws-clients";
import { STREAMS, type StreamKey, TABLES, type TableKey } from "#shared/resources";
import { STACK_ENV_VAR } from "#shared/stack-outputs";

/** Where a CLI command sends its requests: the SDK's standard variables plus `VIGIL_*` names. */
export interface CliTarget {
  readonly env: Readonly<Record<string, string | undefined>>;
  table(key: TableKey): string;
  stream(key: StreamKey): string;
}

/** The deployed stack the CLI works on, once its outputs are loaded (`--stack`, `VIGIL_STACK`). */
let stack: StackOutputs | undefined;

/**
 * Loads a deployed stack's Outputs (DescribeStacks) so that {@link resolveTarget} takes resource
 * names from them. `vigil` calls it before any command when `--stack <name>` or `VIGIL_STACK` is
 * given; tests call it with an explicit environment.
 */
export async function useStack(stackName: string, env: AwsEnv = process.env): Promise<StackOutputs> {
  stack = await loadStackOutputs(stackName, { env });
  return stack;
}

/** Forgets a stack loaded with {@link useStack}. */
export function forgetStack(): void {
  stack = undefined;
}

/**
 * The environment a command runs against:
 *
 * - with a stack named (`--stack`, `VIGIL_STACK`), its Outputs give the resource names; a `VIGIL_*`
 *   variable set in this shell still wins over the output for the same name;
 * - otherwise, if this shell sets no endpoint and no Vigil resource names but a local stack is
 *   running (`vigil local up`), its environment is used and that is said on stderr;
 * - otherwise the process environment is used as it is (LocalStack, AWS with exported names).
 */
export function resolveTarget(stateDir: string = DEFAULT_STATE_DIR): CliTarget {
  const named = process.env[STACK_ENV_VAR];
  if (named && !stack)
    throw new CliError(`${STACK_ENV_VAR}=${named} is set but the stack's outputs were not loaded`);
  let env: Readonly<Record<string, string | undefined>> = process.env;
  if (stack) {
    const fromStack = Object.fromEntries(Object.entries(stack.env).filter(([name]) => !process.env[name]));
    env = { ...process.env, ...fromStack };
    say(`(using the outputs of stack ${stack.stackName})`);
  } else {
    const configured =
      Object.values(TABLES).some((t) => process.env[t.envVar]) || process.env.AWS_ENDPOINT_URL;
    if (!configured) {
      const status = readStatus(stateDir);
      if (status) {
        env = { ...process.env, ...status.env };
        say(`(using the local stack from ${status.envFile})`);
      }
    }
  }
  const need = (envVar: string, what: string): string => {
    const value = env[envVar];
    if (!value) {
      throw new CliError(
        `${envVar} is not set, so the ${what} is unknown. Name your deployment with --stack <name> (or ${STACK_ENV_VAR}), start a local stack (npx vigil local up), or export the names of your deployment's resources (see README, "Deploying to AWS").`,
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
