import { RemovalPolicy } from "aws-cdk-lib";
import { AttributeType, BillingMode, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { mapRecord } from "#infra/records";
import type { KeyAttributeType, TableDefinition } from "#shared/resources";

const ATTRIBUTE_TYPE = {
  S: AttributeType.STRING,
  N: AttributeType.NUMBER,
} as const satisfies Record<KeyAttributeType, AttributeType>;

/** Properties of {@link DynamoDbTables}. */
export interface DynamoDbTablesProps<K extends string> {
  /** One table per entry, keyed like `TABLES`; keys and TTL attribute come from each definition. */
  readonly definitions: Readonly<Record<K, TableDefinition>>;
  /** Customer-managed key every table is encrypted with. */
  readonly encryptionKey: IKey;
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
 * defined, on-demand billing (the load follows the event stream, which is bursty), point-in-time
 * recovery, customer-managed KMS encryption, and retained on stack deletion.
 */
export class DynamoDbTables<K extends string> extends Construct {
  /** The tables, keyed like the definitions. */
  readonly tables: Readonly<Record<K, Table>>;

  constructor(scope: Construct, id: string, props: DynamoDbTablesProps<K>) {
    super(scope, id);
    this.tables = mapRecord(
      props.definitions,
      (definition) =>
        new Table(this, definition.id, {
          partitionKey: {
            name: definition.partitionKey.name,
            type: ATTRIBUTE_TYPE[definition.partitionKey.type],
          },
          sortKey: definition.sortKey && {
            name: definition.sortKey.name,
            type: ATTRIBUTE_TYPE[definition.sortKey.type],
          },
          timeToLiveAttribute: definition.ttlAttribute,
          billingMode: BillingMode.PAY_PER_REQUEST,
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          encryption: TableEncryption.CUSTOMER_MANAGED,
          encryptionKey: props.encryptionKey,
          deletionProtection: props.deletionProtection ?? true,
          removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
        }),
    );
  }
}
