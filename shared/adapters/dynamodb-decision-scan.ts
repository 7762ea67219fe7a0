import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { SCAN_PAGE_LIMIT } from "#shared/adapters/dynamodb-scan-page";
import type { RuleStatsDecision } from "#shared/domain/report/rule-stats";
import type { DecisionScan, DecisionScanFilter } from "#shared/ports/decision-scan";
import type { DecisionRecord } from "#shared/ports/decision-store";
import { TTL_ATTRIBUTE } from "#shared/resources";

/** Parallel scan segments: DynamoDB reads them concurrently. */
const SEGMENTS = 4;

/**
 * Stored decisions read with a filtered parallel Scan of the decisions table. The filter runs on
 * the server (less data sent, the same read capacity consumed); duplicate markers, which share the
 * table, have no `decidedAt` and are never returned. Times are ISO-8601 UTC with milliseconds, so
 * string order is time order.
 */
export class DynamoDbDecisionScan implements DecisionScan {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async *scan(filter: DecisionScanFilter): AsyncIterable<DecisionRecord> {
    const names: Record<string, string> = { "#decidedAt": "decidedAt" };
    const values: Record<string, unknown> = {};
    const conditions = ["attribute_exists(#decidedAt)"];
    if (filter.occurredFrom !== undefined || filter.occurredTo !== undefined)
      names["#occurredAt"] = "occurredAt";
    if (filter.occurredFrom !== undefined) {
      conditions.push("#occurredAt >= :occurredFrom");
      values[":occurredFrom"] = filter.occurredFrom;
    }
    if (filter.occurredTo !== undefined) {
      conditions.push("#occurredAt < :occurredTo");
      values[":occurredTo"] = filter.occurredTo;
    }
    if (filter.decidedFrom !== undefined) {
      conditions.push("#decidedAt >= :decidedFrom");
      values[":decidedFrom"] = filter.decidedFrom;
    }
    if (filter.decidedTo !== undefined) {
      conditions.push("#decidedAt < :decidedTo");
      values[":decidedTo"] = filter.decidedTo;
    }
    const oneOf = (attribute: string, list: readonly string[] | undefined, prefix: string) => {
      if (list === undefined) return;
      names[`#${prefix}`] = attribute;
      const keys = list.map((v, i) => {
        values[`:${prefix}${i}`] = v;
        return `:${prefix}${i}`;
      });
      conditions.push(
        keys.length === 0 ? "attribute_not_exists(#decidedAt)" : `#${prefix} IN (${keys.join(", ")})`,
      );
    };
    oneOf("action", filter.actions, "action");
    oneOf("type", filter.types, "type");
    // The segments are read concurrently; their results are yielded segment by segment.
    const segments = await Promise.all(
      Array.from({ length: SEGMENTS }, (_, segment) => this.segment(segment, conditions, names, values)),
    );
    for (const decisions of segments) yield* decisions;
  }

  private async segment(
    segment: number,
    conditions: readonly string[],
    names: Record<string, string>,
    values: Record<string, unknown>,
  ): Promise<DecisionRecord[]> {
    const out: DecisionRecord[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          Segment: segment,
          TotalSegments: SEGMENTS,
          FilterExpression: conditions.join(" AND "),
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
          ExclusiveStartKey,
          Limit: SCAN_PAGE_LIMIT,
        }),
      );
      for (const item of page.Items ?? []) {
        const { [TTL_ATTRIBUTE]: _ttl, ...decision } = item;
        out.push(decision as unknown as DecisionRecord);
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }
}

/**
 * Decisions made in a window (rule monitoring): the filtered Scan above on decidedAt. There is no
 * index on decision time, so every item of the table is read and billed once, whatever the window;
 * on a large table prefer the audit trail.
 */
export function scanDecisions(
  client: DynamoDBClient,
  tableName: string,
  window: { readonly since: Date; readonly until: Date },
): AsyncIterable<RuleStatsDecision> {
  return new DynamoDbDecisionScan(client, tableName).scan({
    decidedFrom: window.since.toISOString(),
    decidedTo: window.until.toISOString(),
  });
}
