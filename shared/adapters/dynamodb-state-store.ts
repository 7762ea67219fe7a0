import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  fromItem,
  itemSizeBytes,
  STATE_ATTRIBUTES,
  type StoredEntity,
} from "#shared/adapters/dynamodb-state-codec";
import { backoffDelayMs } from "#shared/adapters/dynamodb-state-retry";
import {
  type StateItemTable,
  StateStoreEngine,
  type StateStoreEngineOptions,
} from "#shared/adapters/state-store-engine";
import type { CompiledFeatureSet } from "#shared/domain/features/index";

/** Requests and capacity a state table has used since it was built (metrics, benchmark). */
export interface StateTableStats {
  readRequests: number;
  writeRequests: number;
  /** Capacity units DynamoDB reported (ReturnConsumedCapacity: TOTAL). */
  readCapacityUnits: number;
  writeCapacityUnits: number;
  /** Write units by AWS's rule from the item sizes: ceil(max(before, after) / 1 KB) per write. */
  estimatedWriteUnits: number;
  itemsRead: number;
  itemsWritten: number;
  /** Conditional writes refused because another writer changed the item first. */
  conflicts: number;
  /** Keys BatchGetItem returned unprocessed (throttling) and that were asked for again. */
  unprocessedReads: number;
}

/** The state could not be read; nothing was computed: retry the whole batch. */
export class StateStoreUnavailableError extends Error {
  override readonly name = "StateStoreUnavailableError";
}

const BATCH_GET_KEYS = 100;

/** Options of DynamoDbStateTable. */
export interface DynamoDbStateTableOptions {
  /** Rounds of BatchGetItem for unprocessed keys (throttling) before a read fails. Default 8. */
  readonly maxReadRounds?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/**
 * Entity items in the DynamoDB state table. Reads: BatchGetItem, strongly consistent, 100 keys a
 * request, unprocessed keys asked for again with backoff. Writes: one UpdateItem per entity,
 * conditional on the revision read, returning the current item when the condition fails
 * (ReturnValuesOnConditionCheckFailure) so a conflict costs no extra read. Throttling and 5xx
 * errors are retried by the SDK (maxAttempts of the client).
 */
export class DynamoDbStateTable implements StateItemTable {
  readonly stats: StateTableStats = {
    readRequests: 0,
    writeRequests: 0,
    readCapacityUnits: 0,
    writeCapacityUnits: 0,
    estimatedWriteUnits: 0,
    itemsRead: 0,
    itemsWritten: 0,
    conflicts: 0,
    unprocessedReads: 0,
  };
  private readonly maxReadRounds: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    options: DynamoDbStateTableOptions = {},
  ) {
    this.maxReadRounds = options.maxReadRounds ?? 8;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  async getMany(pks: readonly string[]): Promise<Map<string, StoredEntity>> {
    const found = new Map<string, StoredEntity>();
    const chunks: string[][] = [];
    for (let i = 0; i < pks.length; i += BATCH_GET_KEYS) chunks.push(pks.slice(i, i + BATCH_GET_KEYS));
    await Promise.all(chunks.map((chunk) => this.getChunk(chunk, found)));
    return found;
  }

  private async getChunk(chunk: readonly string[], found: Map<string, StoredEntity>): Promise<void> {
    let keys: Record<string, AttributeValue>[] = chunk.map((pk) => ({ [STATE_ATTRIBUTES.pk]: { S: pk } }));
    for (let round = 0; keys.length > 0; round++) {
      if (round >= this.maxReadRounds) {
        throw new StateStoreUnavailableError(
          `${keys.length} state items still unprocessed after ${round} reads`,
        );
      }
      if (round > 0) {
        this.stats.unprocessedReads += keys.length;
        await this.sleep(backoffDelayMs(round - 1, 50, 2_000, this.random));
      }
      let response: BatchGetItemCommandOutput;
      try {
        this.stats.readRequests++;
        response = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
            ReturnConsumedCapacity: "TOTAL",
          }),
        );
      } catch (error) {
        throw new StateStoreUnavailableError("reading the state table failed", { cause: error });
      }
      for (const c of response.ConsumedCapacity ?? []) this.stats.readCapacityUnits += c.CapacityUnits ?? 0;
      for (const item of response.Responses?.[this.tableName] ?? []) {
        const pk = item[STATE_ATTRIBUTES.pk]?.S;
        if (pk === undefined) continue;
        found.set(pk, fromItem(pk, item));
        this.stats.itemsRead++;
      }
      keys = response.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
  }

  async get(pk: string): Promise<StoredEntity | undefined> {
    this.stats.readRequests++;
    const response = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [STATE_ATTRIBUTES.pk]: { S: pk } },
        ConsistentRead: true,
      }),
    );
    return response.Item ? fromItem(pk, response.Item) : undefined;
  }

  async put(
    pk: string,
    item: StoredEntity,
    previous: StoredEntity | undefined,
  ): Promise<{ ok: true } | { ok: false; current: StoredEntity | undefined }> {
    const isNew = previous === undefined;
    try {
      this.stats.writeRequests++;
      const response = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [STATE_ATTRIBUTES.pk]: { S: pk } },
          UpdateExpression: "SET #s = :s, #rev = :next, #exp = :exp",
          ConditionExpression: isNew ? "attribute_not_exists(#pk)" : "#rev = :rev",
          ExpressionAttributeNames: {
            "#s": STATE_ATTRIBUTES.state,
            "#rev": STATE_ATTRIBUTES.revision,
            "#exp": STATE_ATTRIBUTES.expiresAt,
            ...(isNew ? { "#pk": STATE_ATTRIBUTES.pk } : {}),
          },
          ExpressionAttributeValues: {
            ":s": { S: item.state },
            ":next": { N: String(item.revision) },
            ":exp": { N: String(item.expiresAt) },
            ...(isNew ? {} : { ":rev": { N: String(previous.revision) } }),
          },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          ReturnConsumedCapacity: "TOTAL",
        }),
      );
      this.stats.writeCapacityUnits += response.ConsumedCapacity?.CapacityUnits ?? 0;
      const before = previous ? itemSizeBytes(pk, previous) : 0;
      this.stats.estimatedWriteUnits += Math.ceil(Math.max(before, itemSizeBytes(pk, item)) / 1024);
      this.stats.itemsWritten++;
      return { ok: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      this.stats.conflicts++;
      return { ok: false, current: error.Item ? fromItem(pk, error.Item) : undefined };
    }
  }
}

/** Construction options of DynamoDbStateStore. */
export interface DynamoDbStateStoreOptions extends StateStoreEngineOptions, DynamoDbStateTableOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly features: CompiledFeatureSet;
}

/**
 * Windowed feature state in the DynamoDB state table (TABLES.state): one item per entity, read
 * once per batch and written at most once per batch. See StateStoreEngine and docs/features.md.
 */
export class DynamoDbStateStore extends StateStoreEngine {
  /** The table's request and capacity counters. */
  readonly stats: StateTableStats;

  constructor(options: DynamoDbStateStoreOptions) {
    const table = new DynamoDbStateTable(options.client, options.tableName, options);
    super(table, options.features, options);
    this.stats = table.stats;
  }
}
