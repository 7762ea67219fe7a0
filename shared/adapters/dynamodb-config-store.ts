import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { type DynamoDBClient, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import {
  type ApplyRequest,
  ConfigConflictError,
  ConfigDependencyConflictError,
  type ConfigHead,
  type ConfigKind,
  type ConfigStore,
  ConfigTooLargeError,
  type ConfigVersion,
  type ConfigVersionInfo,
  type HeadCondition,
} from "#shared/ports/config-store";
import { TABLES } from "#shared/resources";

type TransactWriteItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

const PK = TABLES.config.partitionKey.name;
const SK = TABLES.config.sortKey.name;
/** Sort key of the head item of a kind. */
const HEAD = "head";
/** Prefix of version items; the number is zero-padded so versions sort in order. */
const VERSION_PREFIX = "v#";
/** Compressed document limit: DynamoDB items hold 400 KB, and the attributes need some of it. */
export const MAX_COMPRESSED_BYTES = 380_000;
const KIND = /^[a-z][a-z0-9-]{0,31}$/;

/** Sort key of a version: `v#0000000042`. */
export function versionKey(version: number): string {
  return `${VERSION_PREFIX}${String(version).padStart(10, "0")}`;
}

/**
 * Versioned configuration in the config table. Item layout (partition `pk` = kind):
 *
 * - `sk = "v#0000000042"`: version 42, immutable: `version`, `author`, `createdAt`, `comment`,
 *   `restoredFrom`, `sha256`, `bytes`, and `body`, the document's JSON text gzip-compressed
 *   (binary), which lets a list of ~20k entries fit in one item;
 * - `sk = "head"`: `version` in force, `updatedAt`.
 *
 * `apply` is one TransactWriteItems: put the new version if absent, move the head if it is
 * still at the expected version (create it if the kind had none), and a ConditionCheck on the
 * head item of every kind in `requireHeads` (still at the version the document was checked
 * against). Any condition failing cancels every write, so there are no orphan versions, no lost
 * updates, and no write checked against a head that has since moved.
 */
export class DynamoDbConfigStore implements ConfigStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async head(kind: ConfigKind): Promise<ConfigHead | undefined> {
    checkKind(kind);
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [PK]: kind, [SK]: HEAD }, ConsistentRead: true }),
    );
    return Item ? toHead(Item) : undefined;
  }

  async heads(kinds: readonly ConfigKind[]): Promise<ReadonlyMap<ConfigKind, ConfigHead>> {
    for (const kind of kinds) checkKind(kind);
    const found = new Map<ConfigKind, ConfigHead>();
    let keys: Record<string, unknown>[] = [...new Set(kinds)].map((kind) => ({ [PK]: kind, [SK]: HEAD }));
    // Unprocessed keys (throttling) are asked again with backoff until none are left.
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1_000, 25 * 2 ** attempt)));
      const response = await this.doc.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of response.Responses?.[this.tableName] ?? []) {
        const head = toHead(item);
        found.set(head.kind, head);
      }
      keys = response.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return found;
  }

  async get(kind: ConfigKind, version: number): Promise<ConfigVersion | undefined> {
    checkKind(kind);
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [PK]: kind, [SK]: versionKey(version) },
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const body = Item.body;
    if (!(body instanceof Uint8Array)) throw new Error(`${kind} version ${version}: item has no binary body`);
    return { ...toInfo(Item), document: JSON.parse(gunzipSync(body).toString("utf8")) };
  }

  async list(kind: ConfigKind, options: { readonly limit?: number } = {}): Promise<ConfigVersionInfo[]> {
    checkKind(kind);
    const limit = options.limit ?? 50;
    const out: ConfigVersionInfo[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "#pk = :kind AND begins_with(#sk, :prefix)",
          ExpressionAttributeNames: {
            "#pk": PK,
            "#sk": SK,
            "#v": "version",
            "#c": "comment",
          },
          ExpressionAttributeValues: { ":kind": kind, ":prefix": VERSION_PREFIX },
          ProjectionExpression: "#pk, #v, author, createdAt, #c, restoredFrom, sha256, bytes",
          ScanIndexForward: false,
          Limit: limit - out.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) out.push(toInfo(item));
      start = page.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  async apply(request: ApplyRequest): Promise<ConfigVersionInfo> {
    checkKind(request.kind);
    if (!Number.isSafeInteger(request.expectedVersion) || request.expectedVersion < 0) {
      throw new Error(`expectedVersion must be a non-negative integer, got ${request.expectedVersion}`);
    }
    const json = JSON.stringify(request.document);
    const body = gzipSync(Buffer.from(json, "utf8"), { level: 9 });
    if (body.length > MAX_COMPRESSED_BYTES)
      throw new ConfigTooLargeError(request.kind, body.length, MAX_COMPRESSED_BYTES);
    const required = request.requireHeads ?? [];
    for (const h of required) {
      checkKind(h.kind);
      if (h.kind === request.kind) throw new Error(`requireHeads names the kind being written (${h.kind})`);
      if (!Number.isSafeInteger(h.version) || h.version < 0) {
        throw new Error(`requireHeads ${h.kind}: version must be a non-negative integer, got ${h.version}`);
      }
    }
    if (new Set(required.map((h) => h.kind)).size !== required.length) {
      throw new Error("requireHeads names a kind twice");
    }
    const version = request.expectedVersion + 1;
    const info: ConfigVersionInfo = {
      kind: request.kind,
      version,
      author: request.author,
      createdAt: request.now,
      ...(request.comment ? { comment: request.comment } : {}),
      ...(request.restoredFrom === undefined ? {} : { restoredFrom: request.restoredFrom }),
      sha256: createHash("sha256").update(json).digest("hex"),
      bytes: Buffer.byteLength(json),
    };
    const head =
      request.expectedVersion === 0
        ? {
            Put: {
              TableName: this.tableName,
              Item: { [PK]: request.kind, [SK]: HEAD, version, updatedAt: request.now },
              ConditionExpression: "attribute_not_exists(#pk)",
              ExpressionAttributeNames: { "#pk": PK },
            },
          }
        : {
            Update: {
              TableName: this.tableName,
              Key: { [PK]: request.kind, [SK]: HEAD },
              UpdateExpression: "SET #v = :next, updatedAt = :now",
              ConditionExpression: "#v = :expected",
              ExpressionAttributeNames: { "#v": "version" },
              ExpressionAttributeValues: {
                ":next": version,
                ":expected": request.expectedVersion,
                ":now": request.now,
              },
            },
          };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                // The kind is the partition key; it is not stored twice.
                Item: { [PK]: request.kind, [SK]: versionKey(version), ...withoutKind(info), body },
                ConditionExpression: "attribute_not_exists(#pk)",
                ExpressionAttributeNames: { "#pk": PK },
              },
            },
            head,
            ...required.map((h) => ({ ConditionCheck: this.headCondition(h) })),
          ],
        }),
      );
    } catch (error) {
      // A failed condition (a head moved) and a concurrent transaction on the same items
      // (another apply in flight) both mean: someone else's change came first. Reasons come in
      // the order of the items: the version, this kind's head, then the required heads.
      if (!(error instanceof TransactionCanceledException)) throw error;
      const lost = (error.CancellationReasons ?? []).map(
        (r) => r.Code === "ConditionalCheckFailed" || r.Code === "TransactionConflict",
      );
      if (lost[0] || lost[1]) {
        const current = await this.head(request.kind);
        throw new ConfigConflictError(request.kind, request.expectedVersion, current?.version);
      }
      const moved = required.find((_, i) => lost[i + 2]);
      if (moved) {
        const current = await this.head(moved.kind);
        throw new ConfigDependencyConflictError(
          request.kind,
          request.expectedVersion,
          moved.kind,
          moved.version,
          current?.version,
        );
      }
      throw error;
    }
    return info;
  }

  /** The ConditionCheck that a kind's head is still at a version (0: still absent). */
  private headCondition(h: HeadCondition): NonNullable<TransactWriteItem["ConditionCheck"]> {
    const Key = { [PK]: h.kind, [SK]: HEAD };
    if (h.version === 0) {
      return {
        TableName: this.tableName,
        Key,
        ConditionExpression: "attribute_not_exists(#pk)",
        ExpressionAttributeNames: { "#pk": PK },
      };
    }
    return {
      TableName: this.tableName,
      Key,
      ConditionExpression: "#v = :version",
      ExpressionAttributeNames: { "#v": "version" },
      ExpressionAttributeValues: { ":version": h.version },
    };
  }
}

function withoutKind(info: ConfigVersionInfo): Omit<ConfigVersionInfo, "kind"> {
  const { kind: _kind, ...rest } = info;
  return rest;
}

function checkKind(kind: string): void {
  if (!KIND.test(kind)) throw new Error(`invalid config kind ${JSON.stringify(kind)}`);
}

function toHead(item: Record<string, unknown>): ConfigHead {
  return { kind: String(item[PK]), version: Number(item.version), updatedAt: String(item.updatedAt) };
}

function toInfo(item: Record<string, unknown>): ConfigVersionInfo {
  return {
    kind: String(item[PK]),
    version: Number(item.version),
    author: String(item.author),
    createdAt: String(item.createdAt),
    ...(typeof item.comment === "string" ? { comment: item.comment } : {}),
    ...(item.restoredFrom === undefined ? {} : { restoredFrom: Number(item.restoredFrom) }),
    sha256: String(item.sha256),
    bytes: Number(item.bytes),
  };
}
