import { Arn, CustomResource, Lazy, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { EbsDeviceVolumeType } from "aws-cdk-lib/aws-ec2";
import {
  ArnPrincipal,
  Effect,
  type IRole,
  PolicyDocument,
  PolicyStatement,
  ServicePrincipal,
} from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { CfnResourcePolicy, LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { type CfnDomain, Domain, EngineVersion, TLSSecurityPolicy } from "aws-cdk-lib/aws-opensearchservice";
import { Construct } from "constructs";
import { VigilFunction, type VigilLogLevel } from "#infra/constructs/vigil-function";
import { DEFAULT_AUDIT_INDEX_PREFIX } from "#shared/domain/audit/audit-document";
import type { FunctionDefinition } from "#shared/resources";

/**
 * The provider of the audit index custom resource. Deployment-only (a CloudFormation custom
 * resource has no local counterpart), so it is defined here rather than in `FUNCTIONS`.
 */
export const AUDIT_SETUP_FUNCTION: FunctionDefinition = {
  id: "AuditSetup",
  entry: "functions/audit-setup/handler.ts",
  handler: "handler",
  memoryMiB: 256,
  timeoutSeconds: 300,
  tables: {},
};

/** Properties of {@link AuditDomain}. */
export interface AuditDomainProps {
  /** Customer-managed key for encryption at rest. */
  readonly encryptionKey: IKey;
  /** Domain name: 3 to 28 lower-case letters, digits and hyphens, unique in the account and region. */
  readonly domainName: string;
  /**
   * Data node instance type.
   * @default "t3.small.search" (development; see docs/infra.md for production sizing)
   */
  readonly instanceType?: string;
  /**
   * Data nodes. Two or more turn on zone awareness across two AZs and one replica per shard.
   * @default 1
   */
  readonly dataNodes?: number;
  /**
   * gp3 EBS volume per data node, GiB.
   * @default 10
   */
  readonly volumeGiB?: number;
  /**
   * Days an audit index is kept before ISM deletes it.
   * @default 90
   */
  readonly retentionDays?: number;
  /**
   * Prefix of the daily audit indices.
   * @default "vigil-decisions"
   */
  readonly indexPrefix?: string;
  /**
   * IAM role ARNs allowed to search the audit indices (reports, analysts).
   * @default - none
   */
  readonly readerRoleArns?: readonly string[];
  /**
   * Retention of the domain's and the setup function's log groups.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /** @default "INFO" */
  readonly logLevel?: VigilLogLevel;
}

/**
 * The OpenSearch Service domain of the audit trail, and what makes it usable:
 *
 * - encryption at rest with the customer-managed key, node-to-node encryption, HTTPS only with TLS
 *   1.2 or newer, fine-grained access control (FGAC) whose master user is the setup function's role;
 * - a domain access policy naming only the roles that may call it (no anonymous access, every
 *   request SigV4-signed); FGAC then decides what each role may do inside;
 * - slow search, slow index and error logs in CloudWatch Logs, with the resource policy that lets
 *   the service write them;
 * - the `Custom::VigilAuditIndex` custom resource: its provider Lambda installs the index template
 *   with explicit mappings, the ISM retention policy, and the FGAC writer and reader roles mapped to
 *   the IAM roles granted here, on every deployment.
 *
 * The domain is retained when the stack is deleted: it holds the audit trail.
 */
export class AuditDomain extends Construct {
  /** The domain. */
  readonly domain: Domain;
  /** `https://<domain endpoint>`, what the audit function and reports talk to. */
  readonly endpoint: string;
  /** The provider of the index setup custom resource (its role is the FGAC master user). */
  readonly setup: VigilFunction;
  /** The index setup custom resource. */
  readonly indexSetup: CustomResource;
  /** Prefix of the daily audit indices. */
  readonly indexPrefix: string;
  private readonly writers: IRole[] = [];
  private readonly readerArns: string[];

  constructor(scope: Construct, id: string, props: AuditDomainProps) {
    super(scope, id);
    const dataNodes = props.dataNodes ?? 1;
    const zoneAware = dataNodes >= 2;
    this.indexPrefix = props.indexPrefix ?? DEFAULT_AUDIT_INDEX_PREFIX;
    this.readerArns = [...(props.readerRoleArns ?? [])];
    const retention = props.logRetention ?? RetentionDays.ONE_MONTH;

    this.setup = new VigilFunction(this, "Setup", {
      definition: AUDIT_SETUP_FUNCTION,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      description: "Vigil: installs the audit index template, ISM policy and access roles",
    });

    const logGroup = (name: string) =>
      new LogGroup(this, name, { retention, removalPolicy: RemovalPolicy.DESTROY });
    const slowSearchLogGroup = logGroup("SlowSearchLogs");
    const slowIndexLogGroup = logGroup("SlowIndexLogs");
    const appLogGroup = logGroup("ErrorLogs");
    // Written here rather than by CDK's default, which adds a custom resource Lambda to do the same.
    const logsPolicy = new CfnResourcePolicy(this, "LogsResourcePolicy", {
      policyName: `${props.domainName}-logs`,
      policyDocument: Stack.of(this).toJsonString(
        new PolicyDocument({
          statements: [
            new PolicyStatement({
              effect: Effect.ALLOW,
              principals: [new ServicePrincipal("es.amazonaws.com")],
              actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
              resources: [slowSearchLogGroup, slowIndexLogGroup, appLogGroup].map((g) => g.logGroupArn),
              conditions: { StringEquals: { "aws:SourceAccount": Stack.of(this).account } },
            }),
          ],
        }).toJSON(),
      ),
    });

    this.domain = new Domain(this, "Domain", {
      domainName: props.domainName,
      version: EngineVersion.OPENSEARCH_2_19,
      capacity: {
        dataNodes,
        dataNodeInstanceType: props.instanceType ?? "t3.small.search",
        multiAzWithStandbyEnabled: false,
      },
      ebs: { volumeSize: props.volumeGiB ?? 10, volumeType: EbsDeviceVolumeType.GP3 },
      ...(zoneAware ? { zoneAwareness: { enabled: true, availabilityZoneCount: 2 } } : {}),
      encryptionAtRest: { enabled: true, kmsKey: props.encryptionKey },
      nodeToNodeEncryption: true,
      enforceHttps: true,
      tlsSecurityPolicy: TLSSecurityPolicy.TLS_1_2,
      fineGrainedAccessControl: { masterUserArn: this.setup.role.roleArn },
      logging: {
        slowSearchLogEnabled: true,
        slowSearchLogGroup,
        slowIndexLogEnabled: true,
        slowIndexLogGroup,
        appLogEnabled: true,
        appLogGroup,
      },
      suppressLogsResourcePolicy: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.domain.node.addDependency(logsPolicy);
    this.endpoint = `https://${this.domain.domainEndpoint}`;

    // The access policy names the domain by its constructed ARN: a reference to the domain's own
    // Arn attribute inside its own properties would be a circular dependency. Set on the L1
    // resource (CDK's accessPolicies prop would add a custom resource Lambda to apply it later).
    const domainArn = Arn.format(
      { service: "es", resource: "domain", resourceName: props.domainName },
      Stack.of(this),
    );
    const cfnDomain = this.domain.node.defaultChild as CfnDomain;
    cfnDomain.accessPolicies = Lazy.any({
      produce: () =>
        new PolicyDocument({
          statements: [
            new PolicyStatement({
              effect: Effect.ALLOW,
              principals: [this.setup.role, ...this.writers],
              actions: ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"],
              resources: [`${domainArn}/*`],
            }),
            ...(this.readerArns.length > 0
              ? [
                  new PolicyStatement({
                    effect: Effect.ALLOW,
                    principals: this.readerArns.map((arn) => new ArnPrincipal(arn)),
                    actions: ["es:ESHttpGet", "es:ESHttpPost"],
                    resources: [`${domainArn}/*`],
                  }),
                ]
              : []),
          ],
        }).toJSON(),
    });

    // The master user manages templates, ISM policies and security roles: every path of the domain.
    this.setup.role.addToPolicy(
      new PolicyStatement({
        actions: ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPut", "es:ESHttpPost"],
        resources: [`${domainArn}/*`],
      }),
    );

    Validations.of(this.setup.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:es:<AWS::Region>:<AWS::AccountId>:domain/${props.domainName}/*]`,
      reason:
        "The setup function's role is the domain's fine-grained-access-control master user: it installs the " +
        "index template, the ISM policy and the security roles, which live under different paths of this one " +
        "domain (_index_template, _plugins/_ism, _plugins/_security). The wildcard covers the paths of this " +
        "domain only.",
    });

    const zoneReplicas = zoneAware ? 1 : 0;
    this.indexSetup = new CustomResource(this, "IndexSetup", {
      serviceToken: this.setup.fn.functionArn,
      resourceType: "Custom::VigilAuditIndex",
      properties: {
        Endpoint: this.endpoint,
        Prefix: this.indexPrefix,
        RetentionDays: props.retentionDays ?? 90,
        Replicas: zoneReplicas,
        Shards: 1,
        Writers: Lazy.list({ produce: () => this.writers.map((r) => r.roleArn) }),
        Readers: this.readerArns,
      },
    });
    // The role's policy (a separate resource) must be in place before the provider runs.
    this.indexSetup.node.addDependency(this.setup.role);

    Validations.of(this.domain).acknowledge(
      {
        id: "AwsSolutions-OS1",
        reason:
          "Public endpoint by design for the default deployment: every request must be SigV4-signed by a role " +
          "the domain access policy names, and fine-grained access control then limits each role to its indices. " +
          "A VPC domain needs the functions in the VPC with endpoints or NAT; docs/infra.md describes that setup.",
      },
      {
        id: "AwsSolutions-OS3",
        reason:
          "Access is granted to named IAM roles (SigV4), not IP addresses: the callers are Lambda functions whose " +
          "source addresses are not fixed.",
      },
      {
        id: "AwsSolutions-OS4",
        reason:
          "The default domain is small (one to a few data nodes) for an audit trail fed by one writer; dedicated " +
          "master nodes are part of the production sizing in docs/infra.md (3 masters from 3 data nodes on).",
      },
      ...(zoneAware
        ? []
        : [
            {
              id: "AwsSolutions-OS7",
              reason:
                "A single-node development domain cannot spread over zones; setting vigil:auditDataNodes to 2 or " +
                "more turns zone awareness on (and one replica per shard). The audit trail can also be rebuilt " +
                "from the decisions stream within its retention.",
            },
          ]),
    );
  }

  /**
   * Lets a role write audit documents: `es:ESHttpPost` on the domain's `_bulk` path in IAM, the role
   * named in the domain access policy, and mapped to the FGAC writer role (index and bulk-write on
   * the audit indices only).
   */
  grantWrite(role: IRole): void {
    this.writers.push(role);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["es:ESHttpPost"],
        resources: [`${this.domain.domainArn}/_bulk`],
      }),
    );
  }
}
