import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { QuarantineReason } from "#shared/domain/event/index";
import type { QuarantineEntry, QuarantineStore } from "#shared/ports/quarantine-store";
import { TABLES, TTL_ATTRIBUTE } from "#shared/resources";

const KEY = TABLES.quarantine.partitionKey.name;

/**
 * Quarantine in its DynamoDB table. Listing scans: the table only holds bad records, which TTL
 * removes after the retention period, and listing is an operator action, not a hot path.
 */
export class DynamoDbQuarantineStore implements QuarantineStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly retentionSeconds: number,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async putIfAbsent(entry: QuarantineEntry): Promise<"stored" | "exists"> {
    const expiresAt = Math.floor(Date.parse(entry.receivedAt) / 1000) + this.retentionSeconds;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...entry, [TTL_ATTRIBUTE]: expiresAt },
          ConditionExpression: "attribute_not_exists(#k)",
          ExpressionAttributeNames: { "#k": KEY },
        }),
      );
      return "stored";
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return "exists";
      throw error;
    }
  }

  async get(id: string): Promise<QuarantineEntry | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [KEY]: id } }));
    return Item ? strip(Item) : undefined;
  }

  async list(filter: { reason?: QuarantineReason; limit?: number } = {}): Promise<QuarantineEntry[]> {
    const entries: QuarantineEntry[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          ExclusiveStartKey,
          ...(filter.reason
            ? {
                FilterExpression: "#r = :r",
                ExpressionAttributeNames: { "#r": "reason" },
                ExpressionAttributeValues: { ":r": filter.reason },
              }
            : {}),
        }),
      );
      for (const item of page.Items ?? []) entries.push(strip(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    entries.sort((a, b) => b.receivedAt.localeCompare(a.receivedAt) || a.id.localeCompare(b.id));
    return filter.limit === undefined ? entries : entries.slice(0, filter.limit);
  }

  async markReplayed(id: string, at: string, replayedAs: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [KEY]: id },
        UpdateExpression: "SET replayedAt = :at, replayedAs = :as",
        ConditionExpression: "attribute_exists(#k)",
        ExpressionAttributeNames: { "#k": KEY },
        ExpressionAttributeValues: { ":at": at, ":as": replayedAs },
      }),
    );
  }
}

function strip(item: Record<string, unknown>): QuarantineEntry {
  const { [TTL_ATTRIBUTE]: _ttl, ...entry } = item;
  return entry as unknown as QuarantineEntry;
}
