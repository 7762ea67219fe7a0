/**
 * CDK entry point (`cdk.json` runs it with tsx). Context comes from cdk.json and `-c` flags; the
 * account and region from the CLI's current credentials when there are any.
 */
import { App } from "aws-cdk-lib";
import { buildVigilApp } from "#infra/vigil-app";

const app = new App();
buildVigilApp(app, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
