import { Match } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, it } from "vitest";
import { CONTEXT_KEYS } from "#infra/settings";
import { logicalIdOf, synthesizeVigil } from "./synth-vigil.ts";

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Principal?: unknown;
}
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

const vigil = synthesizeVigil({
  cloudFormationValidation: false,
  context: {
    [CONTEXT_KEYS.alertEmails]: "oncall@example.com,risk@example.com",
    [CONTEXT_KEYS.alertPhones]: "+15550100",
    [CONTEXT_KEYS.auditRetentionDays]: 30,
  },
});
afterAll(() => vigil.dispose());
const { stack, template } = vigil;
const resources = template.toJSON().Resources as Resources;

function statementsOfRole(roleId: string): Statement[] {
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

describe("alert topic", () => {
  const topicId = logicalIdOf(stack, stack.alerts.topic);
  const keyArn = { "Fn::GetAtt": [logicalIdOf(stack, stack.data.key), "Arn"] };

  it("is encrypted with the data key and refuses publishing without TLS", () => {
    template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: keyArn });
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("subscribes the context's emails and phones, each filtered by channel and severity", () => {
    template.resourceCountIs("AWS::SNS::Subscription", 3);
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
      FilterPolicy: { channel: ["sms"], severity: ["critical"] },
    });
  });

  it("is published to by the alert function only", () => {
    const publishers = Object.entries(resources)
      .filter(([, r]) => r.Type === "AWS::IAM::Policy")
      .filter(([, r]) =>
        (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some((s) =>
          asArray(s.Action).includes("sns:Publish"),
        ),
      )
      .map(([, r]) => r.Properties.Roles);
    expect(publishers).toEqual([[{ Ref: logicalIdOf(stack, stack.alert.lambda.role) }]]);
    const statements = statementsOfRole(logicalIdOf(stack, stack.alert.lambda.role));
    const publish = statements.find((s) => asArray(s.Action).includes("sns:Publish"));
    expect(publish?.Resource).toEqual({ Ref: topicId });
  });
});

describe("audit domain", () => {
  const domainId = logicalIdOf(stack, stack.auditDomain.domain);
  const domain = resources[domainId]?.Properties as Record<string, unknown>;
  const setupRole = logicalIdOf(stack, stack.auditDomain.setup.role);
  const auditRole = logicalIdOf(stack, stack.audit.lambda.role);

  it("encrypts at rest with the data key and between nodes, and takes HTTPS with TLS 1.2 only", () => {
    expect(domain).toMatchObject({
      EncryptionAtRestOptions: { Enabled: true, KmsKeyId: { Ref: logicalIdOf(stack, stack.data.key) } },
      NodeToNodeEncryptionOptions: { Enabled: true },
      DomainEndpointOptions: { EnforceHTTPS: true, TLSSecurityPolicy: "Policy-Min-TLS-1-2-2019-07" },
      EngineVersion: "OpenSearch_2.19",
      DomainName: "vigil-audit",
    });
    expect(resources[domainId]).toMatchObject({ DeletionPolicy: "Retain" });
  });

  it("has fine-grained access control with the setup function's role as master user", () => {
    expect(domain.AdvancedSecurityOptions).toMatchObject({
      Enabled: true,
      InternalUserDatabaseEnabled: false,
      MasterUserOptions: { MasterUserARN: { "Fn::GetAtt": [setupRole, "Arn"] } },
    });
  });

  it("lets exactly the setup and audit roles call it, never an anonymous principal", () => {
    const policy = domain.AccessPolicies as { Statement: Statement[] };
    expect(policy.Statement).toHaveLength(1);
    const principals = asArray((policy.Statement[0]?.Principal as { AWS: unknown } | undefined)?.AWS);
    expect(principals).toEqual([{ "Fn::GetAtt": [setupRole, "Arn"] }, { "Fn::GetAtt": [auditRole, "Arn"] }]);
    expect(JSON.stringify(policy)).not.toContain('"*"');
  });

  it("publishes slow and error logs to CloudWatch, with a resource policy scoped to them", () => {
    const logs = domain.LogPublishingOptions as Record<string, { Enabled: boolean }>;
    expect(Object.keys(logs).sort()).toEqual(["ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS"]);
    template.resourceCountIs("AWS::Logs::ResourcePolicy", 1);
  });

  it("installs the index template, ISM retention and writer mapping through its custom resource", () => {
    template.hasResourceProperties("Custom::VigilAuditIndex", {
      ServiceToken: { "Fn::GetAtt": [logicalIdOf(stack, stack.auditDomain.setup.fn), "Arn"] },
      Prefix: "vigil-decisions",
      RetentionDays: 30,
      Replicas: 0,
      Shards: 1,
      Writers: [{ "Fn::GetAtt": [auditRole, "Arn"] }],
      Readers: [],
    });
  });

  it("lets the audit function POST to _bulk and nothing else on the domain", () => {
    const es = statementsOfRole(auditRole).filter((s) => asArray(s.Action).some((a) => a.startsWith("es:")));
    expect(es).toHaveLength(1);
    expect(es[0]?.Action).toBe("es:ESHttpPost");
    expect(es[0]?.Resource).toEqual({ "Fn::Join": ["", [{ "Fn::GetAtt": [domainId, "Arn"] }, "/_bulk"]] });
  });
});

describe("pseudonymization key and decisions stream", () => {
  const scoreRole = logicalIdOf(stack, stack.score.lambda.role);
  const secretId = logicalIdOf(stack, stack.pseudonymKey.secret);

  it("is a generated, KMS-encrypted, retained secret readable by score only", () => {
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      KmsKeyId: { "Fn::GetAtt": [logicalIdOf(stack, stack.data.key), "Arn"] },
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
    expect(readers).toEqual([[{ Ref: scoreRole }]]);
  });

  it("lets alert and audit read the decisions stream", () => {
    for (const fn of [stack.alert, stack.audit])
      template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
        FunctionName: { Ref: logicalIdOf(stack, fn.lambda.fn) },
        EventSourceArn: { "Fn::GetAtt": [logicalIdOf(stack, stack.data.streams.decisions), "Arn"] },
      });
  });
});

describe("a production-sized audit domain", () => {
  const big = synthesizeVigil({
    cloudFormationValidation: false,
    context: {
      [CONTEXT_KEYS.stackName]: "VigilProd",
      [CONTEXT_KEYS.auditDataNodes]: 2,
      [CONTEXT_KEYS.auditInstanceType]: "m7g.large.search",
      [CONTEXT_KEYS.auditReaderRoleArns]: "arn:aws:iam::123456789012:role/analyst",
    },
  });
  afterAll(() => big.dispose());

  it("spreads over two zones with a replica, and lets the reader roles search", () => {
    const id = logicalIdOf(big.stack, big.stack.auditDomain.domain);
    const props = (big.template.toJSON().Resources as Resources)[id]?.Properties as Record<string, unknown>;
    expect(props).toMatchObject({
      DomainName: "vigilprod-audit",
      ClusterConfig: {
        InstanceCount: 2,
        InstanceType: "m7g.large.search",
        ZoneAwarenessEnabled: true,
        ZoneAwarenessConfig: { AvailabilityZoneCount: 2 },
      },
    });
    const statements = (props.AccessPolicies as { Statement: Statement[] }).Statement;
    expect(statements[1]).toMatchObject({
      Principal: { AWS: "arn:aws:iam::123456789012:role/analyst" },
      Action: ["es:ESHttpGet", "es:ESHttpPost"],
    });
    big.template.hasResourceProperties("Custom::VigilAuditIndex", {
      Replicas: 1,
      Readers: ["arn:aws:iam::123456789012:role/analyst"],
    });
  });
});
