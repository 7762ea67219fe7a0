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
import { cdkJsonContext, synthesizeVigil } from "./synth-vigil.ts";

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

const vigil = synthesizeVigil();
afterAll(() => vigil.dispose());

/** Every `Validations.of(...).acknowledge(...)` in the tree, from the metadata it records. */
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
      ),
  );
}

describe("cdk-nag AWS Solutions checks", () => {
  it("report no violation, error or warning, in the synthesized app's validation report", () => {
    // The report lists only plugins with findings: an empty list means cdk-nag (and CDK's built-in
    // CloudFormation validation) found nothing. The synthesis-failure test below shows cdk-nag ran.
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

  it("find nothing when run directly on the app tree (warnings included)", () => {
    const result = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(vigil.app);
    expect(result.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
    expect(result.success).toBe(true);
  });

  it("leave no error or warning annotation on the stack", () => {
    const annotations = Annotations.fromStack(vigil.stack);
    expect(annotations.findError("*", Match.stringLikeRegexp("AwsSolutions-.*"))).toEqual([]);
    expect(annotations.findWarning("*", Match.stringLikeRegexp("AwsSolutions-.*"))).toEqual([]);
    expect(annotations.findError("*", Match.anyValue())).toEqual([]);
    expect(annotations.findWarning("*", Match.anyValue())).toEqual([]);
  });

  it("fail synthesis when a resource breaks a rule (the checks are registered by buildVigilApp)", () => {
    const app = new App({
      builtinCloudFormationValidation: false,
      context: { ...cdkJsonContext(), [CDK_APP_MODE_CONTEXT]: "inmemory" },
    });
    const stack = buildVigilApp(app);
    new Queue(stack, "PlainQueue", { encryption: QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  describe("acknowledgements", () => {
    const rules = acknowledgedRules(vigil.app);
    const docs = readFileSync(new URL("../../docs/infra.md", import.meta.url), "utf8");

    it("exist only for AwsSolutions rules, each on a single resource's subtree, never on the app or stack", () => {
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) {
        expect(rule.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
        expect(rule.path.split("/").length).toBeGreaterThan(2);
      }
    });

    it("each give a specific reason", () => {
      for (const rule of rules)
        expect(rule.reason.length, `${rule.id} at ${rule.path}`).toBeGreaterThanOrEqual(80);
    });

    it("are all listed in docs/infra.md", () => {
      for (const id of new Set(rules.map((r) => r.id))) expect(docs, id).toContain(`\`${id}\``);
    });
  });
});
