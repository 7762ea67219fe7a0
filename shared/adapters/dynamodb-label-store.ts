import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { putIfAbsent } from "#shared/adapters/dynamodb-put-if-absent";
import { SCAN_PAGE_LIMIT } from "#shared/adapters/dynamodb-scan-page";
import { type Label, labelSortKey, subjectKey } from "#shared/domain/labels/index";
import type { LabelPutResult, LabelStore } from "#shared/ports/label-store";
import { TABLES } from "#shared/resources";

const PK = TABLES.labels.partitionKey.name;
const SK = TABLES.labels.sortKey.name;
/** Conditional puts in flight at once: enough to import thousands of labels a second. */
const PUT_CONCURRENCY = 16;

/**
 * Labels in the DynamoDB labels table: partition key the subject (`event#<eventId>`,
 * `entity#<type>#<value>`), sort key `observedAt#labelId`, the label's fields as attributes. Each
 * label is written with `attribute_not_exists`, so importing a file twice, or a challenge outcome
 * delivered twice, stores one label. There is no TTL (see resources.ts).
 */
export class DynamoDbLabelStore implements LabelStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async put(labels: readonly Label[]): Promise<LabelPutResult> {
    let stored = 0;
    let existing = 0;
    let next = 0;
    const worker = async () => {
      while (next < labels.length) {
        const label = labels[next++] as Label;
        const item = { [PK]: subjectKey(label.subject), [SK]: labelSortKey(label), ...label };
        if (await putIfAbsent(this.doc, this.tableName, PK, item)) stored++;
        else existing++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(PUT_CONCURRENCY, labels.length) }, worker));
    return { stored, existing };
  }

  async forSubject(key: string): Promise<Label[]> {
    const out: Label[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "#pk = :pk",
          ExpressionAttributeNames: { "#pk": PK },
          ExpressionAttributeValues: { ":pk": key },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) out.push(toLabel(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }

  async forSubjects(keys: readonly string[]): Promise<ReadonlyMap<string, readonly Label[]>> {
    const unique = [...new Set(keys)];
    const out = new Map<string, readonly Label[]>();
    let next = 0;
    const worker = async () => {
      while (next < unique.length) {
        const key = unique[next++] as string;
        const labels = await this.forSubject(key);
        if (labels.length > 0) out.set(key, labels);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PUT_CONCURRENCY, unique.length) }, worker));
    return out;
  }

  async *all(): AsyncIterable<Label> {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({ TableName: this.tableName, ExclusiveStartKey, Limit: SCAN_PAGE_LIMIT }),
      );
      for (const item of page.Items ?? []) yield toLabel(item);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }
}

function toLabel(item: Record<string, unknown>): Label {
  const { [PK]: _pk, [SK]: _sk, ...label } = item;
  return label as unknown as Label;
}
