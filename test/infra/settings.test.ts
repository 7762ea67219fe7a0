import { App } from "aws-cdk-lib";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { afterAll, describe, expect, it } from "vitest";
import { PROFILES } from "#infra/profiles";
import { CONTEXT_KEYS, readSettings } from "#infra/settings";
import { DEFAULT_ALERT_POLICY } from "#shared/domain/alerts/alert-policy";
import { ENV, FUNCTIONS } from "#shared/resources";
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

describe("readSettings", () => {
  it("defaults to the dev profile with safe values", () => {
    expect(settingsOf({})).toEqual({
      profile: "dev",
      stackName: "Vigil",
      env: { account: undefined, region: undefined },
      tags: { project: "vigil", environment: "dev", "vigil-stack": "Vigil" },
      metricsNamespace: "Vigil/Vigil",
      logRetention: RetentionDays.ONE_WEEK,
      logLevel: "INFO",
      decisionRetentionDays: 90,
      data: { retain: false, tableDeletionProtection: false, pointInTimeRecovery: true },
      streams: { mode: "onDemand", shards: { events: 2, decisions: 2 }, retentionHours: 24 },
      tables: { billing: "onDemand", readUnits: 5, writeUnits: 5 },
      consumers: {
        score: { memoryMiB: 512, batchSize: 100, maxRecordAgeSeconds: 3600 },
        alert: { memoryMiB: 256, batchSize: 100, maxRecordAgeSeconds: 86_400 },
        // Capped at the 24-hour retention: the archive retries a record for as long as the stream has it.
        archive: { memoryMiB: 512, batchSize: 1000, maxRecordAgeSeconds: 86_400 },
      },
      alerts: DEFAULT_ALERTS,
      audit: {
        sink: "none",
        instanceType: "t3.small.search",
        dataNodes: 1,
        masterNodes: 0,
        masterInstanceType: "m7g.large.search",
        volumeGiB: 10,
        vpc: false,
        availabilityZones: 1,
        retentionDays: 90,
        readerRoleArns: [],
      },
      operations: { emails: [], phones: [], smsMonthlySpendLimitUSD: 1, quarantineRateAlarmPercent: 5 },
      access: { keyAdminArns: [], operatorPrincipalArns: [] },
    });
  });

  it("takes the prod profile's values, and the definitions' where the profile has none", () => {
    const prod = settingsOf({ [CONTEXT_KEYS.profile]: "prod" });
    expect(prod).toMatchObject({
      data: { retain: true, tableDeletionProtection: true, pointInTimeRecovery: true },
      streams: { mode: "provisioned", shards: { events: 2, decisions: 4 }, retentionHours: 168 },
      logRetention: RetentionDays.THREE_MONTHS,
      audit: { sink: "opensearch", dataNodes: 3, masterNodes: 3, vpc: true, availabilityZones: 3 },
    });
    for (const key of ["score", "alert", "audit"] as const) {
      expect(prod.consumers[key]?.memoryMiB).toBe(FUNCTIONS[key].memoryMiB);
      expect(prod.consumers[key]?.batchSize).toBe(FUNCTIONS[key].eventSource.batchSize);
      expect(prod.consumers[key]?.maxRecordAgeSeconds).toBe(
        Math.min(FUNCTIONS[key].eventSource.maxRecordAgeSeconds, PROFILES.prod.streams.retentionHours * 3600),
      );
    }
  });

  it("accepts the strings `cdk -c key=value` passes, over the profile", () => {
    const s = settingsOf({
      [CONTEXT_KEYS.profile]: "prod",
      [CONTEXT_KEYS.stackName]: "Vigil-dev",
      [CONTEXT_KEYS.logRetentionDays]: "7",
      [CONTEXT_KEYS.logLevel]: "DEBUG",
      [CONTEXT_KEYS.decisionRetentionDays]: "30",
      [CONTEXT_KEYS.tableDeletionProtection]: "false",
      [CONTEXT_KEYS.retainData]: "false",
      [CONTEXT_KEYS.eventsShards]: "8",
      [CONTEXT_KEYS.audit]: "none",
      [CONTEXT_KEYS.account]: "123456789012",
      [CONTEXT_KEYS.region]: "eu-central-1",
      [CONTEXT_KEYS.tags]: '{"cost-center":"42"}',
      [CONTEXT_KEYS.metricsNamespace]: "Risk/Vigil",
    });
    expect(s).toMatchObject({
      stackName: "Vigil-dev",
      logRetention: RetentionDays.ONE_WEEK,
      logLevel: "DEBUG",
      decisionRetentionDays: 30,
      data: { retain: false, tableDeletionProtection: false },
      streams: { shards: { events: 8, decisions: 4 } },
      env: { account: "123456789012", region: "eu-central-1" },
      tags: { project: "vigil", environment: "prod", "vigil-stack": "Vigil-dev", "cost-center": "42" },
      metricsNamespace: "Risk/Vigil",
    });
    expect(s.consumers.audit).toBeUndefined();
  });

  it("pins a profile's account and region, and lets vigil:account and vigil:region win over the pin", () => {
    const environments = { prod: { account: "210987654321", region: "eu-west-1" } };
    expect(
      settingsOf({ [CONTEXT_KEYS.profile]: "prod", [CONTEXT_KEYS.environments]: environments }).env,
    ).toEqual(environments.prod);
    expect(settingsOf({ [CONTEXT_KEYS.environments]: environments }).env).toEqual({
      account: undefined,
      region: undefined,
    });
    expect(
      settingsOf({
        [CONTEXT_KEYS.profile]: "prod",
        [CONTEXT_KEYS.environments]: JSON.stringify(environments),
        [CONTEXT_KEYS.region]: "us-west-2",
      }).env,
    ).toEqual({ account: "210987654321", region: "us-west-2" });
  });

  it("reads alert subscriptions, routing and policy, the audit sizing and the operations thresholds", () => {
    const policy = { rules: [{ actions: ["block"], severity: "critical" }] };
    const settings = settingsOf({
      [CONTEXT_KEYS.alertEmails]: "a@x.com, b@y.com",
      [CONTEXT_KEYS.alertPhones]: "+15550100",
      [CONTEXT_KEYS.alertSmsSeverities]: "high,critical",
      [CONTEXT_KEYS.alertEmailSeverities]: "medium,high,critical",
      [CONTEXT_KEYS.alertPolicy]: JSON.stringify(policy),
      [CONTEXT_KEYS.audit]: "opensearch",
      [CONTEXT_KEYS.auditInstanceType]: "r7g.large.search",
      [CONTEXT_KEYS.auditDataNodes]: "4",
      [CONTEXT_KEYS.auditAvailabilityZones]: "2",
      [CONTEXT_KEYS.auditMasterNodes]: "3",
      [CONTEXT_KEYS.auditVolumeGiB]: "200",
      [CONTEXT_KEYS.auditRetentionDays]: "365",
      [CONTEXT_KEYS.auditReaderRoleArns]: "arn:aws:iam::123456789012:role/analyst",
      [CONTEXT_KEYS.opsEmails]: "ops@x.com",
      [CONTEXT_KEYS.smsMonthlySpendLimitUSD]: "25",
      [CONTEXT_KEYS.quarantineRateAlarmPercent]: "2.5",
    });
    expect(settings.alerts).toMatchObject({
      emails: ["a@x.com", "b@y.com"],
      phones: ["+15550100"],
      smsSeverities: ["high", "critical"],
      emailSeverities: ["medium", "high", "critical"],
      policyJson: JSON.stringify(policy),
    });
    expect(settings.alerts.policy.rules).toEqual(policy.rules);
    expect(settings.audit).toMatchObject({
      sink: "opensearch",
      instanceType: "r7g.large.search",
      dataNodes: 4,
      availabilityZones: 2,
      masterNodes: 3,
      volumeGiB: 200,
      retentionDays: 365,
      readerRoleArns: ["arn:aws:iam::123456789012:role/analyst"],
    });
    expect(settings.operations).toEqual({
      emails: ["ops@x.com"],
      phones: [],
      smsMonthlySpendLimitUSD: 25,
      quarantineRateAlarmPercent: 2.5,
    });
  });

  it.each([
    [CONTEXT_KEYS.profile, "staging"],
    [CONTEXT_KEYS.stackName, "1vigil"],
    [CONTEXT_KEYS.account, "12345"],
    [CONTEXT_KEYS.region, "Europe"],
    [CONTEXT_KEYS.environments, '{"prod":{"account":"x"}}'],
    [CONTEXT_KEYS.tags, "no-equals-sign"],
    [CONTEXT_KEYS.metricsNamespace, "AWS/Lambda"],
    [CONTEXT_KEYS.logRetentionDays, 31],
    [CONTEXT_KEYS.logLevel, "LOUD"],
    [CONTEXT_KEYS.decisionRetentionDays, 0],
    [CONTEXT_KEYS.tableDeletionProtection, "no"],
    [CONTEXT_KEYS.streamMode, "serverless"],
    [CONTEXT_KEYS.eventsShards, 0],
    [CONTEXT_KEYS.streamRetentionHours, 12],
    [CONTEXT_KEYS.tableBilling, "free"],
    [CONTEXT_KEYS.scoreMemoryMiB, 64],
    [CONTEXT_KEYS.scoreBatchSize, 20_000],
    [CONTEXT_KEYS.alertEmails, "not-an-email"],
    [CONTEXT_KEYS.alertPhones, "5550100"],
    [CONTEXT_KEYS.alertSmsSeverities, "urgent"],
    [CONTEXT_KEYS.alertPolicy, '{"rules":[{"actions":["explode"]}]}'],
    [CONTEXT_KEYS.audit, "elasticsearch"],
    [CONTEXT_KEYS.auditInstanceType, "large"],
    [CONTEXT_KEYS.auditDataNodes, 0],
    [CONTEXT_KEYS.auditMasterNodes, 2],
    [CONTEXT_KEYS.auditAvailabilityZones, 4],
    [CONTEXT_KEYS.auditReaderRoleArns, "arn:aws:iam::1:user/x"],
    [CONTEXT_KEYS.opsPhones, "0800"],
    [CONTEXT_KEYS.smsMonthlySpendLimitUSD, -1],
    [CONTEXT_KEYS.keyAdminArns, "admin"],
    [CONTEXT_KEYS.operatorPrincipalArns, "arn:aws:s3:::bucket"],
  ])("rejects %s = %j, naming the key", (key, value) => {
    expect(() => settingsOf({ [key]: value })).toThrow(key);
  });

  it("rejects combinations that cannot deploy", () => {
    expect(() => settingsOf({ [CONTEXT_KEYS.profile]: "prod", [CONTEXT_KEYS.auditDataNodes]: 4 })).toThrow(
      /4 data nodes cannot spread evenly over 3 zones/,
    );
    expect(() =>
      settingsOf({
        [CONTEXT_KEYS.audit]: "none",
        [CONTEXT_KEYS.auditReaderRoleArns]: "arn:aws:iam::123456789012:role/a",
      }),
    ).toThrow(/no audit domain to read/);
    expect(() =>
      settingsOf({
        [CONTEXT_KEYS.audit]: "opensearch",
        [CONTEXT_KEYS.auditAvailabilityZones]: 2,
        [CONTEXT_KEYS.auditDataNodes]: 1,
      }),
    ).toThrow(/zone awareness needs at least 2 data nodes/);
  });
});

describe("context reaches the template", () => {
  const vigil = synthesizeVigil({
    context: {
      [CONTEXT_KEYS.stackName]: "VigilTest",
      [CONTEXT_KEYS.logRetentionDays]: 14,
      [CONTEXT_KEYS.logLevel]: "WARN",
      [CONTEXT_KEYS.decisionRetentionDays]: 14,
      [CONTEXT_KEYS.tableDeletionProtection]: true,
      [CONTEXT_KEYS.pointInTimeRecovery]: false,
    },
  });
  afterAll(() => vigil.dispose());

  it("names the stack", () => {
    expect(vigil.stack.stackName).toBe("VigilTest");
  });

  it("sets log retention, log level and decision retention of the functions", () => {
    vigil.template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: 14 });
    vigil.template.hasResourceProperties("AWS::Lambda::Function", {
      LoggingConfig: { ApplicationLogLevel: "WARN" },
      Environment: { Variables: { [ENV.logLevel]: "WARN", [ENV.decisionRetentionDays]: "14" } },
    });
  });

  it("turns table deletion protection on and point-in-time recovery off", () => {
    vigil.template.allResourcesProperties("AWS::DynamoDB::Table", {
      DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
    });
  });
});
