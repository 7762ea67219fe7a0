import { App } from "aws-cdk-lib";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { afterAll, describe, expect, it } from "vitest";
import { CONTEXT_KEYS, readSettings } from "#infra/settings";
import { ENV } from "#shared/resources";
import { synthesizeVigil } from "./synth-vigil.ts";

const settingsOf = (context: Record<string, unknown>) => readSettings(new App({ context }).node);

describe("readSettings", () => {
  it("has safe defaults", () => {
    expect(settingsOf({})).toEqual({
      stackName: "Vigil",
      logRetention: RetentionDays.ONE_MONTH,
      logLevel: "INFO",
      decisionRetentionDays: 90,
      tableDeletionProtection: true,
    });
  });

  it("accepts the strings `cdk -c key=value` passes", () => {
    expect(
      settingsOf({
        [CONTEXT_KEYS.stackName]: "Vigil-dev",
        [CONTEXT_KEYS.logRetentionDays]: "7",
        [CONTEXT_KEYS.logLevel]: "DEBUG",
        [CONTEXT_KEYS.decisionRetentionDays]: "30",
        [CONTEXT_KEYS.tableDeletionProtection]: "false",
      }),
    ).toEqual({
      stackName: "Vigil-dev",
      logRetention: RetentionDays.ONE_WEEK,
      logLevel: "DEBUG",
      decisionRetentionDays: 30,
      tableDeletionProtection: false,
    });
  });

  it.each([
    [CONTEXT_KEYS.stackName, "1vigil"],
    [CONTEXT_KEYS.logRetentionDays, 31],
    [CONTEXT_KEYS.logLevel, "LOUD"],
    [CONTEXT_KEYS.decisionRetentionDays, 0],
    [CONTEXT_KEYS.tableDeletionProtection, "no"],
  ])("rejects %s = %j, naming the key", (key, value) => {
    expect(() => settingsOf({ [key]: value })).toThrow(key);
  });
});

describe("context reaches the template", () => {
  const vigil = synthesizeVigil({
    cloudFormationValidation: false,
    context: {
      [CONTEXT_KEYS.stackName]: "VigilTest",
      [CONTEXT_KEYS.logRetentionDays]: 7,
      [CONTEXT_KEYS.logLevel]: "WARN",
      [CONTEXT_KEYS.decisionRetentionDays]: 14,
      [CONTEXT_KEYS.tableDeletionProtection]: false,
    },
  });
  afterAll(() => vigil.dispose());

  it("names the stack", () => {
    expect(vigil.stack.stackName).toBe("VigilTest");
  });

  it("sets log retention, log level and decision retention of the functions", () => {
    vigil.template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: 7 });
    vigil.template.hasResourceProperties("AWS::Lambda::Function", {
      LoggingConfig: { ApplicationLogLevel: "WARN" },
      Environment: { Variables: { [ENV.logLevel]: "WARN", [ENV.decisionRetentionDays]: "14" } },
    });
  });

  it("turns table deletion protection off", () => {
    vigil.template.allResourcesProperties("AWS::DynamoDB::Table", { DeletionProtectionEnabled: false });
  });
});
