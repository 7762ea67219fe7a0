import { createHash } from "node:crypto";
import { CustomResource } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { VigilFunction, type VigilLogLevel } from "#infra/constructs/vigil-function";
import { CONFIG_SEED_PERMISSIONS } from "#infra/function-permissions";
import { grantActions, grantKeyViaService } from "#infra/grants";
import { SHIPPED_DEFAULTS } from "#shared/domain/decision/shipped-defaults";
import { type FunctionDefinition, TABLES } from "#shared/resources";

/** The provider of the seeding custom resource (deployment-only, so not in `FUNCTIONS`). */
export const CONFIG_SEED_FUNCTION: FunctionDefinition = {
  id: "ConfigSeed",
  entry: "functions/config-seed/handler.ts",
  handler: "handler",
  memoryMiB: 256,
  timeoutSeconds: 120,
  tables: { config: "readWrite" },
};

/** Properties of {@link ConfigSeed}. */
export interface ConfigSeedProps {
  /** The config table and its key. */
  readonly table: ITable;
  readonly tableKey: IKey;
  readonly logRetention?: RetentionDays;
  readonly logLevel?: VigilLogLevel;
  readonly logEncryptionKey?: IKey;
  /**
   * CloudWatch namespace of the function's metrics.
   * @default - the VigilFunction default
   */
  readonly metricsNamespace?: string;
}

/**
 * `Custom::VigilConfigSeed`: at deploy time, writes the shipped defaults (rules, lists, model,
 * features) of every kind that has no version in the config table yet, and nothing else. Its
 * provider (`functions/config-seed`) may read heads and versions and put new items, nothing more.
 * The resource's `DefaultsSha256` property changes when the shipped defaults do, so a deployment
 * that ships a new kind seeds it; kinds that have versions are never touched.
 */
export class ConfigSeed extends Construct {
  /** The provider function. */
  readonly provider: VigilFunction;
  /** The custom resource. */
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ConfigSeedProps) {
    super(scope, id);
    this.provider = new VigilFunction(this, "Provider", {
      definition: CONFIG_SEED_FUNCTION,
      environment: { [TABLES.config.envVar]: props.table.tableName },
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      logEncryptionKey: props.logEncryptionKey,
      metricsNamespace: props.metricsNamespace,
      description: "Vigil: seeds the shipped default configuration of kinds that have none",
    });
    grantActions(this.provider.role, CONFIG_SEED_PERMISSIONS.tables.config, [props.table.tableArn]);
    grantKeyViaService(this.provider.role, props.tableKey, "dynamodb", ["kms:Decrypt"]);

    this.resource = new CustomResource(this, "Seed", {
      serviceToken: this.provider.fn.functionArn,
      resourceType: "Custom::VigilConfigSeed",
      properties: {
        Kinds: Object.keys(SHIPPED_DEFAULTS),
        DefaultsSha256: createHash("sha256").update(JSON.stringify(SHIPPED_DEFAULTS)).digest("hex"),
      },
    });
    // The role's policy (a separate resource) must be in place before the provider runs.
    this.resource.node.addDependency(this.provider.role);
  }
}
