import {
  type AttributeValue,
  CreateTableCommand,
  type DynamoDBClient,
  ScanCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { LocalStack } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import { DynamoDbQuarantineStore } from "#shared/adapters/dynamodb-quarantine-store";
import { DynamoDbReceiptLedger, RECEIPT_PREFIX } from "#shared/adapters/dynamodb-receipt-ledger";
import { DynamoDbStateTable } from "#shared/adapters/dynamodb-state-store";
import { StateStoreEngine } from "#shared/adapters/state-store-engine";
import type { DecisionRecord } from "#shared/ports/decision-store";
import type { QuarantineEntry } from "#shared/ports/quarantine-store";
import { TABLES, TTL_ATTRIBUTE } from "#shared/resources";
import { assembleWorld, SCORE_FEATURES, type ScoreWorld } from "./score-path.ts";

const DAY = 86_400;
let worlds = 0;

/** Creates a table like the deployed one (key, TTL) under a fresh name. */
async function createTable(client: DynamoDBClient, name: string, key: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: key, AttributeType: "S" }],
      KeySchema: [{ AttributeName: key, KeyType: "HASH" }],
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    }),
  );
}

async function scan(client: DynamoDBClient, name: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: name, ExclusiveStartKey, ConsistentRead: true }),
    );
    for (const item of page.Items ?? []) items.push(unmarshall(item));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** Worlds on DynamoDB Local: every world gets its own decisions, quarantine and state tables. */
export function dynamoDbWorlds(stack: LocalStack): (nowMs: number) => Promise<ScoreWorld> {
  const client = createDynamoDbClient(stack.env);
  return async (nowMs) => {
    const n = ++worlds;
    const names = {
      decisions: `score-${n}-decisions`,
      quarantine: `score-${n}-quarantine`,
      state: `score-${n}-state`,
    };
    await Promise.all([
      createTable(client, names.decisions, TABLES.decisions.partitionKey.name),
      createTable(client, names.quarantine, TABLES.quarantine.partitionKey.name),
      createTable(client, names.state, TABLES.state.partitionKey.name),
    ]);
    return assembleWorld(
      {
        decisions: new DynamoDbDecisionStore(client, names.decisions, 90 * DAY),
        quarantine: new DynamoDbQuarantineStore(client, names.quarantine, 14 * DAY),
        features: (wrap) =>
          new StateStoreEngine(wrap(new DynamoDbStateTable(client, names.state)), SCORE_FEATURES, {
            clock: () => nowMs,
          }),
        receipts: new DynamoDbReceiptLedger(client, names.decisions, 90 * DAY),
        async snapshot() {
          const decisionItems = await scan(client, names.decisions);
          const decisions: Record<string, DecisionRecord> = {};
          const duplicates: string[] = [];
          for (const item of decisionItems) {
            const key = String(item.eventId);
            if (key.startsWith("dup#")) duplicates.push(key.slice("dup#".length));
            else if (!key.startsWith(RECEIPT_PREFIX)) {
              const { [TTL_ATTRIBUTE]: _ttl, ...decision } = item;
              decisions[key] = decision as unknown as DecisionRecord;
            }
          }
          const quarantine: Record<string, QuarantineEntry> = {};
          for (const item of await scan(client, names.quarantine)) {
            const { [TTL_ATTRIBUTE]: _ttl, ...entry } = item;
            quarantine[String(item.id)] = entry as unknown as QuarantineEntry;
          }
          const state: Record<string, string> = {};
          for (const item of await scan(client, names.state)) state[String(item.pk)] = String(item.s);
          return { decisions, duplicates: duplicates.sort(), quarantine, state };
        },
      },
      nowMs,
    );
  };
}
