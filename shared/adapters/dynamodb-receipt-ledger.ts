import { randomUUID } from "node:crypto";
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { compareSequenceNumbers } from "#shared/domain/features/index";
import type {
  ReceiptLedger,
  SettledOutcome,
  SettledRecord,
  ShardLedger,
  ShardRef,
} from "#shared/ports/receipt-ledger";
import { TABLES, TTL_ATTRIBUTE } from "#shared/resources";

const KEY = TABLES.decisions.partitionKey.name;
/**
 * Ledger items share the decisions table, like the `dup#` markers, under keys no eventId can take
 * (eventIds may not contain `#`): one item per stream and shard.
 */
export const RECEIPT_PREFIX = "recv#";

/** The ledger item's key of a shard. */
export const receiptKey = (shard: ShardRef) => `${RECEIPT_PREFIX}${shard.stream}#${shard.shardId}`;

/** A mark kept conflicting with other writers (another invocation moving the same shard's mark). */
export class ReceiptConflictError extends Error {
  override readonly name = "ReceiptConflictError";
}

type MarkName = "receivedUpTo" | "settledUpTo";

/**
 * The receipt ledger in the DynamoDB decisions table. Each mark moves with one UpdateItem
 * conditional on the value last seen; the marks seen are cached per container, so a warm function
 * moves a mark in one request, and a stale cache costs one conditional failure, which returns the
 * item as it is (ReturnValuesOnConditionCheckFailure).
 */
export class DynamoDbReceiptLedger implements ReceiptLedger {
  /** Last value seen of each mark (`null`: known to be absent). */
  private readonly seen = new Map<string, string | null>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    /** Seconds a shard's ledger is kept after its last write: longer than a record can be redelivered. */
    private readonly retentionSeconds: number,
    private readonly maxAttempts = 10,
  ) {}

  receive(shard: ShardRef, sequenceNumbers: readonly string[], at: Date): Promise<ReadonlySet<string>> {
    return this.move(
      shard,
      "receivedUpTo",
      sequenceNumbers.map((sequenceNumber) => ({ sequenceNumber })),
      at,
      (counted) => ({ received: counted.length }),
    );
  }

  settle(shard: ShardRef, records: readonly SettledRecord[], at: Date): Promise<ReadonlySet<string>> {
    return this.move(shard, "settledUpTo", records, at, (counted) => {
      const totals: Record<string, number> = { decided: 0, quarantined: 0, duplicates: 0 };
      for (const r of counted) {
        const total = outcomeTotal(r.outcome);
        totals[total] = (totals[total] ?? 0) + 1;
      }
      return totals;
    });
  }

  async read(shard: ShardRef): Promise<ShardLedger | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [KEY]: { S: receiptKey(shard) } },
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const count = (name: string) => Number(Item[name]?.N ?? 0);
    const receivedUpTo = Item.receivedUpTo?.S;
    const settledUpTo = Item.settledUpTo?.S;
    return {
      ...(receivedUpTo !== undefined ? { receivedUpTo } : {}),
      ...(settledUpTo !== undefined ? { settledUpTo } : {}),
      received: count("received"),
      decided: count("decided"),
      quarantined: count("quarantined"),
      duplicates: count("duplicates"),
    };
  }

  /**
   * Moves one mark over `records` (ascending): counts those above it, adding `totals(counted)` to
   * the item's running totals in the same conditional write. Returns the counted sequence numbers.
   */
  private async move<R extends { readonly sequenceNumber: string }>(
    shard: ShardRef,
    mark: MarkName,
    records: readonly R[],
    at: Date,
    totals: (counted: readonly R[]) => Record<string, number>,
  ): Promise<ReadonlySet<string>> {
    const top = records.at(-1)?.sequenceNumber;
    if (top === undefined) return new Set();
    const key = receiptKey(shard);
    const cacheKey = `${key} ${mark}`;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      // Unknown: assume absent; a wrong guess costs one conditional failure that tells the truth.
      const current = this.seen.get(cacheKey) ?? null;
      const counted = records.filter(
        (r) => current === null || compareSequenceNumbers(r.sequenceNumber, current) > 0,
      );
      if (counted.length === 0) return new Set();
      const adds = Object.entries(totals(counted));
      // Names this request: if the SDK retries it after it went through, the refusal shows it.
      const token = randomUUID();
      const names: Record<string, string> = { "#m": mark, "#tok": `${mark}Token`, "#ttl": TTL_ATTRIBUTE };
      const values: Record<string, AttributeValue> = {
        ":tok": { S: token },
        ":top": { S: top },
        ":at": { S: at.toISOString() },
        ":exp": { N: String(Math.floor(at.getTime() / 1000) + this.retentionSeconds) },
      };
      adds.forEach(([name, n], i) => {
        names[`#t${i}`] = name;
        values[`:t${i}`] = { N: String(n) };
      });
      if (current !== null) values[":mark"] = { S: current };
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { [KEY]: { S: key } },
            UpdateExpression:
              `SET #m = :top, #tok = :tok, updatedAt = :at, #ttl = :exp` +
              (adds.length > 0 ? ` ADD ${adds.map((_, i) => `#t${i} :t${i}`).join(", ")}` : ""),
            ConditionExpression: current === null ? "attribute_not_exists(#m)" : "#m = :mark",
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        );
        this.seen.set(cacheKey, top);
        return new Set(counted.map((r) => r.sequenceNumber));
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const stored = error.Item;
        if (stored?.[`${mark}Token`]?.S === token) {
          // An SDK retry of this very request, which had gone through: the records are ours.
          this.seen.set(cacheKey, top);
          return new Set(counted.map((r) => r.sequenceNumber));
        }
        // Someone else moved the mark (or the cache was cold): count again from where it stands.
        this.seen.set(cacheKey, stored?.[mark]?.S ?? null);
      }
    }
    throw new ReceiptConflictError(
      `${mark} of ${shard.shardId}: still conflicting after ${this.maxAttempts}`,
    );
  }
}

function outcomeTotal(outcome: SettledOutcome): string {
  return outcome === "duplicate" ? "duplicates" : outcome;
}
