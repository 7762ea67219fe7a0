import { Match } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, it } from "vitest";
import { ENV, FUNCTIONS } from "#shared/resources";
import { logicalIdOf, synthesizeVigil } from "./synth-vigil.ts";

const vigil = synthesizeVigil({ context: { "vigil:profile": "prod" } });
const dev = synthesizeVigil({ context: { "vigil:profile": "dev" } });
afterAll(() => {
  vigil.dispose();
  dev.dispose();
});
const { stack, template } = vigil;
const resources = template.toJSON().Resources as Record<
  string,
  { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }
>;
const bucketId = logicalIdOf(stack, stack.archive.bucket);
const logsId = logicalIdOf(stack, stack.archive.accessLogs);
const keyArn = { "Fn::GetAtt": [logicalIdOf(stack, stack.data.keys.personalData), "Arn"] };
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

describe("the event archive bucket", () => {
  const bucket = resources[bucketId];

  it("is encrypted with the personal-data key (SSE-KMS, bucket key) and retained in prod", () => {
    expect(bucket).toMatchObject({
      Type: "AWS::S3::Bucket",
      DeletionPolicy: "Retain",
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: keyArn },
            },
          ],
        },
      },
    });
  });

  it("blocks every kind of public access and owns its objects (no ACLs)", () => {
    expect(bucket?.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket?.Properties.OwnershipControls).toEqual({
      Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }],
    });
  });

  it("has a lifecycle: Standard-IA at 30 days, Glacier Instant Retrieval at 90, deleted at 400", () => {
    expect(bucket?.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: "archive-tiers-and-expiry",
          Status: "Enabled",
          ExpirationInDays: 400,
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Transitions: [
            { StorageClass: "STANDARD_IA", TransitionInDays: 30 },
            { StorageClass: "GLACIER_IR", TransitionInDays: 90 },
          ],
        },
      ],
    });
  });

  it("refuses requests without TLS", () => {
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: "s3:*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });

  it("logs access to a private, TLS-only log bucket that expires its objects", () => {
    expect(bucket?.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logsId },
      LogFilePrefix: "archive/",
    });
    expect(resources[logsId]).toMatchObject({
      DeletionPolicy: "Retain",
      Properties: {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: { Rules: [{ ExpirationInDays: 90, Status: "Enabled" }] },
      },
    });
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: logsId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });
});

describe("the archive function", () => {
  const fnId = logicalIdOf(stack, stack.archiveConsumer.lambda.fn);
  const roleId = logicalIdOf(stack, stack.archiveConsumer.lambda.role);
  const statements = Object.values(resources)
    .filter(
      (r) =>
        r.Type === "AWS::IAM::Policy" &&
        asArray(r.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
    )
    .flatMap(
      (r) =>
        (r.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
          .Statement,
    );

  it("reads the events stream through its own mapping, tuned as FUNCTIONS.archive", () => {
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: { Ref: fnId },
      EventSourceArn: { "Fn::GetAtt": [logicalIdOf(stack, stack.data.streams.events), "Arn"] },
      BatchSize: FUNCTIONS.archive.eventSource.batchSize,
      StartingPosition: "TRIM_HORIZON",
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
  });

  it("names the bucket in its environment", () => {
    const environment = resources[fnId]?.Properties.Environment as
      | { Variables: Record<string, unknown> }
      | undefined;
    expect(environment?.Variables).toMatchObject({ [ENV.archiveBucket]: { Ref: bucketId } });
  });

  it("may only put objects under events/ of the archive bucket: no read, list or delete", () => {
    const s3 = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith("s3:")));
    expect(s3.flatMap((s) => asArray(s.Action))).toEqual(["s3:PutObject"]);
    expect(s3.flatMap((s) => asArray(s.Resource))).toEqual([
      { "Fn::Join": ["", [{ "Fn::GetAtt": [bucketId, "Arn"] }, "/events/*"]] },
    ]);
  });

  it("may generate data keys with the personal-data key through S3 only, as SSE-KMS puts need", () => {
    const kms = statements.filter(
      (s) => JSON.stringify(s.Resource) === JSON.stringify(keyArn) && JSON.stringify(s).includes('"s3."'),
    );
    expect(kms.flatMap((s) => asArray(s.Action))).toEqual(["kms:GenerateDataKey"]);
  });
});

describe("the archive in the dev profile", () => {
  const devResources = dev.template.toJSON().Resources as typeof resources;
  it("is emptied and deleted with the stack (no retained bucket)", () => {
    for (const bucket of [dev.stack.archive.bucket, dev.stack.archive.accessLogs]) {
      expect(devResources[logicalIdOf(dev.stack, bucket)]?.DeletionPolicy).toBe("Delete");
    }
    dev.template.resourceCountIs("Custom::S3AutoDeleteObjects", 2);
  });
});
