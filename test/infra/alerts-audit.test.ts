import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { CDK_APP_MODE_CONTEXT } from "aws-cdk-lib/cx-api";
import { afterAll, describe, expect, it } from "vitest";
import { CONTEXT_KEYS } from "#infra/settings";
import { buildVigilApp } from "#infra/vigil-app";
import { SHIPPED_DEFAULTS } from "#shared/domain/decision/shipped-defaults";
import { TABLES } from "#shared/resources";
import {
  asArray,
  cdkJsonContext,
  getAtt,
  logicalIdOf,
  propertiesOf,
  type Statement,
  type SynthesizedVigil,
  statementsOfRole,
  synthesizeVigil,
} from "./synth-vigil.ts";

const ANALYST = "arn:aws:iam::123456789012:role/analyst";
const vigil = synthesizeVigil({
  context: {
    [CONTEXT_KEYS.profile]: "prod",
    [CONTEXT_KEYS.alertEmails]: "oncall@example.com,risk@example.com",
    [CONTEXT_KEYS.alertPhones]: "+15550100",
    [CONTEXT_KEYS.auditRetentionDays]: 30,
    [CONTEXT_KEYS.auditReaderRoleArns]: ANALYST,
  },
});
afterAll(() => vigil.dispose());
const { stack, template, resources } = vigil;

describe("alert topic", () => {
  const topicId = logicalIdOf(stack, stack.alerts.topic);

  it("is encrypted with the (pseudonymous) data key and refuses publishing without TLS", () => {
    template.hasResourceProperties("AWS::SNS::Topic", {
      KmsMasterKeyId: getAtt(logicalIdOf(stack, stack.data.keys.data)),
    });
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("subscribes the context's emails and phones, each filtered by channel and severity, named by position", () => {
    const onTopic = Object.entries(resources).filter(
      ([, r]) =>
        r.Type === "AWS::SNS::Subscription" &&
        JSON.stringify(r.Properties.TopicArn) === JSON.stringify({ Ref: topicId }),
    );
    expect(onTopic).toHaveLength(3);
    for (const email of ["oncall@example.com", "risk@example.com"])
      template.hasResourceProperties("AWS::SNS::Subscription", {
        Protocol: "email",
        Endpoint: email,
        TopicArn: { Ref: topicId },
        FilterPolicy: { channel: ["email"], severity: ["high", "critical"] },
      });
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "sms",
      Endpoint: "+15550100",
      TopicArn: { Ref: topicId },
      FilterPolicy: { channel: ["sms"], severity: ["critical"] },
    });
    expect(onTopic.map(([id]) => id.replace(/[0-9A-F]{8}$/, "")).sort()).toEqual([
      "AlertsEmail0",
      "AlertsEmail1",
      "AlertsSms0",
    ]);
  });

  it("is published to by the alert function only", () => {
    const publishers = Object.values(resources)
      .filter((r) => r.Type === "AWS::IAM::Policy")
      .filter((r) =>
        (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some((s) =>
          asArray(s.Action).includes("sns:Publish"),
        ),
      )
      .map((r) => r.Properties.Roles);
    expect(publishers).toEqual([[{ Ref: logicalIdOf(stack, stack.alert.lambda.role) }]]);
    const publish = statementsOfRole(resources, logicalIdOf(stack, stack.alert.lambda.role)).find((s) =>
      asArray(s.Action).includes("sns:Publish"),
    );
    expect(publish?.Resource).toEqual({ Ref: topicId });
  });
});

describe("pseudonymization key", () => {
  const secretId = logicalIdOf(stack, stack.pseudonymKey.secret);

  it("is a generated secret, encrypted with the personal data key, retained in prod, read by score only", () => {
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      KmsKeyId: getAtt(logicalIdOf(stack, stack.data.keys.personalData)),
      GenerateSecretString: {
        SecretStringTemplate: '{"keyId":"k1"}',
        GenerateStringKey: "key",
        PasswordLength: 64,
      },
    });
    expect(resources[secretId]).toMatchObject({ DeletionPolicy: "Retain" });
    const readers = Object.values(resources)
      .filter((r) => r.Type === "AWS::IAM::Policy")
      .filter((r) => JSON.stringify(r.Properties.PolicyDocument).includes(`"Ref":"${secretId}"`))
      .map((r) => r.Properties.Roles);
    expect(readers).toEqual([[{ Ref: logicalIdOf(stack, stack.score.lambda.role) }]]);
  });
});

describe("audit index setup", () => {
  const domain = stack.auditDomain;
  if (!domain) throw new Error("prod has an audit domain");

  it("has fine-grained access control with the setup function's role as master user", () => {
    template.hasResourceProperties("AWS::OpenSearchService::Domain", {
      AdvancedSecurityOptions: {
        Enabled: true,
        InternalUserDatabaseEnabled: false,
        MasterUserOptions: { MasterUserARN: getAtt(logicalIdOf(stack, domain.setup.role)) },
      },
    });
  });

  it("installs the template, ISM retention, writer and reader mappings through its custom resource", () => {
    const readerRole = stack.access.auditReader;
    if (!readerRole) throw new Error("prod has an audit reader role");
    template.hasResourceProperties("Custom::VigilAuditIndex", {
      ServiceToken: getAtt(logicalIdOf(stack, domain.setup.fn)),
      Prefix: "vigil-decisions",
      RetentionDays: 30,
      Replicas: 1,
      Shards: 1,
      Writers: [getAtt(logicalIdOf(stack, stack.audit?.lambda.role ?? stack))],
      Readers: [
        ANALYST,
        getAtt(logicalIdOf(stack, stack.access.operator)),
        getAtt(logicalIdOf(stack, readerRole)),
      ],
    });
  });

  it("names the context's reader roles in the domain access policy, with the reader verbs only", () => {
    const policy = resources[logicalIdOf(stack, domain.domain)]?.Properties.AccessPolicies as {
      Statement: Statement[];
    };
    const readers = policy.Statement.find((s) => s.Sid === "ReadAuditIndices");
    expect(JSON.stringify(readers?.Principal)).toContain(ANALYST);
    expect(readers?.Action).toEqual(["es:ESHttpGet", "es:ESHttpPost"]);
  });
});

describe("config seed", () => {
  const seed = stack.configSeed;

  it("runs its provider with the config table's name, once the provider's policy exists", () => {
    const resource = Object.entries(resources).find(([, r]) => r.Type === "Custom::VigilConfigSeed");
    expect(resource?.[1].Properties).toEqual({
      ServiceToken: getAtt(logicalIdOf(stack, seed.provider.fn)),
      Kinds: Object.keys(SHIPPED_DEFAULTS),
      DefaultsSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(
      [resource?.[1].DependsOn ?? []].flat().some((d) => d.includes("ConfigSeedProviderRoleDefaultPolicy")),
    ).toBe(true);
    const variables = (
      propertiesOf(resources, logicalIdOf(stack, seed.provider.fn)).Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(variables[TABLES.config.envVar]).toEqual({ Ref: logicalIdOf(stack, stack.data.tables.config) });
  });
});

describe("access roles", () => {
  it("give the operator what the CLI calls and DescribeStacks on this stack only", () => {
    const statements = statementsOfRole(resources, logicalIdOf(stack, stack.access.operator));
    const describe = statements.find((s) => asArray(s.Action).includes("cloudformation:DescribeStacks"));
    expect(describe?.Resource).toEqual({ Ref: "AWS::StackId" });
    const actions = statements.flatMap((s) => asArray(s.Action));
    expect(actions.filter((a) => /:(Delete|Create|\*)/.test(a))).toEqual([]);
  });

  it("publish a producer policy: PutRecord(s) on the events stream and its key through Kinesis", () => {
    const [policyId = ""] =
      Object.entries(resources).find(([, r]) => r.Type === "AWS::IAM::ManagedPolicy") ?? [];
    const statements = (propertiesOf(resources, policyId).PolicyDocument as { Statement: Statement[] })
      .Statement;
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatchObject({
      Action: ["kinesis:PutRecord", "kinesis:PutRecords"],
      Resource: getAtt(logicalIdOf(stack, stack.data.streams.events)),
    });
    expect(statements[1]).toMatchObject({
      Action: "kms:GenerateDataKey",
      Resource: getAtt(logicalIdOf(stack, stack.data.keys.personalData)),
    });
    expect(JSON.stringify(statements[1]?.Condition)).toContain("kinesis.");
  });
});

describe("grantPutEvents", () => {
  it("gives a producer role PutRecord(s) on the events stream and the stream's key through Kinesis", () => {
    const app = new App({
      context: { ...cdkJsonContext(), [CDK_APP_MODE_CONTEXT]: "inmemory", "aws:cdk:bundling-stacks": [] },
    });
    const producerStack = buildVigilApp(app);
    const producer = new Role(producerStack, "Producer", {
      assumedBy: new ServicePrincipal("ec2.amazonaws.com"),
    });
    producerStack.grantPutEvents(producer);
    const producerResources = Template.fromStack(producerStack).toJSON()
      .Resources as SynthesizedVigil["resources"];
    const statements = statementsOfRole(producerResources, logicalIdOf(producerStack, producer));
    expect(statements.map((s) => ({ Action: s.Action, Resource: s.Resource }))).toEqual([
      {
        Action: ["kinesis:PutRecord", "kinesis:PutRecords"],
        Resource: getAtt(logicalIdOf(producerStack, producerStack.data.streams.events)),
      },
      {
        Action: "kms:GenerateDataKey",
        Resource: getAtt(logicalIdOf(producerStack, producerStack.data.keys.personalData)),
      },
    ]);
  });
});
