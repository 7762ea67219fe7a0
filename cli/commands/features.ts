import type { Command } from "commander";
import { resolveTarget } from "#cli/env";
import { CliError } from "#cli/output";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbStateStore } from "#shared/adapters/dynamodb-state-store";
import { compileFeatureSet, DEFAULT_FEATURE_SET } from "#shared/domain/features/index";

/** `vigil features show`: an entity's windowed feature values as of now. */
export function registerFeatureCommands(program: Command): void {
  const features = program.command("features").description("Inspect windowed behaviour features");
  features
    .command("show")
    .description("Print an entity's current feature values (e.g. `features show deviceId dev-42`)")
    .argument(
      "<entityType>",
      "userId, ip, deviceId, cardFingerprint, phone, or a combination like deviceId+campaignId",
    )
    .argument("<values...>", "the key value(s), one per field of the entity type")
    .action(async (entityType: string, values: string[]) => {
      const target = resolveTarget();
      const store = new DynamoDbStateStore({
        client: createDynamoDbClient(target.env),
        tableName: target.table("state"),
        // The score function's feature set: state is stored under each definition's hash.
        features: compileFeatureSet(DEFAULT_FEATURE_SET),
      });
      try {
        const reading = await store.read(entityType, values);
        process.stdout.write(`${JSON.stringify(reading, null, 2)}\n`);
        if (!reading.exists) throw new CliError(`no state for ${entityType} ${values.join(" ")}`, 3);
      } catch (error) {
        if (error instanceof RangeError) throw new CliError(error.message, 2);
        throw error;
      }
    });
}
