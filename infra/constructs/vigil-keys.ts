import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import {
  AccountRootPrincipal,
  ArnPrincipal,
  Effect,
  type IPrincipal,
  PolicyDocument,
  PolicyStatement,
  ServicePrincipal,
} from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";

/** AWS services whose requests may use a Vigil data key on a caller's behalf (`kms:ViaService`). */
export type KeyService = "dynamodb" | "kinesis" | "sqs" | "sns" | "secretsmanager" | "es" | "s3";

/**
 * Administration without cryptographic use: enough to manage the key's lifecycle, aliases, rotation
 * and policy, and nothing that encrypts, decrypts or creates grants.
 */
export const KEY_ADMIN_ACTIONS = [
  "kms:CancelKeyDeletion",
  "kms:CreateAlias",
  "kms:DeleteAlias",
  "kms:DescribeKey",
  "kms:DisableKey",
  "kms:DisableKeyRotation",
  "kms:EnableKey",
  "kms:EnableKeyRotation",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListAliases",
  "kms:ListGrants",
  "kms:ListKeyPolicies",
  "kms:ListKeyRotations",
  "kms:ListResourceTags",
  "kms:PutKeyPolicy",
  "kms:RevokeGrant",
  "kms:RotateKeyOnDemand",
  "kms:ScheduleKeyDeletion",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:UpdateAlias",
  "kms:UpdateKeyDescription",
] as const;

/** Cryptographic use a data service makes of a key for the principals that call it. */
const USE_ACTIONS = [
  "kms:Decrypt",
  "kms:DescribeKey",
  "kms:Encrypt",
  "kms:GenerateDataKey*",
  "kms:ReEncrypt*",
] as const;

/** Properties of {@link VigilKeys}. */
export interface VigilKeysProps {
  /** Keep the keys when the stack is deleted (RETAIN), or schedule their deletion (DESTROY, 7 days). */
  readonly retain: boolean;
  /**
   * Principals that administer the keys (must include the role CloudFormation deploys with, or the
   * key policy would lock it out).
   * @default - the account: IAM policies decide who administers
   */
  readonly adminArns?: readonly string[];
}

/**
 * The stack's three customer-managed keys, each with yearly rotation and a key policy that separates
 * administration from use:
 *
 * - `personalData` encrypts what holds personal data as received (events stream, state, decisions,
 *   quarantine and config tables, the pseudonymization key secret);
 * - `data` encrypts pseudonymous and operational data (decisions stream, alerts table, alert topic,
 *   failure queues, the audit domain at rest);
 * - `operations` encrypts log groups (for the CloudWatch Logs service) and the operations topic (for
 *   CloudWatch alarms).
 *
 * The data keys' policies let principals of the account use them only through the data services
 * (`kms:ViaService`), so a role's KMS permission never reaches further than its permissions on the
 * stream, table, queue, topic or secret; every Vigil role names the key and the service in its own
 * policy. The administrators' statement carries no cryptographic action.
 */
export class VigilKeys extends Construct {
  /** Personal data as received. */
  readonly personalData: Key;
  /** Pseudonymous and operational data. */
  readonly data: Key;
  /** Log groups and the operations topic. */
  readonly operations: Key;

  constructor(scope: Construct, id: string, props: VigilKeysProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const admins: IPrincipal[] =
      props.adminArns && props.adminArns.length > 0
        ? props.adminArns.map((arn) => new ArnPrincipal(arn))
        : [new AccountRootPrincipal()];
    const adminStatement = new PolicyStatement({
      sid: "Administration",
      effect: Effect.ALLOW,
      principals: admins,
      actions: [...KEY_ADMIN_ACTIONS],
      resources: ["*"],
    });
    const viaServices = (services: readonly KeyService[]) => [
      new PolicyStatement({
        sid: "UseThroughDataServices",
        effect: Effect.ALLOW,
        principals: [new AccountRootPrincipal()],
        actions: [...USE_ACTIONS],
        resources: ["*"],
        conditions: {
          StringEquals: {
            "kms:CallerAccount": stack.account,
            "kms:ViaService": services.map((s) => `${s}.${stack.region}.amazonaws.com`),
          },
        },
      }),
      // DynamoDB and OpenSearch create grants for themselves when a table or domain is created.
      new PolicyStatement({
        sid: "GrantsForDataServices",
        effect: Effect.ALLOW,
        principals: [new AccountRootPrincipal()],
        actions: ["kms:CreateGrant"],
        resources: ["*"],
        conditions: {
          StringEquals: {
            "kms:CallerAccount": stack.account,
            "kms:ViaService": services.map((s) => `${s}.${stack.region}.amazonaws.com`),
          },
          Bool: { "kms:GrantIsForAWSResource": "true" },
        },
      }),
    ];
    const key = (keyId: string, description: string, statements: PolicyStatement[]) =>
      new Key(this, keyId, {
        description,
        enableKeyRotation: true,
        policy: new PolicyDocument({ statements: [adminStatement, ...statements] }),
        removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        // The shortest waiting period KMS allows, for the profiles that delete their keys.
        ...(props.retain ? {} : { pendingWindow: Duration.days(7) }),
      });

    this.personalData = key(
      "PersonalDataKey",
      "Vigil: personal data as received (events stream, event archive, state, decisions, quarantine, config, pseudonymization key)",
      viaServices(["kinesis", "dynamodb", "secretsmanager", "s3"]),
    );
    this.data = key(
      "DataKey",
      "Vigil: pseudonymous and operational data (decisions stream, alerts table, topics, failure queues, audit domain)",
      viaServices(["kinesis", "dynamodb", "sqs", "sns", "es"]),
    );
    this.operations = key("OperationsKey", "Vigil: log groups and the operations topic", [
      ...viaServices(["sns"]),
      new PolicyStatement({
        sid: "CloudWatchLogs",
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        resources: ["*"],
        conditions: {
          ArnLike: {
            "kms:EncryptionContext:aws:logs:arn": `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
          },
        },
      }),
      // Alarm actions publish to the encrypted operations topic as the CloudWatch service.
      new PolicyStatement({
        sid: "CloudWatchAlarms",
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      }),
    ]);
  }
}
