import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App, type CfnElement, type Environment, type Stack } from "aws-cdk-lib";
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
  /** The template as JSON. */
  readonly resources: Record<string, CfnResourceJson>;
  /** Directory of the cloud assembly (templates, assets, validation report). */
  readonly assemblyDir: string;
  /** Deletes the assembly directory. */
  readonly dispose: () => void;
}

/** A resource of a synthesized template. */
export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly DependsOn?: string | string[];
}

/** The context of the repository's cdk.json: the feature flags `cdk synth` runs with. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson: unknown = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8"));
  if (typeof cdkJson !== "object" || cdkJson === null || !("context" in cdkJson)) {
    throw new Error("cdk.json has no context");
  }
  return cdkJson.context as Record<string, unknown>;
}

/** The environments every profile is synthesized in: agnostic, and a concrete account in two regions. */
export const ENVIRONMENTS: ReadonlyArray<{ readonly name: string; readonly env: Environment | undefined }> = [
  { name: "environment-agnostic", env: undefined },
  { name: "123456789012 eu-central-1", env: { account: "123456789012", region: "eu-central-1" } },
  { name: "123456789012 us-west-2", env: { account: "123456789012", region: "us-west-2" } },
];

/** Profile variants the tests cover: both profiles, each with and without the audit domain. */
export const PROFILE_VARIANTS: ReadonlyArray<{
  readonly name: string;
  readonly context: Record<string, unknown>;
}> = [
  { name: "dev", context: { "vigil:profile": "dev" } },
  { name: "dev with an audit domain", context: { "vigil:profile": "dev", "vigil:audit": "opensearch" } },
  { name: "prod", context: { "vigil:profile": "prod" } },
  { name: "prod without an audit domain", context: { "vigil:profile": "prod", "vigil:audit": "none" } },
];

/** Options of {@link synthesizeVigil}. */
export interface SynthesizeOptions {
  /** Context on top of cdk.json's. */
  readonly context?: Record<string, unknown>;
  /** The environment `infra/app.ts` would take from the CLI. */
  readonly env?: Environment;
  /**
   * Whether CDK's built-in CloudFormation template validation runs, as it does in `cdk synth`. It does
   * not change the template and costs seconds per synthesis, so only the validation tests need it.
   * @default false
   */
  readonly cloudFormationValidation?: boolean;
  /**
   * Whether the functions are bundled (seconds each). Without, assets are placeholders and the
   * template is otherwise the same.
   * @default false
   */
  readonly bundling?: boolean;
}

/**
 * Builds the app with cdk.json's context, through the same `buildVigilApp` as `infra/app.ts` (cdk-nag
 * included), and synthesizes it once.
 */
export function synthesizeVigil(options: SynthesizeOptions = {}): SynthesizedVigil {
  const outdir = mkdtempSync(path.join(tmpdir(), "vigil-infra-test-"));
  const app = new App({
    outdir,
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
    // In-memory mode makes a failed validation (cdk-nag error) throw with the full report,
    // whatever NODE_ENV the test runner sets.
    context: {
      ...cdkJsonContext(),
      [CDK_APP_MODE_CONTEXT]: "inmemory",
      // What `cdk deploy --exclusively` uses to skip bundling: no stack is bundled.
      ...(options.bundling ? {} : { "aws:cdk:bundling-stacks": [] }),
      ...options.context,
    },
  });
  const stack = buildVigilApp(app, { env: options.env });
  const template = Template.fromStack(stack);
  return {
    app,
    stack,
    template,
    resources: template.toJSON().Resources as Record<string, CfnResourceJson>,
    assemblyDir: app.synth().directory,
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** The CloudFormation logical id of a construct's default resource (an L2) or of an L1. */
export function logicalIdOf(stack: Stack, construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return stack.resolve(element.logicalId) as string;
}

/** An IAM policy statement as the template holds it. */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** A value or list as a list. */
export const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every statement of every inline policy attached to the role with the given logical id. */
export function statementsOfRole(resources: Record<string, CfnResourceJson>, roleId: string): Statement[] {
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === "AWS::IAM::Policy" &&
        asArray(r.Properties.Roles as unknown[]).some(
          (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }),
        ),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** The actions the statements allow on exactly the given resource. */
export function actionsOn(statements: readonly Statement[], resource: unknown): Set<string> {
  const wanted = JSON.stringify(resource);
  return new Set(
    statements
      .filter((s) => s.Effect === "Allow" && asArray(s.Resource).some((r) => JSON.stringify(r) === wanted))
      .flatMap((s) => asArray(s.Action)),
  );
}

/** `{"Fn::GetAtt": [id, "Arn"]}`. */
export const getAtt = (logicalId: string, attribute = "Arn") => ({ "Fn::GetAtt": [logicalId, attribute] });

/** The properties of the resource with a logical id; throws when the template has no such resource. */
export function propertiesOf(
  resources: Record<string, CfnResourceJson>,
  logicalId: string,
): Record<string, unknown> {
  const resource = resources[logicalId];
  if (!resource) throw new Error(`the template has no resource ${logicalId}`);
  return resource.Properties;
}
