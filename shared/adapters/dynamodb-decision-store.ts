import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { DecisionRecord, DecisionStore, StoreOutcome } from "#shared/ports/decision-store";
import { TABLES, TTL_ATTRIBUTE } from "#shared/resources";

const KEY = TABLES.decisions.partitionKey.name;

/** Decisions in the DynamoDB decisions table, written with a condition so the first one stands. */
export class DynamoDbDecisionStore implements DecisionStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    /** Seconds a decision is kept before TTL may delete it. */
    private readonly retentionSeconds: number,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async putIfAbsent(decision: DecisionRecord): Promise<StoreOutcome> {
    const expiresAt = Math.floor(Date.parse(decision.decidedAt) / 1000) + this.retentionSeconds;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...decision, [TTL_ATTRIBUTE]: expiresAt },
          ConditionExpression: "attribute_not_exists(#k)",
          ExpressionAttributeNames: { "#k": KEY },
        }),
      );
      return "stored";
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return "duplicate";
      throw error;
    }
  }

  async get(eventId: string): Promise<DecisionRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [KEY]: eventId } }),
    );
    if (!Item) return undefined;
    const { [TTL_ATTRIBUTE]: _ttl, ...decision } = Item;
    return decision as DecisionRecord;
  }
}
