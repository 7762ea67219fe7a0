import { Match } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, it } from "vitest";
import { DATA_CLASSES } from "#infra/constructs/vigil-data";
import { KEY_ADMIN_ACTIONS } from "#infra/constructs/vigil-keys";
import { entriesOf } from "#infra/records";
import { streamConsumerEntries } from "#infra/stream-consumers";
import {
  STREAMS,
  type StreamDefinition,
  type StreamKey,
  TABLES,
  type TableDefinition,
  type TableKey,
} from "#shared/resources";
import {
  asArray,
  getAtt,
  logicalIdOf,
  propertiesOf,
  type Statement,
  synthesizeVigil,
} from "./synth-vigil.ts";

const vigil = synthesizeVigil({ context: { "vigil:profile": "prod" } });
afterAll(() => vigil.dispose());
const { stack, template, resources } = vigil;
const { keys } = stack.data;
const keyArnOf = (dataClass: "personal" | "pseudonymous") =>
  getAtt(logicalIdOf(stack, dataClass === "personal" ? keys.personalData : keys.data));

describe("keys", () => {
  const all = [keys.personalData, keys.data, keys.operations];
  const policyOf = (key: (typeof all)[number]) =>
    (propertiesOf(resources, logicalIdOf(stack, key)).KeyPolicy as { Statement: Statement[] }).Statement;

  it("are three customer-managed keys with rotation, retained in prod", () => {
    template.resourceCountIs("AWS::KMS::Key", 3);
    template.allResources("AWS::KMS::Key", {
      Properties: Match.objectLike({ EnableKeyRotation: true }),
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
    });
  });

  it("separate administration from use: the administrators' statement has no cryptographic action", () => {
    for (const key of all) {
      const admin = policyOf(key).find((s) => s.Sid === "Administration");
      expect(asArray(admin?.Action).sort()).toEqual([...KEY_ADMIN_ACTIONS].sort());
      for (const action of asArray(admin?.Action))
        expect(action).not.toMatch(/^kms:(Encrypt|Decrypt|ReEncrypt|GenerateDataKey|CreateGrant|\*)/);
    }
  });

  it("let the account use the data keys only through the data services, never directly or with kms:*", () => {
    for (const key of [keys.personalData, keys.data]) {
      for (const s of policyOf(key)) {
        expect(asArray(s.Action)).not.toContain("kms:*");
        if (s.Sid === "Administration") continue;
        expect(s.Condition?.StringEquals?.["kms:ViaService"], s.Sid).toBeDefined();
      }
    }
  });

  it("the personal data key is usable through Kinesis, DynamoDB and Secrets Manager only", () => {
    const use = policyOf(keys.personalData).find((s) => s.Sid === "UseThroughDataServices");
    const services = JSON.stringify(use?.Condition?.StringEquals?.["kms:ViaService"]);
    for (const service of ["kinesis.", "dynamodb.", "secretsmanager."]) expect(services).toContain(service);
    for (const service of ["sqs.", "sns.", "es."]) expect(services).not.toContain(service);
  });

  it("the operations key lets CloudWatch Logs encrypt this account's log groups", () => {
    const logs = policyOf(keys.operations).find((s) => s.Sid === "CloudWatchLogs");
    expect(JSON.stringify(logs?.Principal)).toContain("logs.");
    expect(JSON.stringify(logs?.Condition)).toContain("kms:EncryptionContext:aws:logs:arn");
  });

  it("encrypt every log group", () => {
    template.allResourcesProperties("AWS::Logs::LogGroup", {
      KmsKeyId: getAtt(logicalIdOf(stack, keys.operations)),
    });
  });
});

describe("streams", () => {
  it("creates exactly the streams of STREAMS", () => {
    template.resourceCountIs("AWS::Kinesis::Stream", Object.keys(STREAMS).length);
  });

  for (const [key] of entriesOf<StreamKey, StreamDefinition>(STREAMS)) {
    it(`${key}: KMS-encrypted with the ${DATA_CLASSES.streams[key]} data key, retained`, () => {
      expect(resources[logicalIdOf(stack, stack.data.streams[key])]).toMatchObject({
        Type: "AWS::Kinesis::Stream",
        DeletionPolicy: "Retain",
        Properties: {
          StreamEncryption: { EncryptionType: "KMS", KeyId: keyArnOf(DATA_CLASSES.streams[key]) },
        },
      });
    });
  }
});

describe("tables", () => {
  it("creates exactly the tables of TABLES", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", Object.keys(TABLES).length);
  });

  for (const [key, definition] of entriesOf<TableKey, TableDefinition>(TABLES)) {
    describe(key, () => {
      const resource = resources[logicalIdOf(stack, stack.data.tables[key])];

      it("has the keys of its definition, and no other attribute definitions", () => {
        const keyAttributes = [
          { ...definition.partitionKey, keyType: "HASH" },
          ...(definition.sortKey ? [{ ...definition.sortKey, keyType: "RANGE" }] : []),
        ];
        expect(resource?.Properties.KeySchema).toEqual(
          keyAttributes.map((k) => ({ AttributeName: k.name, KeyType: k.keyType })),
        );
        expect(resource?.Properties.AttributeDefinitions).toEqual(
          keyAttributes.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        );
      });

      it(`has TTL on ${definition.ttlAttribute ?? "no attribute"}`, () => {
        const ttl = resource?.Properties.TimeToLiveSpecification;
        if (definition.ttlAttribute === undefined) expect(ttl).toBeUndefined();
        else expect(ttl).toEqual({ AttributeName: definition.ttlAttribute, Enabled: true });
      });

      it(`is on-demand, point-in-time recoverable, encrypted with the ${DATA_CLASSES.tables[key]} data key, protected and retained`, () => {
        expect(resource).toMatchObject({
          DeletionPolicy: "Retain",
          UpdateReplacePolicy: "Retain",
          Properties: {
            BillingMode: "PAY_PER_REQUEST",
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            SSESpecification: {
              SSEEnabled: true,
              SSEType: "KMS",
              KMSMasterKeyId: keyArnOf(DATA_CLASSES.tables[key]),
            },
            DeletionProtectionEnabled: true,
          },
        });
      });
    });
  }
});

describe("failure queues", () => {
  const consumers = streamConsumerEntries();

  it("creates one per stream consumer", () => {
    template.resourceCountIs("AWS::SQS::Queue", consumers.length);
  });

  for (const [key] of consumers) {
    it(`${key}: encrypted with the data key (failure records hold shard and sequence numbers only), 14 days, TLS only`, () => {
      const queueId = logicalIdOf(stack, stack.data.failureQueue(key));
      expect(resources[queueId]).toMatchObject({
        DeletionPolicy: "Retain",
        Properties: { KmsMasterKeyId: keyArnOf("pseudonymous"), MessageRetentionPeriod: 14 * 24 * 3600 },
      });
      template.hasResourceProperties("AWS::SQS::QueuePolicy", {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: "Deny",
              Action: "sqs:*",
              Principal: { AWS: "*" },
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            }),
          ]),
        },
      });
    });
  }
});
