import type { AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { RuleStatsDecision } from "#shared/domain/report/rule-stats";

/**
 * Decisions made in a window, read from the decisions table by a filtered Scan (there is no index
 * on decision time): every item of the table is read and billed once, whatever the window, so on a
 * large table prefer the audit trail. Duplicate markers (`dup#…` items) are skipped.
 */
export async function* scanDecisions(
  client: DynamoDBClient,
  tableName: string,
  window: { readonly since: Date; readonly until: Date },
): AsyncGenerator<RuleStatsDecision> {
  const doc = DynamoDBDocumentClient.from(client);
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: "decidedAt >= :since AND decidedAt < :until AND attribute_exists(#action)",
        ExpressionAttributeNames: { "#action": "action" },
        ExpressionAttributeValues: {
          ":since": window.since.toISOString(),
          ":until": window.until.toISOString(),
        },
        ProjectionExpression: "eventId, decidedAt, #action, decidedBy, ruleHits",
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) yield item as RuleStatsDecision;
    start = page.LastEvaluatedKey as Record<string, AttributeValue> | undefined;
  } while (start);
}
