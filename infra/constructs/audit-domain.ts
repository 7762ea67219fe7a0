import { Arn, CustomResource, Lazy, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import {
  EbsDeviceVolumeType,
  type ISecurityGroup,
  type ISubnet,
  type IVpc,
  Peer,
  Port,
  SecurityGroup,
} from "aws-cdk-lib/aws-ec2";
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
import { VigilFunction, type VigilFunctionProps, type VigilLogLevel } from "#infra/constructs/vigil-function";
import type { OpenSearchAction } from "#infra/function-permissions";
import { grantActions } from "#infra/grants";
import { acknowledgeWildcardResources } from "#infra/nag";
import { AUDIT_LOGGING_PATH } from "#shared/adapters/opensearch-audit-logging";
import { auditIndexPattern, DEFAULT_AUDIT_INDEX_PREFIX } from "#shared/domain/audit/audit-document";
import { ismPolicyId, readerRoleName, templateName, writerRoleName } from "#shared/domain/audit/audit-index";
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

/**
 * The exact requests the setup function makes (`shared/adapters/opensearch-audit-setup.ts`,
 * `opensearch-audit-logging.ts`): PUT the index template, GET and PUT the ISM policy, PUT the writer
 * and reader roles and their mappings, PUT the audit log configuration.
 */
export function setupRequests(prefix: string): Array<{ action: OpenSearchAction; path: string }> {
  const policy = `_plugins/_ism/policies/${ismPolicyId(prefix)}`;
  return [
    { action: "es:ESHttpPut", path: `_index_template/${templateName(prefix)}` },
    { action: "es:ESHttpGet", path: policy },
    { action: "es:ESHttpPut", path: policy },
    ...[writerRoleName(prefix), readerRoleName(prefix)].flatMap((role) => [
      { action: "es:ESHttpPut" as const, path: `_plugins/_security/api/roles/${role}` },
      { action: "es:ESHttpPut" as const, path: `_plugins/_security/api/rolesmapping/${role}` },
    ]),
    { action: "es:ESHttpPut", path: AUDIT_LOGGING_PATH },
  ];
}

/** What readers may do: search and read documents of the audit indices, and nothing else. */
export const READER_ACTIONS: readonly OpenSearchAction[] = ["es:ESHttpGet", "es:ESHttpPost"];

/** Properties of {@link AuditDomain}. */
export interface AuditDomainProps {
  /** Customer-managed key for encryption at rest. */
  readonly encryptionKey: IKey;
  /**
   * Customer-managed key of the domain's and the setup function's log groups.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: IKey;
  /** Domain name: 3 to 28 lower-case letters, digits and hyphens, unique in the account and region. */
  readonly domainName: string;
  /**
   * Data node instance type.
   * @default "t3.small.search"
   */
  readonly instanceType?: string;
  /**
   * Data nodes.
   * @default 1
   */
  readonly dataNodes?: number;
  /**
   * Dedicated master nodes (0, 3 or 5).
   * @default 0
   */
  readonly masterNodes?: number;
  /**
   * Dedicated master instance type.
   * @default "m7g.large.search"
   */
  readonly masterInstanceType?: string;
  /**
   * gp3 EBS volume per data node, GiB.
   * @default 10
   */
  readonly volumeGiB?: number;
  /**
   * Zones the data nodes spread over (zone awareness from 2). With 2 or more nodes, indices get one replica.
   * @default 1
   */
  readonly availabilityZones?: 1 | 2 | 3;
  /**
   * The VPC, one subnet per zone, and the security group of the domain's clients, to place the domain
   * in. The setup function joins it; other clients (the audit function) use
   * {@link AuditDomain.clientNetwork}.
   * @default - a public endpoint (every request still SigV4-signed by a role the access policy names)
   */
  readonly network?: {
    readonly vpc: IVpc;
    readonly subnets: readonly ISubnet[];
    readonly clientSecurityGroup: ISecurityGroup;
  };
  /**
   * Keep the domain (the audit trail) when the stack is deleted.
   * @default true
   */
  readonly retain?: boolean;
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
   * IAM role ARNs outside the stack allowed to search the audit indices (reports, analysts).
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
  /**
   * CloudWatch namespace of the function's metrics.
   * @default - the VigilFunction default
   */
  readonly metricsNamespace?: string;
}

/**
 * The OpenSearch Service domain of the audit trail, and what makes it usable:
 *
 * - encryption at rest with the customer-managed key, node-to-node encryption, HTTPS only with TLS
 *   1.2+ and perfect forward secrecy (`Policy-Min-TLS-1-2-PFS-2023-10`), fine-grained access control
 *   (FGAC) whose master user is the setup function's role;
 * - automatic service software updates in an off-peak window, in-place engine upgrades
 *   (`EnableVersionUpgrade`), optional dedicated masters, zone awareness over up to three zones, and
 *   optionally a VPC with a security group that takes HTTPS from the domain's clients only;
 * - a domain access policy narrowed per principal and path: the setup role only the requests it
 *   makes, writers only `POST _bulk`, readers only GET/POST under the audit indices; every request
 *   SigV4-signed; FGAC then maps writers and readers to their OpenSearch roles;
 * - slow search, slow index, error and audit logs in CloudWatch Logs, with the resource policy that
 *   lets the service write them;
 * - the `Custom::VigilAuditIndex` custom resource: its provider installs the index template, the ISM
 *   retention policy, and the FGAC writer and reader roles mapped to the IAM roles granted here.
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
  /** The network a client function must join to reach the domain (undefined: public endpoint). */
  readonly clientNetwork: VigilFunctionProps["network"];
  /** The domain's audit log group (FGAC audit logs). */
  readonly auditLogGroup: LogGroup;
  private readonly writers: IRole[] = [];
  private readonly readerRoles: IRole[] = [];
  private readonly readerArns: string[];
  private readonly domainArn: string;

  constructor(scope: Construct, id: string, props: AuditDomainProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const dataNodes = props.dataNodes ?? 1;
    const masterNodes = props.masterNodes ?? 0;
    const zones = props.availabilityZones ?? 1;
    const retain = props.retain ?? true;
    this.indexPrefix = props.indexPrefix ?? DEFAULT_AUDIT_INDEX_PREFIX;
    this.readerArns = [...(props.readerRoleArns ?? [])];
    const retention = props.logRetention ?? RetentionDays.ONE_MONTH;

    let domainNetwork: { vpc: IVpc; subnets: readonly ISubnet[]; securityGroup: SecurityGroup } | undefined;
    if (props.network) {
      const { vpc, subnets, clientSecurityGroup: clients } = props.network;
      const domainGroup = new SecurityGroup(this, "DomainSecurityGroup", {
        vpc,
        description: "Vigil: the audit domain, HTTPS from its clients only",
        allowAllOutbound: false,
      });
      domainGroup.addIngressRule(
        Peer.securityGroupId(clients.securityGroupId),
        Port.tcp(443),
        "HTTPS from clients",
      );
      domainNetwork = { vpc, subnets, securityGroup: domainGroup };
      this.clientNetwork = { vpc, subnets: { subnets: [...subnets] }, securityGroups: [clients] };
    }

    this.setup = new VigilFunction(this, "Setup", {
      definition: AUDIT_SETUP_FUNCTION,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      logEncryptionKey: props.logEncryptionKey,
      network: this.clientNetwork,
      metricsNamespace: props.metricsNamespace,
      description: "Vigil: installs the audit index template, ISM policy and access roles",
    });

    const logGroup = (name: string) =>
      new LogGroup(this, name, {
        retention,
        encryptionKey: props.logEncryptionKey,
        removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
    const slowSearchLogGroup = logGroup("SlowSearchLogs");
    const slowIndexLogGroup = logGroup("SlowIndexLogs");
    const appLogGroup = logGroup("ErrorLogs");
    this.auditLogGroup = logGroup("AuditLogs");
    // Written here rather than by CDK's default, which adds a custom resource Lambda to do the same.
    const logsPolicy = new CfnResourcePolicy(this, "LogsResourcePolicy", {
      policyName: `${props.domainName}-logs`,
      policyDocument: stack.toJsonString(
        new PolicyDocument({
          statements: [
            new PolicyStatement({
              effect: Effect.ALLOW,
              principals: [new ServicePrincipal("es.amazonaws.com")],
              actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
              resources: [slowSearchLogGroup, slowIndexLogGroup, appLogGroup, this.auditLogGroup].map(
                (g) => g.logGroupArn,
              ),
              conditions: { StringEquals: { "aws:SourceAccount": stack.account } },
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
        ...(masterNodes > 0
          ? { masterNodes, masterNodeInstanceType: props.masterInstanceType ?? "m7g.large.search" }
          : {}),
        multiAzWithStandbyEnabled: false,
      },
      ebs: { volumeSize: props.volumeGiB ?? 10, volumeType: EbsDeviceVolumeType.GP3 },
      ...(zones > 1 ? { zoneAwareness: { enabled: true, availabilityZoneCount: zones } } : {}),
      ...(domainNetwork
        ? {
            vpc: domainNetwork.vpc,
            vpcSubnets: [{ subnets: [...domainNetwork.subnets] }],
            securityGroups: [domainNetwork.securityGroup],
          }
        : {}),
      encryptionAtRest: { enabled: true, kmsKey: props.encryptionKey },
      nodeToNodeEncryption: true,
      enforceHttps: true,
      tlsSecurityPolicy: TLSSecurityPolicy.TLS_1_2_PFS,
      fineGrainedAccessControl: { masterUserArn: this.setup.role.roleArn },
      logging: {
        slowSearchLogEnabled: true,
        slowSearchLogGroup,
        slowIndexLogEnabled: true,
        slowIndexLogGroup,
        appLogEnabled: true,
        appLogGroup,
        auditLogEnabled: true,
        auditLogGroup: this.auditLogGroup,
      },
      suppressLogsResourcePolicy: true,
      enableAutoSoftwareUpdate: true,
      offPeakWindowEnabled: true,
      offPeakWindowStart: { hours: 2, minutes: 0 },
      enableVersionUpgrade: true,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.domain.node.addDependency(logsPolicy);
    this.endpoint = `https://${this.domain.domainEndpoint}`;

    // The access policy names the domain by its constructed ARN: a reference to the domain's own
    // Arn attribute inside its own properties would be a circular dependency. Set on the L1
    // resource (CDK's accessPolicies prop would add a custom resource Lambda to apply it later).
    this.domainArn = Arn.format(
      { service: "es", resource: "domain", resourceName: props.domainName },
      Stack.of(this),
    );
    const setupRequestsByAction = groupByAction(setupRequests(this.indexPrefix));
    const cfnDomain = this.domain.node.defaultChild as CfnDomain;
    cfnDomain.accessPolicies = Lazy.any({
      produce: () =>
        new PolicyDocument({
          statements: [
            ...[...setupRequestsByAction].map(
              ([action, paths]) =>
                new PolicyStatement({
                  sid: `Setup${action.replace("es:ESHttp", "")}`,
                  effect: Effect.ALLOW,
                  principals: [this.setup.role],
                  actions: [action],
                  resources: paths.map((p) => this.pathArn(p)),
                }),
            ),
            ...(this.writers.length > 0
              ? [
                  new PolicyStatement({
                    sid: "WriteBulk",
                    effect: Effect.ALLOW,
                    principals: this.writers,
                    actions: ["es:ESHttpPost"],
                    resources: [this.pathArn("_bulk")],
                  }),
                ]
              : []),
            ...(this.readerRoles.length + this.readerArns.length > 0
              ? [
                  new PolicyStatement({
                    sid: "ReadAuditIndices",
                    effect: Effect.ALLOW,
                    principals: [...this.readerRoles, ...this.readerArns.map((arn) => new ArnPrincipal(arn))],
                    actions: [...READER_ACTIONS],
                    resources: [this.pathArn(auditIndexPattern(this.indexPrefix))],
                  }),
                ]
              : []),
          ],
        }).toJSON(),
    });

    // The master user's requests, path by path (no wildcard: these are all it makes).
    for (const [action, paths] of setupRequestsByAction)
      grantActions(
        this.setup.role,
        [action],
        paths.map((p) => this.pathArn(p)),
      );

    const zoneReplicas = dataNodes >= 2 ? 1 : 0;
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
        Readers: Lazy.list({
          produce: () => [...this.readerArns, ...this.readerRoles.map((r) => r.roleArn)],
        }),
      },
    });
    // The role's policy (a separate resource) must be in place before the provider runs.
    this.indexSetup.node.addDependency(this.setup.role);

    Validations.of(this.domain).acknowledge(
      ...(domainNetwork
        ? []
        : [
            {
              id: "AwsSolutions-OS1",
              reason:
                "Public endpoint in this profile (the prod profile and vigil:auditVpc=true put the domain in a VPC): " +
                "every request must be SigV4-signed by a role the domain access policy names for that path, and " +
                "fine-grained access control then limits each role to its indices.",
            },
          ]),
      {
        id: "AwsSolutions-OS3",
        reason:
          "Access is granted to named IAM roles (SigV4), per path, not to IP addresses: the callers are Lambda " +
          "functions and people's roles whose source addresses are not fixed" +
          (domainNetwork
            ? ", and the domain's security group takes HTTPS only from its client functions."
            : "."),
      },
      ...(masterNodes > 0
        ? []
        : [
            {
              id: "AwsSolutions-OS4",
              reason:
                "This profile's domain is a small development or test trail (one writer, no dedicated masters to pay " +
                "for); the prod profile and vigil:auditMasterNodes=3 add three dedicated masters.",
            },
          ]),
      ...(zones > 1
        ? []
        : [
            {
              id: "AwsSolutions-OS7",
              reason:
                "A single-zone development domain; the prod profile spreads data nodes over three zones " +
                "(vigil:auditAvailabilityZones). The audit trail can also be rebuilt from the decisions stream " +
                "within its retention.",
            },
          ]),
    );
  }

  /** The IAM resource of one path of the domain. */
  private pathArn(path: string): string {
    return `${this.domainArn}/${path}`;
  }

  /**
   * Lets a role write audit documents: `es:ESHttpPost` on the domain's `_bulk` path in IAM and in the
   * domain access policy, and mapped to the FGAC writer role (index and bulk-write on the audit
   * indices only).
   */
  grantWrite(role: IRole): void {
    this.writers.push(role);
    grantActions(role, ["es:ESHttpPost"], [this.pathArn("_bulk")]);
  }

  /**
   * Lets a role search and read the audit indices: GET and POST under `<prefix>-*` in IAM and in the
   * domain access policy, mapped to the FGAC reader role (read only, audit indices only).
   */
  grantRead(role: IRole): void {
    this.readerRoles.push(role);
    const resource = this.pathArn(auditIndexPattern(this.indexPrefix));
    grantActions(role, READER_ACTIONS, [resource]);
    acknowledgeWildcardResources(
      role,
      [resource],
      "Reading the audit trail means searching the daily indices <prefix>-YYYY.MM.DD: the wildcard covers " +
        "those indices (and their _search, _count and _doc paths) of this one domain, with GET and POST only; " +
        "FGAC maps the role to the read-only reader role.",
    );
  }
}

function groupByAction(
  requests: ReadonlyArray<{ action: OpenSearchAction; path: string }>,
): Map<OpenSearchAction, string[]> {
  const out = new Map<OpenSearchAction, string[]>();
  for (const { action, path } of requests) out.set(action, [...(out.get(action) ?? []), path]);
  return out;
}
