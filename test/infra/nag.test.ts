import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { Annotations, Match } from "aws-cdk-lib/assertions";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { CDK_APP_MODE_CONTEXT, VALIDATION_REPORT_FILE } from "aws-cdk-lib/cx-api";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { afterAll, describe, expect, it } from "vitest";
import { buildVigilApp } from "#infra/vigil-app";
import { cdkJsonContext, ENVIRONMENTS, PROFILE_VARIANTS, synthesizeVigil } from "./synth-vigil.ts";

interface ValidationReport {
  readonly pluginReports: ReadonlyArray<{
    readonly pluginName: string;
    readonly violations: ReadonlyArray<{
      readonly ruleName: string;
      readonly severity: string;
      readonly violatingConstructs: ReadonlyArray<{ readonly constructPath: string }>;
    }>;
  }>;
}

interface AcknowledgedRule {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/**
 * Every cdk-nag acknowledgement in the tree (`Validations.of(...).acknowledge(...)`), from the
 * metadata it records. aws-cdk-lib acknowledges findings of its own built-in CloudFormation
 * validation on some of its constructs (`CloudFormation-Validate::*`); those are not Vigil's.
 */
function acknowledgedRules(root: IConstruct): AcknowledgedRule[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          // aws-cdk-lib records the rule id under its annotation namespace.
          id: id.replace(/^annotation::/i, ""),
          reason,
        })),
      )
      .filter((rule) => !rule.id.startsWith("CloudFormation-Validate::")),
  );
}

/**
 * What cdk-nag finds with every acknowledgement ignored: the same checks, with the pack's
 * acknowledgement lookup answering "no" (the pack keeps it as a private method).
 */
function unacknowledgedFindings(root: IConstruct): Array<{ rule: string; paths: string[] }> {
  const pack = new AwsSolutionsChecks(undefined, { verbose: false });
  (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  return pack.validateScope(root).violations.map((v) => ({
    rule: v.ruleName,
    paths: v.violatingResources.flatMap((r) => (r.constructPath ? [r.constructPath] : [])),
  }));
}

/** An environment-specific id written as the environment-agnostic one, to compare with the docs. */
const agnosticId = (id: string) =>
  id
    .replace(/arn:aws:/g, "arn:<AWS::Partition>:")
    .replace(/:(eu-central-1|us-west-2):/g, ":<AWS::Region>:")
    .replace(/:123456789012:/g, ":<AWS::AccountId>:");

const docs = readFileSync(new URL("../../docs/infra.md", import.meta.url), "utf8");

for (const variant of PROFILE_VARIANTS) {
  for (const environment of ENVIRONMENTS) {
    describe(`cdk-nag, ${variant.name}, ${environment.name}`, () => {
      const vigil = synthesizeVigil({ context: variant.context, env: environment.env });
      afterAll(() => vigil.dispose());

      it("synthesizes with no violation, error or warning in the validation report", () => {
        // The report lists only plugins with findings: an empty list means cdk-nag found nothing.
        const reportFile = path.join(vigil.assemblyDir, VALIDATION_REPORT_FILE);
        expect(existsSync(reportFile)).toBe(true);
        const report = JSON.parse(readFileSync(reportFile, "utf8")) as ValidationReport;
        const violations = report.pluginReports.flatMap((r) =>
          r.violations.map(
            (v) => `${v.severity} ${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath)}`,
          ),
        );
        expect(violations).toEqual([]);
      });

      it("leaves no error or warning annotation (no context lookup that needs credentials)", () => {
        const annotations = Annotations.fromStack(vigil.stack);
        expect(annotations.findError("*", Match.anyValue())).toEqual([]);
        expect(annotations.findWarning("*", Match.anyValue())).toEqual([]);
        expect(vigil.app.synth().manifest.missing ?? []).toEqual([]);
      });

      describe("acknowledgements", () => {
        const rules = acknowledgedRules(vigil.app);
        const findings = unacknowledgedFindings(vigil.app);

        it("are each true of this template: the rule fires on the acknowledged resource without it", () => {
          for (const rule of rules) {
            const fired = findings.some(
              (f) =>
                f.rule === rule.id && f.paths.some((p) => p === rule.path || p.startsWith(`${rule.path}/`)),
            );
            expect(fired, `${rule.id} acknowledged at ${rule.path} but not found there`).toBe(true);
          }
        });

        it("cover every finding (the validation passes only through them)", () => {
          for (const finding of findings)
            for (const p of finding.paths)
              expect(
                rules.some((r) => r.id === finding.rule && (p === r.path || p.startsWith(`${r.path}/`))),
                `${finding.rule} at ${p}`,
              ).toBe(true);
        });

        it("exist only for AwsSolutions rules, each on a single resource's subtree, never on the app or stack", () => {
          for (const rule of rules) {
            expect(rule.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
            expect(rule.path.split("/").length).toBeGreaterThan(2);
          }
        });

        it("each give a specific reason, listed in docs/infra.md", () => {
          for (const rule of rules) {
            expect(rule.reason.length, `${rule.id} at ${rule.path}`).toBeGreaterThanOrEqual(80);
            expect(docs, rule.id).toContain(`\`${agnosticId(rule.id)}\``);
          }
        });
      });
    });
  }
}

describe("cdk-nag registration", () => {
  it("runs CDK's CloudFormation validation and cdk-nag together without a finding (prod, concrete environment)", () => {
    const vigil = synthesizeVigil({
      context: { "vigil:profile": "prod" },
      env: { account: "123456789012", region: "eu-central-1" },
      cloudFormationValidation: true,
    });
    try {
      const report = path.join(vigil.assemblyDir, VALIDATION_REPORT_FILE);
      expect((JSON.parse(readFileSync(report, "utf8")) as ValidationReport).pluginReports).toEqual([]);
    } finally {
      vigil.dispose();
    }
  });

  it("fails synthesis when a resource breaks a rule (the checks are registered by buildVigilApp)", () => {
    const app = new App({
      builtinCloudFormationValidation: false,
      context: { ...cdkJsonContext(), [CDK_APP_MODE_CONTEXT]: "inmemory", "aws:cdk:bundling-stacks": [] },
    });
    const stack = buildVigilApp(app);
    new Queue(stack, "PlainQueue", { encryption: QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
