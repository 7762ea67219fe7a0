import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App, type CfnElement, type Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { CDK_APP_MODE_CONTEXT } from "aws-cdk-lib/cx-api";
import type { IConstruct } from "constructs";
import { buildVigilApp } from "#infra/vigil-app";
import type { VigilStack } from "#infra/vigil-stack";

/** A synthesized Vigil app, built exactly as `infra/app.ts` builds it. */
export interface SynthesizedVigil {
  readonly app: App;
  readonly stack: VigilStack;
  readonly template: Template;
  /** Directory of the cloud assembly (templates, assets, validation report). */
  readonly assemblyDir: string;
  /** Deletes the assembly directory. */
  readonly dispose: () => void;
}

/** The context of the repository's cdk.json: the feature flags `cdk synth` runs with. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson: unknown = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8"));
  if (typeof cdkJson !== "object" || cdkJson === null || !("context" in cdkJson)) {
    throw new Error("cdk.json has no context");
  }
  return cdkJson.context as Record<string, unknown>;
}

/** Options of {@link synthesizeVigil}. */
export interface SynthesizeOptions {
  /** Context on top of cdk.json's. */
  readonly context?: Record<string, unknown>;
  /**
   * Whether CDK's built-in CloudFormation template validation runs, as it does in `cdk synth`. It does
   * not change the template and costs seconds per synthesis, so only the validation tests need it.
   * @default true
   */
  readonly cloudFormationValidation?: boolean;
}

/**
 * Builds the app with cdk.json's context, through the same `buildVigilApp` as `infra/app.ts` (cdk-nag
 * included), and synthesizes it once (bundling the functions once).
 */
export function synthesizeVigil(options: SynthesizeOptions = {}): SynthesizedVigil {
  const outdir = mkdtempSync(path.join(tmpdir(), "vigil-infra-test-"));
  const app = new App({
    outdir,
    builtinCloudFormationValidation: options.cloudFormationValidation ?? true,
    // In-memory mode makes a failed validation (cdk-nag error) throw with the full report,
    // whatever NODE_ENV the test runner sets.
    context: { ...cdkJsonContext(), [CDK_APP_MODE_CONTEXT]: "inmemory", ...options.context },
  });
  const stack = buildVigilApp(app);
  const template = Template.fromStack(stack);
  return {
    app,
    stack,
    template,
    assemblyDir: app.synth().directory,
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** The CloudFormation logical id of a construct's default resource (an L2) or of an L1. */
export function logicalIdOf(stack: Stack, construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return stack.resolve(element.logicalId) as string;
}
