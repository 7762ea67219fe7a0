import { type App, type Environment, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { readSettings } from "#infra/settings";
import { VigilStack } from "#infra/vigil-stack";

/** Options of {@link buildVigilApp}. */
export interface VigilAppOptions {
  /**
   * Account and region to deploy to.
   * @default - environment-agnostic (resolved by CloudFormation at deploy time)
   */
  readonly env?: Environment;
}

/**
 * Adds Vigil to a CDK app: registers the cdk-nag AWS Solutions checks (verbose) on the whole app and
 * creates the stack from the app's context settings. `infra/app.ts` and the infra tests both build the
 * app through this function, so the tests check exactly what `cdk synth` and `cdk deploy` produce.
 */
export function buildVigilApp(app: App, options: VigilAppOptions = {}): VigilStack {
  // cdk-nag 3 is a policy validation plugin (not an Aspect): it runs after synthesis, fails it on any
  // unacknowledged error and lists every finding in the cloud assembly's policy-validation-report.json.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const settings = readSettings(app.node);
  return new VigilStack(app, settings.stackName, {
    env: options.env,
    settings,
    description: "Vigil: serverless real-time risk control (Kinesis, Lambda, DynamoDB)",
    tags: { project: "vigil" },
  });
}
