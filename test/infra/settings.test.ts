import { App } from "aws-cdk-lib";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { afterAll, describe, expect, it } from "vitest";
import { CONTEXT_KEYS, readSettings } from "#infra/settings";
import { DEFAULT_ALERT_POLICY } from "#shared/domain/alerts/alert-policy";
import { ENV } from "#shared/resources";
import { synthesizeVigil } from "./synth-vigil.ts";

const settingsOf = (context: Record<string, unknown>) => readSettings(new App({ context }).node);

const DEFAULT_ALERTS = {
  emails: [],
  phones: [],
  smsSeverities: ["critical"],
  emailSeverities: ["high", "critical"],
  policyJson: undefined,
  policy: DEFAULT_ALERT_POLICY,
};
const DEFAULT_AUDIT = {
  instanceType: "t3.small.search",
  dataNodes: 1,
  volumeGiB: 10,
  retentionDays: 90,
  readerRoleArns: [],
};

describe("readSettings", () => {
  it("has safe defaults", () => {
    expect(settingsOf({})).toEqual({
      stackName: "Vigil",
      logRetention: RetentionDays.ONE_MONTH,
      logLevel: "INFO",
      decisionRetentionDays: 90,
      tableDeletionProtection: true,
      alerts: DEFAULT_ALERTS,
      audit: DEFAULT_AUDIT,
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
      alerts: DEFAULT_ALERTS,
      audit: DEFAULT_AUDIT,
    });
  });

  it("reads alert subscriptions, routing and policy, and the audit domain sizing", () => {
    const policy = { rules: [{ actions: ["block"], severity: "critical" }] };
    const settings = settingsOf({
      [CONTEXT_KEYS.alertEmails]: "a@x.com, b@y.com",
      [CONTEXT_KEYS.alertPhones]: "+15550100",
      [CONTEXT_KEYS.alertSmsSeverities]: "high,critical",
      [CONTEXT_KEYS.alertEmailSeverities]: "medium,high,critical",
      [CONTEXT_KEYS.alertPolicy]: JSON.stringify(policy),
      [CONTEXT_KEYS.auditInstanceType]: "r7g.large.search",
      [CONTEXT_KEYS.auditDataNodes]: "3",
      [CONTEXT_KEYS.auditVolumeGiB]: "200",
      [CONTEXT_KEYS.auditRetentionDays]: "365",
      [CONTEXT_KEYS.auditReaderRoleArns]: "arn:aws:iam::123456789012:role/analyst",
    });
    expect(settings.alerts).toMatchObject({
      emails: ["a@x.com", "b@y.com"],
      phones: ["+15550100"],
      smsSeverities: ["high", "critical"],
      emailSeverities: ["medium", "high", "critical"],
      policyJson: JSON.stringify(policy),
    });
    expect(settings.alerts.policy.rules).toEqual(policy.rules);
    expect(settings.audit).toEqual({
      instanceType: "r7g.large.search",
      dataNodes: 3,
      volumeGiB: 200,
      retentionDays: 365,
      readerRoleArns: ["arn:aws:iam::123456789012:role/analyst"],
    });
  });

  it.each([
    [CONTEXT_KEYS.stackName, "1vigil"],
    [CONTEXT_KEYS.logRetentionDays, 31],
    [CONTEXT_KEYS.logLevel, "LOUD"],
    [CONTEXT_KEYS.decisionRetentionDays, 0],
    [CONTEXT_KEYS.tableDeletionProtection, "no"],
    [CONTEXT_KEYS.alertEmails, "not-an-email"],
    [CONTEXT_KEYS.alertPhones, "5550100"],
    [CONTEXT_KEYS.alertSmsSeverities, "urgent"],
    [CONTEXT_KEYS.alertPolicy, '{"rules":[{"actions":["explode"]}]}'],
    [CONTEXT_KEYS.auditInstanceType, "large"],
    [CONTEXT_KEYS.auditDataNodes, 0],
    [CONTEXT_KEYS.auditReaderRoleArns, "arn:aws:iam::1:user/x"],
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
