import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { putIfAbsent } from "#shared/adapters/dynamodb-put-if-absent";
import { SCAN_PAGE_LIMIT } from "#shared/adapters/dynamodb-scan-page";
import {
  AUDIT_QUARANTINE_REASONS,
  type AuditQuarantine,
  type AuditQuarantineEntry,
  type AuditQuarantineReason,
} from "#shared/ports/audit-quarantine";
import { TABLES, TTL_ATTRIBUTE } from "#shared/resources";

const KEY = TABLES.quarantine.partitionKey.name;

/**
 * Audit quarantine entries in the quarantine table, beside score's: same item shape, an `audit:`
 * id prefix and reasons of their own, so `vigil quarantine list` shows both and a report counts
 * both by reason. Decision messages are a few kilobytes, far below the item limit.
 */
export class DynamoDbAuditQuarantine implements AuditQuarantine {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly retentionSeconds: number,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async putIfAbsent(entry: AuditQuarantineEntry): Promise<"stored" | "exists"> {
    const expiresAt = Math.floor(Date.parse(entry.receivedAt) / 1000) + this.retentionSeconds;
    const stored = await putIfAbsent(this.doc, this.tableName, KEY, { ...entry, [TTL_ATTRIBUTE]: expiresAt });
    return stored ? "stored" : "exists";
  }

  async list(filter: { reason?: AuditQuarantineReason } = {}): Promise<AuditQuarantineEntry[]> {
    const reasons = filter.reason ? [filter.reason] : AUDIT_QUARANTINE_REASONS;
    const entries: AuditQuarantineEntry[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          ExclusiveStartKey,
          Limit: SCAN_PAGE_LIMIT,
          FilterExpression: `#r IN (${reasons.map((_, i) => `:r${i}`).join(", ")})`,
          ExpressionAttributeNames: { "#r": "reason" },
          ExpressionAttributeValues: Object.fromEntries(reasons.map((r, i) => [`:r${i}`, r])),
        }),
      );
      for (const item of page.Items ?? []) {
        const { [TTL_ATTRIBUTE]: _ttl, ...entry } = item;
        entries.push(entry as AuditQuarantineEntry);
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return entries.sort((a, b) => b.receivedAt.localeCompare(a.receivedAt) || a.id.localeCompare(b.id));
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
