import { Logger } from "@aws-lambda-powertools/logger";
import type { CloudFormationCustomResourceEvent } from "aws-lambda";
import * as z from "zod";
import { handleSeedEvent } from "#functions/config-seed/seed-event";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { respondToCloudFormation } from "#shared/adapters/cloudformation-response";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import { TABLES } from "#shared/resources";

// Composition root: configuration and clients are built once per container (cold start).
const env = z.object({ [TABLES.config.envVar]: z.string().min(1) }).parse(process.env);
const logger = new Logger({ serviceName: "vigil-config-seed" });
const store = new DynamoDbConfigStore(createDynamoDbClient(), env[TABLES.config.envVar]);

/**
 * Provider of the `Custom::VigilConfigSeed` CloudFormation resource: seeds the shipped defaults of
 * every configuration kind that has no version yet, so a fresh deployment decides with the shipped
 * rules, lists, model and features from its first event.
 */
export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  await handleSeedEvent(event, { store, now: () => new Date(), respond: respondToCloudFormation, logger });
}
