import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ResourceInUseException as StreamInUseException,
} from "@aws-sdk/client-kinesis";
import {
  physicalName,
  STREAMS,
  type StreamKey,
  TABLES,
  type TableDefinition,
  type TableKey,
} from "#shared/resources";

/** Physical names of the local resources, by their key in `shared/resources.ts`. */
export interface LocalResourceNames {
  readonly streams: Readonly<Record<StreamKey, string>>;
  readonly tables: Readonly<Record<TableKey, string>>;
}

/** Names for a prefix, derived the same way every time so a restarted stack finds its resources. */
export function resourceNames(prefix: string): LocalResourceNames {
  const map = <K extends string>(defs: Record<K, { id: string }>) =>
    Object.fromEntries(
      Object.entries<{ id: string }>(defs).map(([key, def]) => [key, physicalName(prefix, def.id)]),
    ) as Record<K, string>;
  return { streams: map(STREAMS), tables: map(TABLES) };
}

/** The environment variables (`VIGIL_*`) through which functions and tools receive resource names. */
export function resourceEnv(names: LocalResourceNames): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, def] of Object.entries(STREAMS)) env[def.envVar] = names.streams[key as StreamKey];
  for (const [key, def] of Object.entries(TABLES)) env[def.envVar] = names.tables[key as TableKey];
  return env;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function createTable(client: DynamoDBClient, name: string, def: TableDefinition): Promise<boolean> {
  const keys = [def.partitionKey, ...(def.sortKey ? [def.sortKey] : [])];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? "HASH" : "RANGE" })),
      }),
    );
  } catch (error) {
    if (error instanceof ResourceInUseException) return false;
    throw error;
  }
  await until(
    async () =>
      (await client.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus === "ACTIVE",
    `table ${name}`,
  );
  if (def.ttlAttribute) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: def.ttlAttribute, Enabled: true },
      }),
    );
  }
  return true;
}

async function createStream(client: KinesisClient, name: string, shardCount: number): Promise<boolean> {
  let created = true;
  try {
    await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
  } catch (error) {
    if (!(error instanceof StreamInUseException)) throw error;
    created = false;
  }
  await until(
    async () =>
      (await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary
        ?.StreamStatus === "ACTIVE",
    `stream ${name}`,
  );
  return created;
}

/**
 * Creates every stream and table of `shared/resources.ts` (keys, TTL attribute, shard count) if
 * it does not exist yet. Idempotent: an existing resource is left as it is.
 */
export async function bootstrapResources(
  clients: { kinesis: KinesisClient; dynamodb: DynamoDBClient },
  names: LocalResourceNames,
  log: (message: string) => void = () => {},
): Promise<void> {
  await Promise.all([
    ...Object.entries(STREAMS).map(async ([key, def]) => {
      const name = names.streams[key as StreamKey];
      const created = await createStream(clients.kinesis, name, def.shardCount);
      log(`stream ${name} (${def.shardCount} shards) ${created ? "created" : "exists"}`);
    }),
    ...Object.entries(TABLES).map(async ([key, def]) => {
      const name = names.tables[key as TableKey];
      const created = await createTable(clients.dynamodb, name, def);
      log(`table ${name} ${created ? "created" : "exists"}`);
    }),
  ]);
}
