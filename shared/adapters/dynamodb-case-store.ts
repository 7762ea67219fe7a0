import { type DynamoDBClient, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import type { CaseResolution } from "#shared/domain/cases/cases";
import { type Label, labelSortKey, subjectKey } from "#shared/domain/labels/index";
import { CaseAlreadyResolvedError, type CaseStore } from "#shared/ports/case-store";
import { TABLES } from "#shared/resources";

// The cases table is keyed by the resolution's own `caseId` attribute.
const CASE_KEY: keyof CaseResolution = TABLES.cases.partitionKey.name;
const LABEL_PK = TABLES.labels.partitionKey.name;
const LABEL_SK = TABLES.labels.sortKey.name;
const BATCH_GET_MAX = 100;

/**
 * Case resolutions in the cases table, written in one transaction with their label in the labels
 * table: the case item is conditional (absent, or still the resolution being amended), the label
 * item is conditional on not existing, so either both land or neither does.
 */
export class DynamoDbCaseStore implements CaseStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly casesTable: string,
    private readonly labelsTable: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(caseId: string): Promise<CaseResolution | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.casesTable, Key: { [CASE_KEY]: caseId }, ConsistentRead: true }),
    );
    return Item ? toResolution(Item) : undefined;
  }

  async getMany(caseIds: readonly string[]): Promise<ReadonlyMap<string, CaseResolution>> {
    const found = new Map<string, CaseResolution>();
    const unique = [...new Set(caseIds)];
    for (let start = 0; start < unique.length; start += BATCH_GET_MAX) {
      let keys: Record<string, unknown>[] = unique.slice(start, start + BATCH_GET_MAX).map((id) => ({
        [CASE_KEY]: id,
      }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await this.sleep(Math.min(2000, 25 * 2 ** attempt));
        const response = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.casesTable]: { Keys: keys } } }),
        );
        for (const item of response.Responses?.[this.casesTable] ?? []) {
          const resolution = toResolution(item);
          found.set(resolution.caseId, resolution);
        }
        keys = response.UnprocessedKeys?.[this.casesTable]?.Keys ?? [];
      }
    }
    return found;
  }

  async resolve(resolution: CaseResolution, label: Label, amend?: CaseResolution): Promise<void> {
    const caseCondition = amend
      ? {
          ConditionExpression: "labelId = :previous",
          ExpressionAttributeValues: { ":previous": amend.labelId },
        }
      : {
          ConditionExpression: "attribute_not_exists(#k)",
          ExpressionAttributeNames: { "#k": CASE_KEY },
        };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.casesTable,
                Item: { ...resolution },
                ...caseCondition,
              },
            },
            {
              Put: {
                TableName: this.labelsTable,
                Item: { [LABEL_PK]: subjectKey(label.subject), [LABEL_SK]: labelSortKey(label), ...label },
                ConditionExpression: "attribute_not_exists(#pk)",
                ExpressionAttributeNames: { "#pk": LABEL_PK },
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const current = await this.get(resolution.caseId);
        if (current) throw new CaseAlreadyResolvedError(current);
      }
      throw error;
    }
  }
}

function toResolution(item: Record<string, unknown>): CaseResolution {
  const { caseId, ...rest } = item;
  return { caseId: String(caseId), ...rest } as CaseResolution;
}
