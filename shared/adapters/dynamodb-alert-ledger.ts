import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { putIfAbsent } from "#shared/adapters/dynamodb-put-if-absent";
import type { AlertChannel } from "#shared/domain/alerts/alert-policy";
import type { AlertLedger, Delivery, ThrottleRequest, ThrottleVerdict } from "#shared/ports/alert-ledger";
import { TABLES, TTL_ATTRIBUTE } from "#shared/resources";

const KEY = TABLES.alerts.partitionKey.name;

/** Item key of a delivery. */
export const deliveryKey = (eventId: string, channel: AlertChannel) => `delivery#${channel}#${eventId}`;
/** Item key of a throttle window. */
export const windowKey = (channel: AlertChannel, finding: string, entity: string) =>
  `window#${channel}#${finding}#${entity}`;

/** Attempts of a throttle transaction that collides with a concurrent one on the same windows. */
const TRANSACTION_CONFLICT_ATTEMPTS = 4;

/** Options of {@link DynamoDbAlertLedger}. */
export interface DynamoDbAlertLedgerOptions {
  /**
   * How long a delivery item is kept (TTL). It must outlive every redelivery that can still alert:
   * set it above the policy's maxAgeSeconds (a later redelivery is stale and never alerts).
   */
  readonly deliveryRetentionSeconds: number;
  /** Waits between transaction retries. Default: setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The alert ledger in its DynamoDB table (`TABLES.alerts`), two item kinds under one key:
 *
 * - `delivery#<channel>#<eventId>`: state of one decision's alert on one channel, created with a
 *   conditional put, so a redelivered decision finds it;
 * - `window#<channel>#<finding>#<entity>`: a throttle window with its end (`windowEndsAt`, epoch
 *   ms), the event that opened it (`owner`) and the count of alerts it suppressed.
 *
 * A throttle verdict opens all of an alert's windows in one transaction whose every item is
 * conditioned on its window being free (absent, ended, or opened by this very event), so two
 * alerts about one entity cannot both get through, and a retry of the same event gets the same
 * answer. Correctness reads `windowEndsAt`, never TTL, which deletes lazily.
 */
export class DynamoDbAlertLedger implements AlertLedger {
  private readonly doc: DynamoDBDocumentClient;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly options: DynamoDbAlertLedgerOptions,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async claim(
    eventId: string,
    channel: AlertChannel,
    now: Date,
  ): Promise<{ fresh: true } | { fresh: false; delivery: Delivery }> {
    const key = deliveryKey(eventId, channel);
    const item = {
      [KEY]: key,
      eventId,
      channel,
      state: "claimed",
      claimedAt: now.toISOString(),
      [TTL_ATTRIBUTE]: Math.floor(now.getTime() / 1000) + this.options.deliveryRetentionSeconds,
    };
    if (await putIfAbsent(this.doc, this.tableName, KEY, item)) return { fresh: true };
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [KEY]: key }, ConsistentRead: true }),
    );
    // TTL removed it between the put and the get: it had expired, so this delivery starts afresh.
    if (!Item) return this.claim(eventId, channel, now);
    return {
      fresh: false,
      delivery: {
        eventId,
        channel,
        state: Item.state as Delivery["state"],
        ...(typeof Item.suppressedBefore === "number" ? { suppressedBefore: Item.suppressedBefore } : {}),
        ...(typeof Item.messageId === "string" ? { messageId: Item.messageId } : {}),
      },
    };
  }

  async throttle(request: ThrottleRequest): Promise<ThrottleVerdict> {
    const entities = [...new Set(request.entities)];
    if (entities.length === 0 || request.windowSeconds === 0) return { allowed: true, suppressedBefore: 0 };
    const keys = entities.map((e) => windowKey(request.channel, request.finding, e));
    const nowMs = request.now.getTime();
    for (let attempt = 1; ; attempt++) {
      const before = await this.readWindows(keys);
      const open = (w: WindowItem | undefined) => w !== undefined && w.windowEndsAt > nowMs;
      // Every window already opened by this event: a retry after a crash. Same answer as before.
      if (keys.every((k) => open(before.get(k)) && before.get(k)?.owner === request.eventId))
        return { allowed: true, suppressedBefore: 0 };
      // What the windows about to be replaced suppressed in their time: the count the alert reports.
      let suppressedBefore = 0;
      for (const w of before.values())
        if (!open(w) && w.owner !== request.eventId)
          suppressedBefore = Math.max(suppressedBefore, w.suppressed);

      const endMs = nowMs + request.windowSeconds * 1000;
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: keys.map((key) => ({
              Update: {
                TableName: this.tableName,
                Key: { [KEY]: key },
                UpdateExpression: "SET windowEndsAt = :end, #owner = :event, suppressed = :zero, #ttl = :ttl",
                ConditionExpression: "attribute_not_exists(#k) OR windowEndsAt <= :now OR #owner = :event",
                ExpressionAttributeNames: { "#k": KEY, "#owner": "owner", "#ttl": TTL_ATTRIBUTE },
                ExpressionAttributeValues: {
                  ":end": endMs,
                  ":event": request.eventId,
                  ":zero": 0,
                  ":now": nowMs,
                  // Kept a day past its end so the next alert can still report what it suppressed.
                  ":ttl": Math.floor(endMs / 1000) + 86_400,
                },
              },
            })),
          }),
        );
        return { allowed: true, suppressedBefore };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const held = keys.filter((_, i) => reasons[i]?.Code === "ConditionalCheckFailed");
        if (held.length > 0) {
          await Promise.all(held.map((key) => this.countSuppressed(key, request.eventId, nowMs)));
          return { allowed: false };
        }
        // TransactionConflict: another alert is writing the same windows right now; look again.
        if (attempt >= TRANSACTION_CONFLICT_ATTEMPTS) throw error;
        await this.sleep(20 * 2 ** attempt * Math.random());
      }
    }
  }

  async update(
    eventId: string,
    channel: AlertChannel,
    change:
      | { readonly state: "allowed"; readonly suppressedBefore: number }
      | { readonly state: "suppressed" }
      | { readonly state: "sent"; readonly messageId: string },
  ): Promise<void> {
    const values: Record<string, unknown> = { ":state": change.state, ":at": new Date().toISOString() };
    let set = "#state = :state, updatedAt = :at";
    if (change.state === "allowed") {
      set += ", suppressedBefore = :suppressed";
      values[":suppressed"] = change.suppressedBefore;
    }
    if (change.state === "sent") {
      set += ", messageId = :messageId";
      values[":messageId"] = change.messageId;
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [KEY]: deliveryKey(eventId, channel) },
        UpdateExpression: `SET ${set}`,
        ConditionExpression: "attribute_exists(#k)",
        ExpressionAttributeNames: { "#k": KEY, "#state": "state" },
        ExpressionAttributeValues: values,
      }),
    );
  }

  private async readWindows(keys: readonly string[]): Promise<Map<string, WindowItem>> {
    const found = new Map<string, WindowItem>();
    let pending: Record<string, unknown>[] = keys.map((k) => ({ [KEY]: k }));
    while (pending.length > 0) {
      const out = await this.doc.send(
        new BatchGetCommand({
          RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
        }),
      );
      for (const item of out.Responses?.[this.tableName] ?? []) {
        found.set(String(item[KEY]), {
          windowEndsAt: Number(item.windowEndsAt ?? 0),
          owner: String(item.owner ?? ""),
          suppressed: Number(item.suppressed ?? 0),
        });
      }
      pending = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      if (pending.length > 0) await this.sleep(50);
    }
    return found;
  }

  /** One more alert suppressed by an open window of another event (best effort: a count for humans). */
  private async countSuppressed(key: string, eventId: string, nowMs: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [KEY]: key },
          UpdateExpression: "ADD suppressed :one",
          ConditionExpression: "windowEndsAt > :now AND #owner <> :event",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":one": 1, ":now": nowMs, ":event": eventId },
        }),
      );
    } catch (error) {
      // The window ended or changed hands in between: nothing to count there.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

interface WindowItem {
  readonly windowEndsAt: number;
  readonly owner: string;
  readonly suppressed: number;
}
