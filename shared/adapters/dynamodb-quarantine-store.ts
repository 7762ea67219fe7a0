import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { putIfAbsent } from "#shared/adapters/dynamodb-put-if-absent";
import { SCAN_PAGE_LIMIT } from "#shared/adapters/dynamodb-scan-page";
import type { QuarantineReason } from "#shared/domain/event/index";
import type { QuarantineEntry, QuarantineStore } from "#shared/ports/quarantine-store";
import { TABLES, TTL_ATTRIBUTE } from "#shared/resources";

const KEY = TABLES.quarantine.partitionKey.name;
/**
 * A DynamoDB item holds at most 400 KB, a Kinesis record up to 1 MiB. Records whose base64 text
 * is longer than this are stored as binary chunk items next to the entry (`<id>#chunk#<n>`), so
 * even the largest record is kept whole for inspection and replay.
 */
const INLINE_DATA_MAX = 300_000;
const CHUNK_BYTES = 300_000;
const chunkKey = (id: string, n: number) => `${id}#chunk#${n}`;

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
    let item: Record<string, unknown> = { ...entry, [TTL_ATTRIBUTE]: expiresAt };
    if (entry.data.length > INLINE_DATA_MAX) {
      const bytes = Buffer.from(entry.data, "base64");
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += CHUNK_BYTES)
        chunks.push(bytes.subarray(at, at + CHUNK_BYTES));
      // Chunks first (idempotent puts of the same bytes), so an entry never points at missing data.
      for (const [n, chunk] of chunks.entries()) {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { [KEY]: chunkKey(entry.id, n), chunk, [TTL_ATTRIBUTE]: expiresAt },
          }),
        );
      }
      const { data: _inline, ...rest } = entry;
      item = { ...rest, dataChunks: chunks.length, [TTL_ATTRIBUTE]: expiresAt };
    }
    return (await putIfAbsent(this.doc, this.tableName, KEY, item)) ? "stored" : "exists";
  }

  async get(id: string): Promise<QuarantineEntry | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [KEY]: id } }));
    return Item ? this.assemble(Item) : undefined;
  }

  /** The entry of a stored item, with the record's bytes read back from its chunks if it has any. */
  private async assemble(item: Record<string, unknown>): Promise<QuarantineEntry> {
    const { [TTL_ATTRIBUTE]: _ttl, dataChunks, ...entry } = item;
    if (typeof dataChunks !== "number") return entry as unknown as QuarantineEntry;
    const parts: Uint8Array[] = [];
    for (let n = 0; n < dataChunks; n++) {
      const { Item: part } = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { [KEY]: chunkKey(String(entry[KEY]), n) },
          ConsistentRead: true,
        }),
      );
      if (!(part?.chunk instanceof Uint8Array))
        throw new Error(`quarantine entry ${String(entry[KEY])} is missing chunk ${n}`);
      parts.push(part.chunk);
    }
    return { ...entry, data: Buffer.concat(parts).toString("base64") } as unknown as QuarantineEntry;
  }

  async list(filter: { reason?: QuarantineReason; limit?: number } = {}): Promise<QuarantineEntry[]> {
    const entries: QuarantineEntry[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          ExclusiveStartKey,
          Limit: SCAN_PAGE_LIMIT,
          // Chunk items have no reason, so this filter also leaves them out.
          FilterExpression: filter.reason ? "#r = :r" : "attribute_exists(#r)",
          ExpressionAttributeNames: { "#r": "reason" },
          ...(filter.reason ? { ExpressionAttributeValues: { ":r": filter.reason } } : {}),
        }),
      );
      for (const item of page.Items ?? []) entries.push(await this.assemble(item));
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
