import { afterAll, describe, expect, it } from "vitest";
import { PROFILES } from "#infra/profiles";
import { CONTEXT_KEYS } from "#infra/settings";
import { ENV, FUNCTIONS, type STREAMS, TABLES } from "#shared/resources";
import {
  type CfnResourceJson,
  ENVIRONMENTS,
  getAtt,
  logicalIdOf,
  PROFILE_VARIANTS,
  type SynthesizedVigil,
  synthesizeVigil,
} from "./synth-vigil.ts";

const ofType = (vigil: SynthesizedVigil, type: string) =>
  Object.entries(vigil.resources).filter(([, r]) => r.Type === type);

const mappingOf = (vigil: SynthesizedVigil, functionId: string) =>
  ofType(vigil, "AWS::Lambda::EventSourceMapping").find(
    ([, r]) => JSON.stringify(r.Properties.FunctionName) === JSON.stringify({ Ref: functionId }),
  )?.[1];

for (const variant of PROFILE_VARIANTS) {
  for (const environment of ENVIRONMENTS) {
    describe(`${variant.name}, ${environment.name}`, () => {
      const vigil = synthesizeVigil({ context: variant.context, env: environment.env });
      afterAll(() => vigil.dispose());
      const { stack } = vigil;

      it("keeps every mapping's maximum record age within its stream's retention", () => {
        const retentionOf = (arn: unknown) => {
          const id = (arn as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
          return Number(vigil.resources[id]?.Properties.RetentionPeriodHours) * 3600;
        };
        const mappings = ofType(vigil, "AWS::Lambda::EventSourceMapping");
        expect(mappings.length).toBeGreaterThanOrEqual(2);
        for (const [, mapping] of mappings) {
          const age = Number(mapping.Properties.MaximumRecordAgeInSeconds);
          expect(age).toBeGreaterThanOrEqual(60);
          expect(age).toBeLessThanOrEqual(retentionOf(mapping.Properties.EventSourceArn));
        }
      });

      it("keeps the score mapping's maximum record age of shared/resources.ts (the late-event bound)", () => {
        const mapping = mappingOf(vigil, logicalIdOf(stack, stack.score.lambda.fn));
        expect(mapping?.Properties.MaximumRecordAgeInSeconds).toBe(
          FUNCTIONS.score.eventSource.maxRecordAgeSeconds,
        );
      });

      it("is pinned to the environment it was given, or to none", () => {
        expect(stack.environment).toBe(
          environment.env
            ? `aws://${environment.env.account}/${environment.env.region}`
            : "aws://unknown-account/unknown-region",
        );
      });
    });
  }
}

describe("dev profile", () => {
  const dev = synthesizeVigil({ context: { "vigil:profile": "dev" } });
  const devAudit = synthesizeVigil({ context: { "vigil:profile": "dev", "vigil:audit": "opensearch" } });
  afterAll(() => {
    dev.dispose();
    devAudit.dispose();
  });

  for (const [name, vigil] of [
    ["dev", dev],
    ["dev with an audit domain", devAudit],
  ] as const) {
    it(`${name}: retains nothing, so cdk destroy removes every resource`, () => {
      const kept = Object.entries(vigil.resources).filter(
        ([, r]) =>
          ["Retain", "RetainExceptOnCreate", "Snapshot"].includes(r.DeletionPolicy ?? "") ||
          ["Retain", "RetainExceptOnCreate", "Snapshot"].includes(r.UpdateReplacePolicy ?? ""),
      );
      expect(kept.map(([id, r]) => `${id} ${r.Type}`)).toEqual([]);
      for (const [, table] of ofType(vigil, "AWS::DynamoDB::Table"))
        expect(table.Properties.DeletionProtectionEnabled).toBe(false);
      for (const [, key] of ofType(vigil, "AWS::KMS::Key"))
        expect(key.Properties.PendingWindowInDays).toBe(7);
      for (const [, domain] of ofType(vigil, "AWS::OpenSearchService::Domain"))
        expect(domain.DeletionPolicy).toBe("Delete");
      for (const [, secret] of ofType(vigil, "AWS::SecretsManager::Secret"))
        expect(secret.DeletionPolicy).toBe("Delete");
    });
  }

  it("uses on-demand streams with a 24-hour retention", () => {
    for (const [, stream] of ofType(dev, "AWS::Kinesis::Stream")) {
      expect(stream.Properties.StreamModeDetails).toEqual({ StreamMode: "ON_DEMAND" });
      expect(stream.Properties.ShardCount).toBeUndefined();
      expect(stream.Properties.RetentionPeriodHours).toBe(24);
    }
  });

  it("sizes functions down and keeps the definitions' batch sizes", () => {
    for (const [key, fn] of [
      ["score", dev.stack.score],
      ["alert", dev.stack.alert],
    ] as const) {
      const id = logicalIdOf(dev.stack, fn.lambda.fn);
      expect(dev.resources[id]?.Properties.MemorySize).toBe(PROFILES.dev.functions[key]?.memoryMiB);
      expect(mappingOf(dev, id)?.Properties.BatchSize).toBe(FUNCTIONS[key].eventSource.batchSize);
    }
  });

  it("has no audit domain, audit function, mapping or failure queue by default", () => {
    expect(dev.stack.auditDomain).toBeUndefined();
    expect(dev.stack.audit).toBeUndefined();
    expect(ofType(dev, "AWS::OpenSearchService::Domain")).toEqual([]);
    expect(ofType(dev, "Custom::VigilAuditIndex")).toEqual([]);
    // score, alert and the archive.
    expect(ofType(dev, "AWS::Lambda::EventSourceMapping")).toHaveLength(3);
    expect(ofType(dev, "AWS::SQS::Queue")).toHaveLength(3);
    const functions = ofType(dev, "AWS::Lambda::Function").map(
      ([, r]) =>
        (r.Properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables[
          ENV.serviceName
        ] ?? "(CDK's S3 auto-delete provider)",
    );
    expect(functions.sort()).toEqual([
      "(CDK's S3 auto-delete provider)",
      "vigil-alert",
      "vigil-archive",
      "vigil-backtestworker",
      "vigil-configseed",
      "vigil-score",
    ]);
  });

  it("caps the audit mapping's maximum record age at the 24-hour retention", () => {
    const audit = devAudit.stack.audit;
    if (!audit) throw new Error("this variant has an audit function");
    const mapping = mappingOf(devAudit, logicalIdOf(devAudit.stack, audit.lambda.fn));
    expect(FUNCTIONS.audit.eventSource.maxRecordAgeSeconds).toBeGreaterThan(86_400);
    expect(mapping?.Properties.MaximumRecordAgeInSeconds).toBe(86_400);
  });

  it("with an audit domain: one small public node, destroyed with the stack", () => {
    const [[, domain] = ["", undefined as unknown as CfnResourceJson]] = ofType(
      devAudit,
      "AWS::OpenSearchService::Domain",
    );
    expect(domain.Properties).toMatchObject({
      ClusterConfig: { InstanceCount: 1, InstanceType: "t3.small.search", DedicatedMasterEnabled: false },
      EBSOptions: { VolumeSize: 10, VolumeType: "gp3" },
    });
    expect(domain.Properties.VPCOptions).toBeUndefined();
  });
});

describe("prod profile", () => {
  const prod = synthesizeVigil({
    context: { "vigil:profile": "prod" },
    env: { account: "123456789012", region: "eu-central-1" },
  });
  afterAll(() => prod.dispose());
  const { stack, resources } = prod;

  it("retains every stateful resource and protects the tables", () => {
    for (const type of [
      "AWS::KMS::Key",
      "AWS::Kinesis::Stream",
      "AWS::DynamoDB::Table",
      "AWS::SQS::Queue",
      "AWS::SecretsManager::Secret",
      "AWS::OpenSearchService::Domain",
    ]) {
      const found = ofType(prod, type);
      expect(found.length, type).toBeGreaterThan(0);
      for (const [id, r] of found) expect(r.DeletionPolicy, id).toBe("Retain");
    }
    for (const [, table] of ofType(prod, "AWS::DynamoDB::Table"))
      expect(table.Properties).toMatchObject({
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
  });

  it("keeps stream records seven days, on provisioned shards per stream", () => {
    for (const [key, stream] of Object.entries(stack.data.streams)) {
      expect(resources[logicalIdOf(stack, stream)]?.Properties).toMatchObject({
        StreamModeDetails: { StreamMode: "PROVISIONED" },
        ShardCount: PROFILES.prod.streams.shards[key as keyof typeof STREAMS],
        RetentionPeriodHours: 168,
      });
    }
  });

  it("puts the audit domain in a VPC over three zones, with three dedicated masters", () => {
    const domainId = logicalIdOf(stack, stack.auditDomain?.domain ?? stack);
    const domain = resources[domainId]?.Properties as Record<string, unknown>;
    expect(domain).toMatchObject({
      ClusterConfig: {
        InstanceCount: 3,
        InstanceType: "r7g.large.search",
        DedicatedMasterEnabled: true,
        DedicatedMasterCount: 3,
        DedicatedMasterType: "m7g.large.search",
        ZoneAwarenessEnabled: true,
        ZoneAwarenessConfig: { AvailabilityZoneCount: 3 },
      },
      EBSOptions: { VolumeSize: 300, VolumeType: "gp3" },
    });
    const subnetIds = (domain.VPCOptions as { SubnetIds: Array<{ Ref: string }> }).SubnetIds;
    expect(subnetIds).toHaveLength(3);
    const zones = subnetIds.map((s) => JSON.stringify(resources[s.Ref]?.Properties.AvailabilityZone));
    expect(new Set(zones).size).toBe(3);
    const vpcs = new Set(subnetIds.map((s) => JSON.stringify(resources[s.Ref]?.Properties.VpcId)));
    expect(vpcs.size).toBe(1);
    // Isolated subnets: no route to an internet or NAT gateway anywhere in the stack.
    expect(ofType(prod, "AWS::EC2::InternetGateway")).toEqual([]);
    expect(ofType(prod, "AWS::EC2::NatGateway")).toEqual([]);
  });

  it("runs the audit and setup functions inside that VPC", () => {
    for (const fn of [stack.audit?.lambda.fn, stack.auditDomain?.setup.fn]) {
      if (!fn) throw new Error("prod has an audit function and a setup function");
      const config = resources[logicalIdOf(stack, fn)]?.Properties.VpcConfig as { SubnetIds: unknown[] };
      expect(config.SubnetIds).toHaveLength(3);
    }
  });

  it("uses the newest TLS policy, publishes audit logs, updates software off-peak and upgrades in place", () => {
    const domainId = logicalIdOf(stack, stack.auditDomain?.domain ?? stack);
    const domain = resources[domainId] as CfnResourceJson & { UpdatePolicy?: unknown };
    expect(domain.Properties).toMatchObject({
      DomainEndpointOptions: { EnforceHTTPS: true, TLSSecurityPolicy: "Policy-Min-TLS-1-2-PFS-2023-10" },
      LogPublishingOptions: { AUDIT_LOGS: { Enabled: true } },
      AdvancedSecurityOptions: { Enabled: true },
      SoftwareUpdateOptions: { AutoSoftwareUpdateEnabled: true },
      OffPeakWindowOptions: { Enabled: true },
    });
    expect(domain.UpdatePolicy).toEqual({ EnableVersionUpgrade: true });
  });

  it("lets only the domain's clients reach it, on HTTPS", () => {
    const domainSg = stack.auditDomain?.domain.connections.securityGroups[0];
    if (!domainSg) throw new Error("the domain has a security group");
    const sg = resources[logicalIdOf(stack, domainSg)]?.Properties as {
      SecurityGroupIngress?: unknown[];
      SecurityGroupEgress?: unknown[];
    };
    const ingress = [
      ...(sg.SecurityGroupIngress ?? []),
      ...ofType(prod, "AWS::EC2::SecurityGroupIngress")
        .filter(([, r]) => JSON.stringify(r.Properties.GroupId).includes(logicalIdOf(stack, domainSg)))
        .map(([, r]) => r.Properties),
    ];
    expect(ingress).toHaveLength(1);
    expect(ingress[0]).toMatchObject({
      IpProtocol: "tcp",
      FromPort: 443,
      ToPort: 443,
      SourceSecurityGroupId: getAtt(
        logicalIdOf(stack, stack.auditNetwork?.clientSecurityGroup ?? stack),
        "GroupId",
      ),
    });
  });
});

describe("prod without an audit domain", () => {
  const vigil = synthesizeVigil({ context: { "vigil:profile": "prod", "vigil:audit": "none" } });
  afterAll(() => vigil.dispose());

  it("has no domain, VPC, audit function, mapping or failure queue", () => {
    expect(ofType(vigil, "AWS::OpenSearchService::Domain")).toEqual([]);
    expect(ofType(vigil, "AWS::EC2::VPC")).toEqual([]);
    expect(vigil.stack.audit).toBeUndefined();
    expect(ofType(vigil, "AWS::Lambda::EventSourceMapping")).toHaveLength(3);
    expect(ofType(vigil, "AWS::SQS::Queue")).toHaveLength(3);
  });
});

describe("capacity overrides by context", () => {
  const vigil = synthesizeVigil({
    context: {
      [CONTEXT_KEYS.profile]: "prod",
      [CONTEXT_KEYS.streamMode]: "onDemand",
      [CONTEXT_KEYS.streamRetentionHours]: "72",
      [CONTEXT_KEYS.scoreMemoryMiB]: "2048",
      [CONTEXT_KEYS.scoreBatchSize]: "250",
      [CONTEXT_KEYS.alertBatchSize]: "50",
      [CONTEXT_KEYS.tableBilling]: "provisioned",
      [CONTEXT_KEYS.tableReadUnits]: "10",
      [CONTEXT_KEYS.tableWriteUnits]: "20",
      [CONTEXT_KEYS.auditInstanceType]: "r7g.xlarge.search",
      [CONTEXT_KEYS.auditDataNodes]: "6",
      [CONTEXT_KEYS.auditMasterInstanceType]: "m7g.xlarge.search",
      [CONTEXT_KEYS.auditVolumeGiB]: "800",
    },
  });
  afterAll(() => vigil.dispose());
  const { stack, resources } = vigil;

  it("reach the streams, functions, mappings, tables and domain", () => {
    for (const [, stream] of ofType(vigil, "AWS::Kinesis::Stream"))
      expect(stream.Properties).toMatchObject({
        StreamModeDetails: { StreamMode: "ON_DEMAND" },
        RetentionPeriodHours: 72,
      });
    const score = logicalIdOf(stack, stack.score.lambda.fn);
    expect(resources[score]?.Properties.MemorySize).toBe(2048);
    expect(mappingOf(vigil, score)?.Properties.BatchSize).toBe(250);
    expect(mappingOf(vigil, logicalIdOf(stack, stack.alert.lambda.fn))?.Properties.BatchSize).toBe(50);
    for (const [, table] of ofType(vigil, "AWS::DynamoDB::Table")) {
      // PROVISIONED is CloudFormation's default billing mode; CDK leaves it out.
      expect(table.Properties.BillingMode ?? "PROVISIONED").toBe("PROVISIONED");
      expect(table.Properties.ProvisionedThroughput).toEqual({
        ReadCapacityUnits: 10,
        WriteCapacityUnits: 20,
      });
    }
    // Reads and writes of every table.
    expect(ofType(vigil, "AWS::ApplicationAutoScaling::ScalableTarget")).toHaveLength(
      2 * Object.keys(TABLES).length,
    );
    const [[, domain] = ["", undefined as unknown as CfnResourceJson]] = ofType(
      vigil,
      "AWS::OpenSearchService::Domain",
    );
    expect(domain.Properties).toMatchObject({
      ClusterConfig: {
        InstanceCount: 6,
        InstanceType: "r7g.xlarge.search",
        DedicatedMasterType: "m7g.xlarge.search",
      },
      EBSOptions: { VolumeSize: 800 },
    });
  });

  it("cap the audit mapping's maximum record age at the shorter retention", () => {
    const audit = stack.audit;
    if (!audit) throw new Error("prod has an audit function");
    expect(mappingOf(vigil, logicalIdOf(stack, audit.lambda.fn))?.Properties.MaximumRecordAgeInSeconds).toBe(
      72 * 3600,
    );
  });
});

describe("environment pinning, tags and the metrics namespace", () => {
  const vigil = synthesizeVigil({
    context: {
      [CONTEXT_KEYS.profile]: "prod",
      [CONTEXT_KEYS.stackName]: "VigilProd",
      [CONTEXT_KEYS.environments]: JSON.stringify({ prod: { account: "210987654321", region: "eu-west-1" } }),
      [CONTEXT_KEYS.tags]: "cost-center=risk-42,owner=fraud-team",
    },
    env: { account: "123456789012", region: "eu-central-1" },
  });
  afterAll(() => vigil.dispose());

  it("deploys a pinned profile to its pinned account and region, whatever the CLI's credentials say", () => {
    expect(vigil.stack.account).toBe("210987654321");
    expect(vigil.stack.region).toBe("eu-west-1");
  });

  it("tags the stack for cost allocation (CloudFormation propagates stack tags to the resources)", () => {
    expect(vigil.stack.tags.tagValues()).toEqual({
      project: "vigil",
      environment: "prod",
      "vigil-stack": "VigilProd",
      "cost-center": "risk-42",
      owner: "fraud-team",
    });
  });

  it("gives every function the stack's own metrics namespace", () => {
    for (const [, fn] of ofType(vigil, "AWS::Lambda::Function")) {
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables[ENV.metricsNamespace]).toBe("Vigil/VigilProd");
    }
  });
});
