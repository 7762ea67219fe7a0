import { Stack } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import {
  AccountRootPrincipal,
  ArnPrincipal,
  CompositePrincipal,
  type IGrantable,
  type IPrincipal,
  ManagedPolicy,
  PolicyStatement,
  Role,
} from "aws-cdk-lib/aws-iam";
import type { IStream } from "aws-cdk-lib/aws-kinesis";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import type { AuditDomain } from "#infra/constructs/audit-domain";
import type { DistributedBacktest } from "#infra/constructs/distributed-backtest";
import type { EventArchive } from "#infra/constructs/event-archive";
import type { DynamoDbAction, KinesisPutAction } from "#infra/function-permissions";
import { grantActions, grantKeyViaService } from "#infra/grants";
import { entriesOf } from "#infra/records";
import type { StreamKey, TableKey } from "#shared/resources";

/**
 * What the `vigil` CLI calls against a deployment (cli/): config table reads, version listing and
 * conditional applies (`rules`, `lists`, `model`, `features`); decisions by id (`decision`,
 * `evaluate`) and scans of them (`cases list`, `dataset export`, `rules stats`); quarantine list,
 * show and mark-replayed (`quarantine`, `audit quarantine`, `report`); an entity's state (`features
 * show`); labels put, read and scanned (`labels import|show`, `dataset export`); case resolutions
 * (`cases show|resolve`, a transaction putting the case and its label); puts on the events stream
 * (`send`, `quarantine replay`, `simulate --send`) and on the decisions stream (`audit reindex`).
 */
export const OPERATOR_PERMISSIONS: {
  readonly tables: Readonly<Record<TableKey, readonly (DynamoDbAction | "dynamodb:Scan")[]>>;
  readonly streams: Readonly<Record<StreamKey, readonly KinesisPutAction[]>>;
} = {
  tables: {
    config: [
      "dynamodb:GetItem",
      "dynamodb:BatchGetItem",
      "dynamodb:Query",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
    ],
    decisions: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Scan"],
    quarantine: ["dynamodb:GetItem", "dynamodb:Scan", "dynamodb:UpdateItem"],
    state: ["dynamodb:GetItem"],
    alerts: [],
    labels: ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan"],
    cases: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"],
  },
  streams: { events: ["kinesis:PutRecords"], decisions: ["kinesis:PutRecords"] },
};

/** What a producer needs: put records on the events stream, with the stream's key through Kinesis. */
export const PRODUCER_ACTIONS: readonly KinesisPutAction[] = ["kinesis:PutRecord", "kinesis:PutRecords"];

/** Properties of {@link AccessRoles}. */
export interface AccessRolesProps {
  readonly streams: Readonly<Record<StreamKey, { readonly stream: IStream; readonly key: IKey }>>;
  readonly tables: Readonly<Record<TableKey, { readonly table: ITable; readonly key: IKey }>>;
  /** The event archive: the operator may read it (vigil backtest). */
  readonly archive: EventArchive;
  /** The distributed backtest: the operator may run one (vigil backtest --distributed). */
  readonly backtest: DistributedBacktest;
  /** The audit domain, when there is one: the operator and reader roles may search it. */
  readonly auditDomain?: AuditDomain;
  /**
   * Principals allowed to assume the operator and reader roles.
   * @default - the account (IAM decides which of its principals may)
   */
  readonly trustedArns?: readonly string[];
}

/**
 * The IAM entry points for people and producers:
 *
 * - `operator`: what the `vigil` CLI does against this stack ({@link OPERATOR_PERMISSIONS}), plus
 *   `cloudformation:DescribeStacks` on the stack (the CLI's `--stack`) and, with an audit domain,
 *   reading the trail (`vigil report`); reading the event archive (`vigil backtest`) and running a
 *   distributed backtest (`vigil backtest --distributed`: its run objects, StartExecution,
 *   DescribeExecution);
 * - `auditReader` (with an audit domain): GET and POST on the audit indices only, mapped to the
 *   read-only FGAC role;
 * - `producerPolicy`: a managed policy to attach to any role that puts events (PutRecord(s) on the
 *   events stream, `kms:GenerateDataKey` on its key through Kinesis), the same grant as
 *   {@link AccessRoles.grantPutEvents}.
 */
export class AccessRoles extends Construct {
  /** Role for operators running the CLI. */
  readonly operator: Role;
  /** Read-only role on the audit trail (undefined without an audit domain). */
  readonly auditReader: Role | undefined;
  /** Managed policy for event producers. */
  readonly producerPolicy: ManagedPolicy;
  private readonly events: { readonly stream: IStream; readonly key: IKey };

  constructor(scope: Construct, id: string, props: AccessRolesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.events = props.streams.events;
    const trusted: IPrincipal[] =
      props.trustedArns && props.trustedArns.length > 0
        ? props.trustedArns.map((arn) => new ArnPrincipal(arn))
        : [new AccountRootPrincipal()];
    const assumedBy = trusted.length === 1 && trusted[0] ? trusted[0] : new CompositePrincipal(...trusted);

    this.operator = new Role(this, "Operator", {
      assumedBy,
      description: `Vigil operator (vigil CLI) for the ${stack.stackName} stack`,
    });
    const decryptKeys = new Set<IKey>();
    for (const [key, actions] of entriesOf(OPERATOR_PERMISSIONS.tables)) {
      if (actions.length === 0) continue;
      grantActions(this.operator, actions, [props.tables[key].table.tableArn]);
      decryptKeys.add(props.tables[key].key);
    }
    for (const key of decryptKeys) grantKeyViaService(this.operator, key, "dynamodb", ["kms:Decrypt"]);
    for (const [key, actions] of entriesOf(OPERATOR_PERMISSIONS.streams)) {
      grantActions(this.operator, actions, [props.streams[key].stream.streamArn]);
      grantKeyViaService(this.operator, props.streams[key].key, "kinesis", ["kms:GenerateDataKey"]);
    }
    grantActions(this.operator, ["cloudformation:DescribeStacks"], [stack.stackId]);
    props.archive.grantRead(this.operator);
    props.backtest.grantRun(this.operator, props.archive);

    if (props.auditDomain) {
      props.auditDomain.grantRead(this.operator);
      this.auditReader = new Role(this, "AuditReader", {
        assumedBy,
        description: `Vigil audit trail reader (read-only) for the ${stack.stackName} stack`,
      });
      props.auditDomain.grantRead(this.auditReader);
    }

    this.producerPolicy = new ManagedPolicy(this, "ProducerPolicy", {
      description: `Vigil: put events on the ${stack.stackName} events stream`,
      statements: [
        new PolicyStatement({ actions: [...PRODUCER_ACTIONS], resources: [this.events.stream.streamArn] }),
        new PolicyStatement({
          actions: ["kms:GenerateDataKey"],
          resources: [this.events.key.keyArn],
          conditions: { StringEquals: { "kms:ViaService": `kinesis.${stack.region}.amazonaws.com` } },
        }),
      ],
    });
  }

  /** Lets a principal put events: PutRecord(s) on the events stream and its key through Kinesis. */
  grantPutEvents(grantee: IGrantable): void {
    grantActions(grantee, PRODUCER_ACTIONS, [this.events.stream.streamArn]);
    grantKeyViaService(grantee, this.events.key, "kinesis", ["kms:GenerateDataKey"]);
  }
}
