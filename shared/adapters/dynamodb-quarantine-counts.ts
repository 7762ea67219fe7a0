import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { SCAN_PAGE_LIMIT } from "#shared/adapters/dynamodb-scan-page";
import type { QuarantineCounter } from "#shared/ports/report-reader";

/**
 * Counts the quarantine table's entries (score's and audit's) by reason, by `receivedAt`. A scan
 * reading only two attributes: the table holds bad records only, expiring by TTL, and a report is
 * an operator action.
 */
export class DynamoDbQuarantineCounter implements QuarantineCounter {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async countByReason(since: Date, until: Date): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          ExclusiveStartKey,
          Limit: SCAN_PAGE_LIMIT,
          ProjectionExpression: "#r",
          FilterExpression: "attribute_exists(#r) AND receivedAt >= :since AND receivedAt < :until",
          ExpressionAttributeNames: { "#r": "reason" },
          ExpressionAttributeValues: { ":since": since.toISOString(), ":until": until.toISOString() },
        }),
      );
      for (const item of page.Items ?? []) {
        const reason = String(item.reason);
        counts.set(reason, (counts.get(reason) ?? 0) + 1);
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return counts;
  }
}
