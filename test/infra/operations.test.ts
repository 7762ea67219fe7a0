import { Match } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, it } from "vitest";
import { CONTEXT_KEYS } from "#infra/settings";
import { EVENT_TYPES } from "#shared/domain/event/index";
import { SCORE_METRICS } from "#shared/metrics";
import { ENV, STREAMS, TABLES } from "#shared/resources";
import { STACK_OUTPUTS } from "#shared/stack-outputs";
import {
  asArray,
  getAtt,
  logicalIdOf,
  propertiesOf,
  type Statement,
  synthesizeVigil,
} from "./synth-vigil.ts";

interface AlarmProperties {
  readonly AlarmActions?: unknown[];
  readonly OKActions?: unknown[];
  readonly MetricName?: string;
  readonly Namespace?: string;
  readonly Threshold?: number;
  readonly ThresholdMetricId?: string;
  readonly ComparisonOperator: string;
  readonly Metrics?: Array<{
    readonly Id: string;
    readonly Expression?: string;
    readonly MetricStat?: { readonly Metric: { readonly MetricName: string; readonly Namespace: string } };
  }>;
}

const EMAILS = ["oncall@example.com", "risk@example.com"];
const PHONES = ["+15550100", "+4915112345678"];

const prod = synthesizeVigil({
  context: {
    [CONTEXT_KEYS.profile]: "prod",
    [CONTEXT_KEYS.opsEmails]: EMAILS.join(","),
    [CONTEXT_KEYS.opsPhones]: PHONES.join(","),
    [CONTEXT_KEYS.alertEmails]: EMAILS.join(","),
    [CONTEXT_KEYS.alertPhones]: PHONES.join(","),
    [CONTEXT_KEYS.smsMonthlySpendLimitUSD]: "50",
  },
});
const dev = synthesizeVigil({ context: { [CONTEXT_KEYS.profile]: "dev" } });
afterAll(() => {
  prod.dispose();
  dev.dispose();
});

const alarmsOf = (vigil: typeof prod) =>
  Object.entries(vigil.resources)
    .filter(([, r]) => r.Type === "AWS::CloudWatch::Alarm")
    .map(([id, r]) => [id, r.Properties as unknown as AlarmProperties] as const);

/** The metric names an alarm watches (its own, or every metric and expression of its math). */
const watched = (alarm: AlarmProperties) => [
  ...(alarm.MetricName ? [alarm.MetricName] : []),
  ...(alarm.Metrics ?? []).flatMap((m) => [
    ...(m.MetricStat ? [m.MetricStat.Metric.MetricName] : []),
    ...(m.Expression ? [m.Expression] : []),
  ]),
];

for (const [name, vigil] of [
  ["prod", prod],
  ["dev", dev],
] as const) {
  describe(`alarms (${name})`, () => {
    const topic = { Ref: logicalIdOf(vigil.stack, vigil.stack.operations.topic) };

    it("every alarm notifies the operations topic, on alarm and on recovery", () => {
      const alarms = alarmsOf(vigil);
      expect(alarms.length).toBeGreaterThan(20);
      for (const [id, alarm] of alarms) {
        expect(alarm.AlarmActions, id).toEqual([topic]);
        expect(alarm.OKActions, id).toEqual([topic]);
      }
    });

    it("covers the functions, streams, tables, topics, SMS spend and the business signals", () => {
      const all = alarmsOf(vigil).flatMap(([, a]) => watched(a));
      const count = (metric: string) => all.filter((m) => m === metric).length;
      // score, alert, the archive, and audit with a domain.
      const consumers = vigil.stack.audit ? 4 : 3;
      expect(count("IteratorAge")).toBe(consumers);
      expect(count("Throttles")).toBe(consumers);
      expect(count("Errors")).toBe(consumers + (vigil.stack.auditDomain ? 2 : 1));
      expect(count("ApproximateNumberOfMessagesVisible")).toBe(consumers);
      expect(count("WriteProvisionedThroughputExceeded")).toBe(2);
      expect(count("ReadProvisionedThroughputExceeded")).toBe(2);
      expect(count("ReadThrottleEvents")).toBe(Object.keys(TABLES).length);
      expect(count("WriteThrottleEvents")).toBe(Object.keys(TABLES).length);
      expect(count("NumberOfNotificationsFailed")).toBe(2);
      expect(count("SMSMonthToDateSpentUSD")).toBe(1);
      expect(count(SCORE_METRICS.withoutConfiguredRules)).toBe(1);
      expect(
        all.some((m) =>
          /SELECT SUM\(RuleErrors\) FROM SCHEMA\("Vigil\/Vigil", mode, rule, service\)/.test(m),
        ),
      ).toBe(true);
      expect(
        all.some((m) =>
          /SELECT SUM\(ConfigLoadErrors\) FROM SCHEMA\("Vigil\/Vigil", kind, service\)/.test(m),
        ),
      ).toBe(true);
      expect(count(SCORE_METRICS.quarantined)).toBe(1);
    });

    it("watches the block rate with an anomaly detection band, both ways", () => {
      const bands = alarmsOf(vigil).filter(([, a]) => a.ThresholdMetricId !== undefined);
      expect(bands.map(([, a]) => a.ComparisonOperator).sort()).toEqual([
        "GreaterThanUpperThreshold",
        "LessThanLowerThreshold",
      ]);
      for (const [, alarm] of bands) {
        const expressions = (alarm.Metrics ?? []).flatMap((m) => (m.Expression ? [m.Expression] : []));
        expect(expressions).toContain("ANOMALY_DETECTION_BAND(m0, 3)");
        expect(expressions).toContain("IF(decided > 0, 100 * blocks / decided)");
        const blocks = (alarm.Metrics ?? []).filter(
          (m) => m.MetricStat?.Metric.MetricName === SCORE_METRICS.decisions,
        );
        // One per scenario (event type).
        expect(blocks).toHaveLength(EVENT_TYPES.length);
      }
    });

    it("alarms when events flow in but nothing is decided", () => {
      const stopped = alarmsOf(vigil).find(([, a]) =>
        watched(a).some((m) => m.includes("FILL(decided, 0) == 0")),
      );
      expect(stopped).toBeDefined();
      expect(stopped && watched(stopped[1])).toEqual(
        expect.arrayContaining(["IncomingRecords", SCORE_METRICS.received, SCORE_METRICS.decided]),
      );
    });
  });
}

describe("audit domain alarms (prod)", () => {
  it("watch red and yellow status, free storage, write blocks, JVM pressure of data and master nodes, the key", () => {
    const all = alarmsOf(prod).flatMap(([, a]) => watched(a));
    for (const metric of [
      "ClusterStatus.red",
      "ClusterStatus.yellow",
      "FreeStorageSpace",
      "ClusterIndexWritesBlocked",
      "JVMMemoryPressure",
      "MasterJVMMemoryPressure",
      "KMSKeyInaccessible",
    ])
      expect(all, metric).toContain(metric);
  });

  it("fires on free storage below a quarter of a node's volume (MiB)", () => {
    const [, alarm] = alarmsOf(prod).find(([, a]) => a.MetricName === "FreeStorageSpace") ?? [];
    expect(alarm?.Threshold).toBe(300 * 1024 * 0.25);
    expect(alarm?.ComparisonOperator).toBe("LessThanOrEqualToThreshold");
  });
});

describe("SMS spend alarm", () => {
  it("fires at 80% of the account's configured monthly SMS limit", () => {
    const [, alarm] = alarmsOf(prod).find(([, a]) => a.MetricName === "SMSMonthToDateSpentUSD") ?? [];
    expect(alarm).toMatchObject({ Namespace: "AWS/SNS", Threshold: 40 });
  });
});

describe("operations topic", () => {
  const { stack, template, resources } = prod;
  const topicId = logicalIdOf(stack, stack.operations.topic);
  const keyId = logicalIdOf(stack, stack.data.keys.operations);

  it("is encrypted with the operations key, which lets CloudWatch use it and nothing else of the data keys", () => {
    template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: getAtt(keyId) });
    const policy = resources[keyId]?.Properties.KeyPolicy as { Statement: Statement[] };
    const cloudwatch = policy.Statement.find(
      (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: "cloudwatch.amazonaws.com" }),
    );
    expect(cloudwatch).toMatchObject({ Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey*"] });
    for (const key of [stack.data.keys.personalData, stack.data.keys.data]) {
      const statements = (
        propertiesOf(resources, logicalIdOf(stack, key)).KeyPolicy as { Statement: Statement[] }
      ).Statement;
      expect(JSON.stringify(statements)).not.toContain("cloudwatch.amazonaws.com");
    }
  });

  it("lets CloudWatch alarms of this account publish, and refuses publishing without TLS", () => {
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          Match.objectLike({
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: "sns:Publish",
            Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
          }),
        ]),
      },
    });
  });

  it("subscribes the context's emails and phones, without a filter", () => {
    const subscriptions = Object.values(resources).filter(
      (r) =>
        r.Type === "AWS::SNS::Subscription" &&
        JSON.stringify(r.Properties.TopicArn) === JSON.stringify({ Ref: topicId }),
    );
    expect(subscriptions.map((s) => `${s.Properties.Protocol} ${s.Properties.Endpoint}`).sort()).toEqual(
      [...EMAILS.map((e) => `email ${e}`), ...PHONES.map((p) => `sms ${p}`)].sort(),
    );
    for (const s of subscriptions) expect(s.Properties.FilterPolicy).toBeUndefined();
  });
});

describe("logical ids", () => {
  it("never contain a phone number or an email address (subscriptions are named by position)", () => {
    const ids = Object.keys(prod.resources).join("\n");
    for (const phone of PHONES) expect(ids).not.toContain(phone.replace("+", ""));
    for (const email of EMAILS) {
      const [local] = email.split("@");
      expect(ids.toLowerCase()).not.toContain(String(local).toLowerCase());
    }
    expect(ids).not.toMatch(/example/i);
  });
});

describe("dashboard", () => {
  it("shows alarms, throughput, latency, actions by scenario, rule hits, quarantine reasons, errors and throttles", () => {
    const [dashboard] = Object.values(prod.resources).filter((r) => r.Type === "AWS::CloudWatch::Dashboard");
    const body = JSON.stringify(prod.stack.resolve(dashboard?.Properties.DashboardBody));
    for (const title of [
      "Alarms",
      "Throughput: events",
      "Latency: iterator age",
      "Latency: put to decision",
      "Actions by scenario",
      "Block rate",
      "Rule hits",
      "Quarantine reasons",
      "Errors",
      "Throttles",
      "DynamoDB throttle events",
      "Audit domain: cluster status",
    ])
      expect(body, title).toContain(title);
    expect(body).toContain(SCORE_METRICS.putToDecisionLatency);
    expect(body).toContain('MetricName=\\\\\\"Decisions\\\\\\"');
  });
});

describe("stack outputs", () => {
  it("name every stream, table, topic, key, failure queue and the domain endpoint", () => {
    const outputs = Object.keys(prod.template.toJSON().Outputs as Record<string, unknown>).sort();
    expect(outputs).toEqual(Object.keys(STACK_OUTPUTS).sort());
  });

  it("give the CLI every table's and stream's name under its variable", () => {
    const variables = new Set(Object.values(STACK_OUTPUTS).map((o) => o.envVar));
    for (const [key, table] of Object.entries(TABLES))
      expect(variables, `${key} table`).toContain(table.envVar);
    for (const [key, stream] of Object.entries(STREAMS))
      expect(variables, `${key} stream`).toContain(stream.envVar);
    expect(variables).toContain(ENV.archiveBucket);
    expect(variables).toContain(ENV.backtestStateMachineArn);
  });

  it("leave the audit outputs out when there is no audit domain", () => {
    const outputs = Object.keys(dev.template.toJSON().Outputs as Record<string, unknown>);
    for (const key of ["AuditEndpoint", "AuditIndexPrefix", "AuditFailureQueueUrl", "AuditReaderRoleArn"])
      expect(outputs).not.toContain(key);
    expect(outputs).toContain("EventsStreamName");
  });

  it("point at the resources they name", () => {
    const outputs = prod.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const { stack } = prod;
    expect(outputs.EventsStreamName?.Value).toEqual({ Ref: logicalIdOf(stack, stack.data.streams.events) });
    expect(outputs.ConfigTableName?.Value).toEqual({ Ref: logicalIdOf(stack, stack.data.tables.config) });
    expect(outputs.AlertTopicArn?.Value).toEqual({ Ref: logicalIdOf(stack, stack.alerts.topic) });
    expect(outputs.BacktestStateMachineArn?.Value).toEqual({
      Ref: logicalIdOf(stack, stack.backtest.stateMachine),
    });
    expect(asArray(outputs.AuditEndpoint?.Value as unknown[])).toHaveLength(1);
  });
});
