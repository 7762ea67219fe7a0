import * as path from "node:path";
import { CfnResource, Duration, Lazy, RemovalPolicy, Validations } from "aws-cdk-lib";
import type { ISecurityGroup, IVpc, SubnetSelection } from "aws-cdk-lib/aws-ec2";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { ApplicationLogLevel, Architecture, LoggingFormat, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { VPC_ACCESS_ACTIONS } from "#infra/function-permissions";
import { LOCK_FILE, REPO_ROOT } from "#infra/paths";
import { BUNDLING, LAMBDA_NODE_TARGET } from "#shared/bundling";
import { ENV, type FunctionDefinition, METRICS_NAMESPACE } from "#shared/resources";

/**
 * The Lambda runtime for each esbuild target `shared/bundling.ts` may name, so the deployed runtime is
 * always the one the bundle was built for. Changing `LAMBDA_NODE_TARGET` to a target missing here fails
 * type checking instead of deploying a mismatched pair.
 */
const RUNTIME_FOR_TARGET = {
  node22: Runtime.NODEJS_22_X,
  node24: Runtime.NODEJS_24_X,
} as const satisfies Record<string, Runtime>;

/** The Lambda runtime every Vigil function uses (derived from the bundling target). */
export const VIGIL_RUNTIME: Runtime = RUNTIME_FOR_TARGET[LAMBDA_NODE_TARGET];

/**
 * File name of every Vigil bundle inside its asset. CDK fixes it to `index.mjs` for ESM output and
 * resolves `handler` as `index.<export>`; the local runtime reads `BUNDLING.outFile`. The type annotation
 * makes a change of `BUNDLING.outFile` fail type checking rather than deploy a handler Lambda cannot find.
 */
export const BUNDLE_FILE: "index.mjs" = BUNDLING.outFile;

/** Log levels a Vigil function accepts, for both Lambda's log filter and Powertools. */
export type VigilLogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR";

/** Properties of {@link VigilFunction}. */
export interface VigilFunctionProps {
  /** Entry, exported handler, memory and timeout of the function (from `FUNCTIONS`). */
  readonly definition: FunctionDefinition;
  /**
   * Extra environment variables (resource names and settings). Powertools variables and
   * `NODE_OPTIONS` are set by the construct and win over entries with the same name.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * How long CloudWatch Logs keeps the function's log events.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Lowest level the function logs; applied both to Lambda's application log filter and to
   * Powertools (`POWERTOOLS_LOG_LEVEL`) so neither drops what the other emits.
   * @default "INFO"
   */
  readonly logLevel?: VigilLogLevel;
  /**
   * Description shown in the Lambda console.
   * @default - "Vigil <definition.id> function"
   */
  readonly description?: string;
  /**
   * Memory in MiB (profiles size functions per environment).
   * @default - the definition's `memoryMiB`
   */
  readonly memoryMiB?: number;
  /**
   * CloudWatch namespace of the function's metrics (`POWERTOOLS_METRICS_NAMESPACE`).
   * @default METRICS_NAMESPACE ("Vigil")
   */
  readonly metricsNamespace?: string;
  /**
   * Customer-managed key encrypting the log group (its policy must let CloudWatch Logs use it).
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: IKey;
  /**
   * The VPC, subnets and security groups to attach the function to; the role then also gets the ENI
   * actions Lambda needs for that.
   * @default - not in a VPC
   */
  readonly network?: {
    readonly vpc: IVpc;
    readonly subnets: SubnetSelection;
    readonly securityGroups: readonly ISecurityGroup[];
  };
}

/**
 * The house Lambda function: every Vigil function is one of these, so runtime, architecture,
 * tracing, logging, bundling and Powertools settings are decided once.
 *
 * - Node.js runtime matching the esbuild target of `shared/bundling.ts`, ARM64, X-Ray active tracing.
 * - ESM bundle built with the local esbuild (never Docker) from `shared/bundling.ts`, with source maps
 *   and `NODE_OPTIONS=--enable-source-maps` so stack traces point at the TypeScript sources.
 * - An explicit log group with a retention, JSON log format, and a dedicated role that may write only
 *   to that log group (no `AWSLambdaBasicExecutionRole`, whose log permissions cover every group).
 */
export class VigilFunction extends Construct {
  /** The Lambda function. */
  readonly fn: NodejsFunction;
  /** The function's execution role; grants for its resources go here. */
  readonly role: Role;
  /** The log group the function writes to. */
  readonly logGroup: LogGroup;
  /** The Powertools service name (`POWERTOOLS_SERVICE_NAME`) the function reports under. */
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: VigilFunctionProps) {
    super(scope, id);
    const { definition } = props;
    const logLevel = props.logLevel ?? "INFO";
    this.serviceName = `vigil-${definition.id.toLowerCase()}`;

    // Log events are operational data, not business state: when the stack goes, they may go too.
    this.logGroup = new LogGroup(this, "LogGroup", {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Execution role of the Vigil ${definition.id} function`,
    });
    this.logGroup.grantWrite(this.role);
    const { network } = props;
    if (network) {
      // What AWSLambdaVPCAccessExecutionRole grants, inline: Lambda manages the function's interfaces.
      this.role.addToPolicy(new PolicyStatement({ actions: [...VPC_ACCESS_ACTIONS], resources: ["*"] }));
    }

    this.fn = new NodejsFunction(this, "Function", {
      description: props.description ?? `Vigil ${definition.id} function`,
      entry: path.join(REPO_ROOT, definition.entry),
      handler: definition.handler,
      projectRoot: REPO_ROOT,
      depsLockFilePath: LOCK_FILE,
      runtime: VIGIL_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memoryMiB ?? definition.memoryMiB,
      timeout: Duration.seconds(definition.timeoutSeconds),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      ...(network
        ? { vpc: network.vpc, vpcSubnets: network.subnets, securityGroups: [...network.securityGroups] }
        : {}),
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel[logLevel],
      environment: {
        ...props.environment,
        [ENV.serviceName]: this.serviceName,
        [ENV.metricsNamespace]: props.metricsNamespace ?? METRICS_NAMESPACE,
        [ENV.logLevel]: logLevel,
        NODE_OPTIONS: "--enable-source-maps",
      },
      bundling: {
        format: BUNDLING.format === "esm" ? OutputFormat.ESM : OutputFormat.CJS,
        target: BUNDLING.target,
        mainFields: [...BUNDLING.mainFields],
        minify: BUNDLING.minify,
        sourceMap: BUNDLING.sourceMap,
        externalModules: [...BUNDLING.externalModules],
        banner: BUNDLING.banner,
        // Synth must work on machines without Docker: NodejsFunction uses the esbuild in node_modules.
        forceDockerBundling: false,
      },
    });

    // CDK's Function adds a DependsOn on its role next to the GetAtt of the role's Arn, which already
    // orders them (cfn-lint W3005). Keep every other dependency, the role's policy first of all.
    const cfnFunction = this.fn.node.defaultChild as CfnResource;
    const cfnRole = this.role.node.defaultChild as CfnResource;
    cfnFunction.addOverride(
      "DependsOn",
      Lazy.list({
        produce: () =>
          cfnFunction
            .obtainDependencies()
            .filter((d): d is CfnResource => CfnResource.isCfnResource(d) && d !== cfnRole)
            .map((d) => d.logicalId),
      }),
    );

    Validations.of(this.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no " +
        "resource-level permissions (Resource must be '*')" +
        (network
          ? "; attached to a VPC, Lambda also needs the ENI actions of AWSLambdaVPCAccessExecutionRole " +
            "(ec2:CreateNetworkInterface, DescribeNetworkInterfaces, DeleteNetworkInterface, " +
            "Assign/UnassignPrivateIpAddresses), which Lambda's documentation grants on '*'"
          : "") +
        ". Every data-plane statement of the role names its resource ARN (checked by the infra tests).",
    });
    Validations.of(this.fn).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "The runtime deliberately follows LAMBDA_NODE_TARGET in shared/bundling.ts so the deployed runtime, " +
        `the esbuild target and the local runtime agree; ${VIGIL_RUNTIME.name} is a supported LTS runtime. ` +
        "Moving to a newer runtime is a one-constant change made on purpose, not whenever aws-cdk-lib " +
        "learns a new one.",
    });
  }
}
