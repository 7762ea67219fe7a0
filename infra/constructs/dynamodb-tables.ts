import { RemovalPolicy, Validations } from "aws-cdk-lib";
import { AttributeType, BillingMode, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import type { TableBilling } from "#infra/profiles";
import { mapRecord } from "#infra/records";
import type { KeyAttributeType, TableDefinition } from "#shared/resources";

const ATTRIBUTE_TYPE = {
  S: AttributeType.STRING,
  N: AttributeType.NUMBER,
} as const satisfies Record<KeyAttributeType, AttributeType>;

/** How far provisioned capacity may scale above its floor. */
const AUTO_SCALING_FACTOR = 10;

/** Properties of {@link DynamoDbTables}. */
export interface DynamoDbTablesProps<K extends string> {
  /** One table per entry, keyed like `TABLES`; keys and TTL attribute come from each definition. */
  readonly definitions: Readonly<Record<K, TableDefinition>>;
  /** Customer-managed key of each table. */
  readonly encryptionKeys: Readonly<Record<K, IKey>>;
  /**
   * On-demand, or provisioned with target-tracking auto scaling (70%) from the given units to ten times them.
   * @default { billing: "onDemand" }
   */
  readonly capacity?: {
    readonly billing: TableBilling;
    readonly readUnits: number;
    readonly writeUnits: number;
  };
  /**
   * Point-in-time recovery.
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
  /**
   * What CloudFormation does with a table it stops managing: the tables hold decisions, windowed
   * state and operator configuration, so the default keeps them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Whether DynamoDB refuses `DeleteTable` (console, CLI or CloudFormation) until this is turned off.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * DynamoDB tables built from resource definitions: partition/sort keys and TTL attribute exactly as
 * defined, on-demand (the load follows the event stream, which is bursty) or provisioned with auto
 * scaling, point-in-time recovery, customer-managed KMS encryption, and retained on stack deletion
 * unless told otherwise.
 */
export class DynamoDbTables<K extends string> extends Construct {
  /** The tables, keyed like the definitions. */
  readonly tables: Readonly<Record<K, Table>>;

  constructor(scope: Construct, id: string, props: DynamoDbTablesProps<K>) {
    super(scope, id);
    const capacity = props.capacity ?? { billing: "onDemand", readUnits: 0, writeUnits: 0 };
    const provisioned = capacity.billing === "provisioned";
    this.tables = mapRecord(props.definitions, (definition, key) => {
      const table = new Table(this, definition.id, {
        partitionKey: {
          name: definition.partitionKey.name,
          type: ATTRIBUTE_TYPE[definition.partitionKey.type],
        },
        sortKey: definition.sortKey && {
          name: definition.sortKey.name,
          type: ATTRIBUTE_TYPE[definition.sortKey.type],
        },
        timeToLiveAttribute: definition.ttlAttribute,
        billingMode: provisioned ? BillingMode.PROVISIONED : BillingMode.PAY_PER_REQUEST,
        ...(provisioned ? { readCapacity: capacity.readUnits, writeCapacity: capacity.writeUnits } : {}),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: props.encryptionKeys[key],
        deletionProtection: props.deletionProtection ?? true,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      if (props.pointInTimeRecovery === false) {
        Validations.of(table).acknowledge({
          id: "AwsSolutions-DDB3",
          reason:
            "Point-in-time recovery was turned off for this deployment by vigil:pointInTimeRecovery=false (a " +
            "disposable environment whose tables are deleted with the stack); the dev and prod profiles keep it on.",
        });
      }
      if (provisioned) {
        table
          .autoScaleReadCapacity({
            minCapacity: capacity.readUnits,
            maxCapacity: capacity.readUnits * AUTO_SCALING_FACTOR,
          })
          .scaleOnUtilization({ targetUtilizationPercent: 70 });
        table
          .autoScaleWriteCapacity({
            minCapacity: capacity.writeUnits,
            maxCapacity: capacity.writeUnits * AUTO_SCALING_FACTOR,
          })
          .scaleOnUtilization({ targetUtilizationPercent: 70 });
      }
      return table;
    });
  }
}
