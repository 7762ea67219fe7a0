import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbLabelStore } from "#shared/adapters/dynamodb-label-store";
import { type Label, parseLabel } from "#shared/domain/labels/index";

describe("DynamoDbLabelStore on DynamoDB Local", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ stateDir: mkdtempSync(join(tmpdir(), "vigil-labels-")) });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  // Labels have no TTL, so fixed times are safe here; they are kept relative to now anyway.
  const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000).toISOString();
  const label = (eventId: string, value: "fraud" | "legit", hoursAgo: number, source = "review"): Label =>
    parseLabel({
      schemaVersion: 1,
      subject: { eventId },
      label: value,
      source,
      observedAt: at(hoursAgo),
      author: "alice",
    });

  it("stores each label once, reads a subject's labels oldest first, many subjects at once, and all", async () => {
    const store = new DynamoDbLabelStore(createDynamoDbClient(stack.env), stack.names.tables.labels);
    const later = label("evt-1", "fraud", 1, "chargeback");
    const earlier = label("evt-1", "legit", 5);
    const other = label("evt-2", "fraud", 2);
    expect(await store.put([later, earlier, other])).toEqual({ stored: 3, existing: 0 });
    expect(await store.put([later, other])).toEqual({ stored: 0, existing: 2 });
    expect(await store.forSubject("event#evt-1")).toEqual([earlier, later]);
    expect(await store.forSubject("event#evt-none")).toEqual([]);
    const many = await store.forSubjects(["event#evt-1", "event#evt-2", "event#evt-none", "event#evt-2"]);
    expect([...many.keys()].sort()).toEqual(["event#evt-1", "event#evt-2"]);
    expect(many.get("event#evt-2")).toEqual([other]);
    const all: Label[] = [];
    for await (const l of store.all()) all.push(l);
    expect(all.map((l) => l.labelId).sort()).toEqual([earlier, later, other].map((l) => l.labelId).sort());
  });
});
