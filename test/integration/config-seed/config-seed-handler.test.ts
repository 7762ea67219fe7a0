import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, type DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import type { CloudFormationCustomResourceEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleSeedEvent, SEED_AUTHOR, SEED_PHYSICAL_ID } from "#functions/config-seed/seed-event";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { respondToCloudFormation } from "#shared/adapters/cloudformation-response";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import { SHIPPED_DEFAULTS } from "#shared/domain/decision/shipped-defaults";
import type { ConfigStore } from "#shared/ports/config-store";
import { TABLES } from "#shared/resources";
import {
  type CustomResourceResponses,
  startCustomResourceResponses,
} from "../../support/custom-resource-responses.ts";

/**
 * The seeding custom resource's provider on DynamoDB Local: the real handler module (its own
 * DynamoDB client, built from the environment at cold start) answering CloudFormation events, and
 * answering them over HTTP to a local server standing in for the pre-signed response URL.
 */
const KINDS = Object.keys(SHIPPED_DEFAULTS).sort();
const noLog = { info: () => {}, error: () => {} };

let stack: LocalStack;
let dynamodb: DynamoDBClient;
let responses: CustomResourceResponses;

beforeAll(async () => {
  stack = await startLocalStack({ stateDir: mkdtempSync(join(tmpdir(), "vigil-seed-")), seedConfig: false });
  dynamodb = createDynamoDbClient(stack.env);
  responses = await startCustomResourceResponses();
});
afterAll(async () => {
  await responses?.close();
  dynamodb?.destroy();
  await stack?.stop();
});

/** A fresh, empty config table with the definition's keys. */
async function freshTable(): Promise<string> {
  const name = `seed-${randomUUID()}`;
  const def = TABLES.config;
  await dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: def.partitionKey.name, AttributeType: def.partitionKey.type },
        { AttributeName: def.sortKey.name, AttributeType: def.sortKey.type },
      ],
      KeySchema: [
        { AttributeName: def.partitionKey.name, KeyType: "HASH" },
        { AttributeName: def.sortKey.name, KeyType: "RANGE" },
      ],
    }),
  );
  return name;
}

/** Every item of a table, as sorted `pk sk version author` lines. */
async function items(table: string): Promise<string[]> {
  const out = await dynamodb.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return (out.Items ?? [])
    .map((i) => `${i.pk?.S} ${i.sk?.S} v${i.version?.N} ${i.author?.S ?? ""}`.trim())
    .sort();
}

function event(
  type: "Create" | "Update" | "Delete",
  physicalResourceId = SEED_PHYSICAL_ID,
): CloudFormationCustomResourceEvent {
  const requestId = randomUUID();
  const common = {
    ServiceToken: "arn:aws:lambda:eu-central-1:123456789012:function:seed",
    ResponseURL: responses.url(requestId),
    StackId: "arn:aws:cloudformation:eu-central-1:123456789012:stack/Vigil/1",
    RequestId: requestId,
    LogicalResourceId: "ConfigSeedSeed",
    ResourceType: "Custom::VigilConfigSeed",
    ResourceProperties: {
      ServiceToken: "arn:aws:lambda:eu-central-1:123456789012:function:seed",
      Kinds: KINDS,
    },
  };
  if (type === "Create") return { ...common, RequestType: "Create" };
  if (type === "Update")
    return {
      ...common,
      RequestType: "Update",
      PhysicalResourceId: physicalResourceId,
      OldResourceProperties: common.ResourceProperties,
    };
  return { ...common, RequestType: "Delete", PhysicalResourceId: physicalResourceId };
}

const responseTo = (e: CloudFormationCustomResourceEvent) => {
  const found = responses.responses.filter((r) => r.requestId === e.RequestId);
  expect(found).toHaveLength(1);
  return found[0];
};

/** Loads the real handler module with its environment pointing at one table. */
async function loadHandler(table: string): Promise<(e: CloudFormationCustomResourceEvent) => Promise<void>> {
  // The handler logs its (expected) failures through Powertools; the test reads the responses instead.
  Object.assign(process.env, stack.env, { [TABLES.config.envVar]: table, POWERTOOLS_LOG_LEVEL: "SILENT" });
  const url = new URL("../../../functions/config-seed/handler.ts", import.meta.url);
  url.searchParams.set("table", table);
  const module = (await import(url.href)) as {
    handler: (e: CloudFormationCustomResourceEvent) => Promise<void>;
  };
  return module.handler;
}

describe("config seed handler on DynamoDB Local", () => {
  it("seeds every kind of an empty table as version 1, and says so to CloudFormation", async () => {
    const table = await freshTable();
    const handler = await loadHandler(table);
    const create = event("Create");
    await handler(create);
    const response = responseTo(create);
    expect(response?.contentType).toBe("");
    expect(response?.body).toMatchObject({
      Status: "SUCCESS",
      PhysicalResourceId: SEED_PHYSICAL_ID,
      RequestId: create.RequestId,
      StackId: create.StackId,
      LogicalResourceId: create.LogicalResourceId,
    });
    expect(String(response?.body.Data?.Seeded).split(",").sort()).toEqual(KINDS);
    const store = new DynamoDbConfigStore(dynamodb, table);
    for (const kind of KINDS) {
      expect((await store.head(kind))?.version, kind).toBe(1);
      const version = await store.get(kind, 1);
      expect(version?.author).toBe(SEED_AUTHOR);
      expect(version?.comment).toBe("shipped defaults");
    }
    const rules = (await store.get("rules", 1))?.document as { rules: Array<{ id: string }> };
    expect(rules.rules.map((r) => r.id)).toEqual(
      (SHIPPED_DEFAULTS.rules as { rules: Array<{ id: string }> }).rules.map((r) => r.id),
    );
  });

  it("is idempotent: Update writes nothing, Delete writes and removes nothing, both succeed", async () => {
    const table = await freshTable();
    const handler = await loadHandler(table);
    await handler(event("Create"));
    const seeded = await items(table);
    expect(seeded).toHaveLength(KINDS.length * 2);

    const update = event("Update");
    await handler(update);
    expect(responseTo(update)?.body).toMatchObject({
      Status: "SUCCESS",
      PhysicalResourceId: SEED_PHYSICAL_ID,
      Data: { Seeded: "" },
    });
    expect(await items(table)).toEqual(seeded);

    const remove = event("Delete");
    await handler(remove);
    expect(responseTo(remove)?.body).toMatchObject({
      Status: "SUCCESS",
      PhysicalResourceId: SEED_PHYSICAL_ID,
    });
    expect(await items(table)).toEqual(seeded);
  });

  it("leaves an operator's versions alone and seeds only the kinds that have none", async () => {
    const table = await freshTable();
    const store = new DynamoDbConfigStore(dynamodb, table);
    const now = new Date().toISOString();
    await store.apply({ kind: "rules", document: { rules: [] }, expectedVersion: 0, author: "ann", now });
    await store.apply({ kind: "rules", document: { rules: [] }, expectedVersion: 1, author: "ann", now });
    const handler = await loadHandler(table);
    const create = event("Create");
    await handler(create);
    expect(String(responseTo(create)?.body.Data?.Seeded).split(",").sort()).toEqual(
      KINDS.filter((k) => k !== "rules"),
    );
    expect((await store.head("rules"))?.version).toBe(2);
    expect((await store.get("rules", 2))?.author).toBe("ann");
    expect(await store.get("rules", 3)).toBeUndefined();
  });

  it("loses the race to an operator who applies a kind while it seeds, and leaves that kind alone", async () => {
    const table = await freshTable();
    const real = new DynamoDbConfigStore(dynamodb, table);
    let interfered = false;
    // Between the seed's head check and its write of the model, an operator applies a model.
    const racing: ConfigStore = {
      head: (kind) => real.head(kind),
      heads: (kinds) => real.heads(kinds),
      get: (kind, version) => real.get(kind, version),
      list: (kind, options) => real.list(kind, options),
      apply: async (request) => {
        if (request.kind === "model" && !interfered) {
          interfered = true;
          await real.apply({ ...request, author: "bob", comment: "operator's model" });
        }
        return real.apply(request);
      },
    };
    const create = event("Create");
    await handleSeedEvent(create, {
      store: racing,
      now: () => new Date(),
      respond: respondToCloudFormation,
      logger: noLog,
    });
    expect(interfered).toBe(true);
    expect(responseTo(create)?.body.Status).toBe("SUCCESS");
    expect(String(responseTo(create)?.body.Data?.Seeded).split(",").sort()).toEqual(
      KINDS.filter((k) => k !== "model"),
    );
    expect((await real.head("model"))?.version).toBe(1);
    expect((await real.get("model", 1))?.author).toBe("bob");
  });

  it("answers FAILED with the error's name when the table cannot be written, rather than leaving CloudFormation waiting", async () => {
    const handler = await loadHandler(`missing-${randomUUID()}`);
    const create = event("Create");
    await handler(create);
    expect(responseTo(create)?.body).toMatchObject({
      Status: "FAILED",
      PhysicalResourceId: SEED_PHYSICAL_ID,
      Reason: expect.stringMatching(/^ResourceNotFoundException: /),
    });
  });
});
