import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { CliError } from "#cli/output";
import type { AwsEnv } from "#shared/adapters/aws-clients";
import { STACK_ENV_VAR, STACK_OUTPUTS, type StackOutputKey } from "#shared/stack-outputs";

/** A deployed stack's Outputs and the `VIGIL_*` variables they stand for. */
export interface StackOutputs {
  readonly stackName: string;
  /** Every output of the stack, by key. */
  readonly outputs: Readonly<Record<string, string>>;
  /** The variables the CLI reads (`VIGIL_EVENTS_STREAM`, `VIGIL_CONFIG_TABLE`, ...), from the outputs that name them. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The CloudFormation client, configured from the SDK's standard variables: with the process
 * environment the SDK reads them itself; an explicit environment (a test) sets the endpoint
 * (`AWS_ENDPOINT_URL_CLOUDFORMATION`, then `AWS_ENDPOINT_URL`), region and credentials the same way.
 */
export function createCloudFormationClient(env: AwsEnv = process.env): CloudFormationClient {
  if (env === process.env) return new CloudFormationClient({ maxAttempts: 5 });
  const endpoint = env.AWS_ENDPOINT_URL_CLOUDFORMATION ?? env.AWS_ENDPOINT_URL;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  return new CloudFormationClient({
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    maxAttempts: 5,
  });
}

/**
 * Reads a Vigil stack's Outputs with DescribeStacks (in the SDK's configured account and region)
 * and maps those that name a resource the CLI needs to their variables (`shared/stack-outputs.ts`).
 * A missing stack, or one without the Vigil outputs, is a {@link CliError} that says so; other
 * failures are reported by error name and code only.
 */
export async function loadStackOutputs(
  stackName: string,
  options: { readonly env?: AwsEnv; readonly client?: Pick<CloudFormationClient, "send"> } = {},
): Promise<StackOutputs> {
  const client = options.client ?? createCloudFormationClient(options.env);
  let outputs: Record<string, string>;
  try {
    const response = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const [stack] = response.Stacks ?? [];
    if (!stack) throw new CliError(`CloudFormation returned no stack named ${stackName}`);
    outputs = Object.fromEntries(
      (stack.Outputs ?? []).flatMap((o) =>
        o.OutputKey !== undefined && o.OutputValue !== undefined ? [[o.OutputKey, o.OutputValue]] : [],
      ),
    );
  } catch (error) {
    if (error instanceof CliError) throw error;
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === "ValidationError" && /does not exist/.test(e.message ?? ""))
      throw new CliError(
        `stack ${stackName} does not exist in this account and region (AWS_REGION, AWS_PROFILE); check --stack or ${STACK_ENV_VAR}`,
      );
    throw new CliError(
      `cannot read the outputs of stack ${stackName}: ${e.name ?? "Error"}${e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ""}`,
    );
  } finally {
    if (!options.client) (client as CloudFormationClient).destroy();
  }
  const env: Record<string, string> = {};
  for (const [key, definition] of Object.entries(STACK_OUTPUTS) as Array<
    [StackOutputKey, (typeof STACK_OUTPUTS)[StackOutputKey]]
  >) {
    const value = outputs[key];
    if (definition.envVar !== null && value !== undefined) env[definition.envVar] = value;
  }
  if (Object.keys(env).length === 0)
    throw new CliError(`stack ${stackName} has none of Vigil's outputs: is it a Vigil stack?`);
  return { stackName, outputs, env };
}
