import { type App, type Environment, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { readSettings } from "#infra/settings";
import { VigilStack } from "#infra/vigil-stack";

/** Options of {@link buildVigilApp}. */
export interface VigilAppOptions {
  /**
   * Account and region to deploy to when the context pins none (`vigil:account`, `vigil:region`,
   * `vigil:environments`); a pinned value wins.
   * @default - environment-agnostic (resolved by CloudFormation at deploy time)
   */
  readonly env?: Environment;
}

/**
 * Adds Vigil to a CDK app: registers the cdk-nag AWS Solutions checks (verbose) on the whole app and
 * creates the stack from the app's context settings (profile and overrides). `infra/app.ts`, the
 * cost model and the infra tests all build the app through this function, so they see exactly what
 * `cdk synth` and `cdk deploy` produce.
 */
export function buildVigilApp(app: App, options: VigilAppOptions = {}): VigilStack {
  // cdk-nag 3 is a policy validation plugin (not an Aspect): it runs after synthesis, fails it on any
  // unacknowledged error and lists every finding in the cloud assembly's policy-validation-report.json.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const settings = readSettings(app.node);
  const account = settings.env.account ?? options.env?.account;
  const region = settings.env.region ?? options.env?.region;
  return new VigilStack(app, settings.stackName, {
    env: account === undefined && region === undefined ? undefined : { account, region },
    settings,
    description: `Vigil: serverless real-time risk control (Kinesis, Lambda, DynamoDB), ${settings.profile} profile`,
    tags: { ...settings.tags },
  });
}
