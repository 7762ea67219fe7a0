import { Match } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, it } from "vitest";
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
import { logicalIdOf, synthesizeVigil } from "./synth-vigil.ts";

const vigil = synthesizeVigil({ cloudFormationValidation: false });
afterAll(() => vigil.dispose());
const { stack, template } = vigil;
const keyArn = { "Fn::GetAtt": [logicalIdOf(stack, stack.data.key), "Arn"] };

describe("data key", () => {
  it("is a customer-managed key with rotation, retained with the stack", () => {
    template.resourceCountIs("AWS::KMS::Key", 1);
    template.hasResource("AWS::KMS::Key", {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
    });
  });
});

describe("streams", () => {
  it("creates exactly the streams of STREAMS", () => {
    template.resourceCountIs("AWS::Kinesis::Stream", Object.keys(STREAMS).length);
  });

  for (const [key, definition] of entriesOf<StreamKey, StreamDefinition>(STREAMS)) {
    it(`${key}: KMS-encrypted with the data key, provisioned as defined, retained`, () => {
      const resource = template.toJSON().Resources[logicalIdOf(stack, stack.data.streams[key])];
      expect(resource).toMatchObject({
        Type: "AWS::Kinesis::Stream",
        DeletionPolicy: "Retain",
        Properties: {
          StreamEncryption: { EncryptionType: "KMS", KeyId: keyArn },
          StreamModeDetails: { StreamMode: "PROVISIONED" },
          ShardCount: definition.shardCount,
          RetentionPeriodHours: definition.retentionHours,
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
      const resource = template.toJSON().Resources[logicalIdOf(stack, stack.data.tables[key])];

      it("has the keys of its definition, and no other attribute definitions", () => {
        const keys = [
          { ...definition.partitionKey, keyType: "HASH" },
          ...(definition.sortKey ? [{ ...definition.sortKey, keyType: "RANGE" }] : []),
        ];
        expect(resource.Properties.KeySchema).toEqual(
          keys.map((k) => ({ AttributeName: k.name, KeyType: k.keyType })),
        );
        expect(resource.Properties.AttributeDefinitions).toEqual(
          keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        );
      });

      it(`has TTL on ${definition.ttlAttribute ?? "no attribute"}`, () => {
        const ttl = resource.Properties.TimeToLiveSpecification;
        if (definition.ttlAttribute === undefined) {
          expect(ttl).toBeUndefined();
        } else {
          expect(ttl).toEqual({ AttributeName: definition.ttlAttribute, Enabled: true });
        }
      });

      it("is on-demand, point-in-time recoverable, encrypted with the data key, protected and retained", () => {
        expect(resource).toMatchObject({
          DeletionPolicy: "Retain",
          UpdateReplacePolicy: "Retain",
          Properties: {
            BillingMode: "PAY_PER_REQUEST",
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            SSESpecification: { SSEEnabled: true, SSEType: "KMS", KMSMasterKeyId: keyArn },
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
    const queueId = logicalIdOf(stack, stack.data.failureQueues[key]);

    it(`${key}: KMS-encrypted with the data key, keeps messages 14 days, retained`, () => {
      expect(template.toJSON().Resources[queueId]).toMatchObject({
        DeletionPolicy: "Retain",
        Properties: { KmsMasterKeyId: keyArn, MessageRetentionPeriod: 14 * 24 * 3600 },
      });
    });

    it(`${key}: denies every request not made over TLS`, () => {
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
