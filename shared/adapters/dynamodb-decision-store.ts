import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { putIfAbsent } from "#shared/adapters/dynamodb-put-if-absent";
import type { DecisionRecord, DecisionStore, StoreOutcome } from "#shared/ports/decision-store";
import { TABLES, TTL_ATTRIBUTE } from "#shared/resources";

const KEY = TABLES.decisions.partitionKey.name;
/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_MAX = 100;
/**
 * Duplicate markers share the decisions table under keys no eventId can take (eventIds may not
 * contain `#`), so recording a duplicate is one conditional put and needs no other table.
 */
const DUPLICATE_PREFIX = "dup#";

/** Decisions in the DynamoDB decisions table, written with a condition so the first one stands. */
export class DynamoDbDecisionStore implements DecisionStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    /** Seconds a decision is kept before TTL may delete it. */
    private readonly retentionSeconds: number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  private async putOnce(item: Record<string, unknown>, at: string): Promise<StoreOutcome> {
    const expiresAt = Math.floor(Date.parse(at) / 1000) + this.retentionSeconds;
    const written = await putIfAbsent(this.doc, this.tableName, KEY, { ...item, [TTL_ATTRIBUTE]: expiresAt });
    return written ? "stored" : "duplicate";
  }

  putIfAbsent(decision: DecisionRecord): Promise<StoreOutcome> {
    return this.putOnce({ ...decision }, decision.decidedAt);
  }

  recordDuplicate(eventId: string, source: DecisionRecord["source"], at: string): Promise<StoreOutcome> {
    return this.putOnce(
      {
        [KEY]: `${DUPLICATE_PREFIX}${source.shardId}:${source.sequenceNumber}`,
        duplicateOf: eventId,
        source,
        recordedAt: at,
      },
      at,
    );
  }

  async get(eventId: string): Promise<DecisionRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [KEY]: eventId } }),
    );
    return Item ? strip(Item) : undefined;
  }

  async getMany(eventIds: readonly string[]): Promise<ReadonlyMap<string, DecisionRecord>> {
    const found = new Map<string, DecisionRecord>();
    const unique = [...new Set(eventIds)];
    for (let start = 0; start < unique.length; start += BATCH_GET_MAX) {
      let keys: Record<string, unknown>[] = unique
        .slice(start, start + BATCH_GET_MAX)
        .map((id) => ({ [KEY]: id }));
      // Unprocessed keys (throttling) are asked again with backoff until none are left.
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await this.sleep(Math.min(2000, 25 * 2 ** attempt));
        const response = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of response.Responses?.[this.tableName] ?? []) {
          const decision = strip(item);
          found.set(decision.eventId, decision);
        }
        keys = response.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
  }
}

function strip(item: Record<string, unknown>): DecisionRecord {
  const { [TTL_ATTRIBUTE]: _ttl, ...decision } = item;
  return decision as unknown as DecisionRecord;
}
