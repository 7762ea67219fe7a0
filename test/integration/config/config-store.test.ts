import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addToList,
  applyDocument,
  currentDocument,
  removeFromList,
  rollback,
  rulesInForce,
  setRuleMode,
} from "#cli/config-operations";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DEFAULT_CONFIG_DIR, defaultDocuments, seedDefaultConfig } from "#shared/adapters/config-files";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import { ConfigValidationError, formatIssue } from "#shared/domain/decision/index";
import { DEFAULT_FEATURE_SET } from "#shared/domain/features/index";
import { ConfigConflictError, ConfigTooLargeError } from "#shared/ports/config-store";

const rule = (id: string, when: string, action = "review") => ({
  id,
  description: `rule ${id}`,
  scenarios: ["payment"],
  when,
  action,
  severity: "medium",
  mode: "active",
});

/** Operator times from the clock (hours ago), so no stamp is ever older than a retention. */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 6 * 3_600_000;
const hour = (h: number) => new Date(T0 + h * 3_600_000).toISOString();
const ann = { author: "ann", now: hour(0) };
const bob = { author: "bob", now: hour(1) };

describe("DynamoDbConfigStore and the rule lifecycle on DynamoDB Local", () => {
  let stack: LocalStack;
  let store: DynamoDbConfigStore;
  beforeAll(async () => {
    stack = await startLocalStack({
      stateDir: mkdtempSync(join(tmpdir(), "vigil-config-")),
      seedConfig: false,
    });
    store = new DynamoDbConfigStore(createDynamoDbClient(stack.env), stack.names.tables.config);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("applies, lists, shows and rolls back to a version exactly", async () => {
    const v1 = await applyDocument(
      store,
      "rules",
      { rules: [rule("small_card", "features.payments_per_card_10m >= 5.0")] },
      {
        ...ann,
        comment: "first",
      },
    );
    expect(v1).toMatchObject({
      kind: "rules",
      version: 1,
      author: "ann",
      createdAt: ann.now,
      comment: "first",
    });
    const v2 = await applyDocument(
      store,
      "rules",
      { rules: [rule("small_card", "features.payments_per_card_10m >= 3.0")] },
      bob,
    );
    expect(v2.version).toBe(2);
    const v3 = await setRuleMode(store, "small_card", "shadow", { ...ann, now: hour(2) });
    expect(v3?.version).toBe(3);

    expect((await store.list("rules")).map((v) => [v.version, v.author, v.comment])).toEqual([
      [3, "ann", undefined],
      [2, "bob", undefined],
      [1, "ann", "first"],
    ]);
    const shown = await rulesInForce(store);
    expect(shown.version).toBe(3);
    expect(shown.document.rules[0]).toMatchObject({
      when: "features.payments_per_card_10m >= 3.0",
      mode: "shadow",
      version: 3,
    });

    const restored = await rollback(store, "rules", 1, { author: "carol", now: hour(3) });
    expect(restored).toMatchObject({
      version: 4,
      restoredFrom: 1,
      author: "carol",
      comment: "rollback to version 1",
    });
    const [original, copy] = await Promise.all([store.get("rules", 1), store.get("rules", 4)]);
    expect(copy?.document).toEqual(original?.document);
    expect(copy?.sha256).toBe(original?.sha256);
    expect((await store.head("rules"))?.version).toBe(4);
    // The rule is back exactly as it was in version 1, its own stamps included.
    expect((await rulesInForce(store)).document.rules[0]).toEqual({
      ...rule("small_card", "features.payments_per_card_10m >= 5.0"),
      version: 1,
      author: "ann",
      createdAt: ann.now,
      updatedAt: ann.now,
    });
    // History is kept: every version still readable.
    expect((await store.list("rules")).map((v) => v.version)).toEqual([4, 3, 2, 1]);
  });

  it("lets exactly one of two concurrent applies on the same version win", async () => {
    const base = (await store.head("rules"))?.version ?? 0;
    const attempts = await Promise.allSettled([
      applyDocument(store, "rules", { rules: [rule("from_ann", "true")] }, { ...ann, expectedVersion: base }),
      applyDocument(store, "rules", { rules: [rule("from_bob", "true")] }, { ...bob, expectedVersion: base }),
    ]);
    const won = attempts.filter((a) => a.status === "fulfilled");
    const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toBeInstanceOf(ConfigConflictError);
    expect(String((lost[0]?.reason as ConfigConflictError | undefined)?.message)).toBe(
      `rules: version ${base} is no longer current (head is ${base + 1}); someone applied a change in between. Review it (vigil rules show / list), then apply again on top of it.`,
    );
    const head = await store.head("rules");
    expect(head?.version).toBe(base + 1);
    const winner = (await rulesInForce(store)).document.rules[0]?.id;
    expect(["from_ann", "from_bob"]).toContain(winner);
    expect((await store.list("rules", { limit: 1 }))[0]?.author).toBe(winner === "from_ann" ? "ann" : "bob");
  });

  it("lets exactly one of many racing writers win and writes no orphan version", async () => {
    const base = (await store.head("rules"))?.version ?? 0;
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        store.apply({ kind: "rules", document: { i }, expectedVersion: base, author: `w${i}`, now: ann.now }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(
      results.filter((r) => r.status === "rejected" && r.reason instanceof ConfigConflictError),
    ).toHaveLength(7);
    expect((await store.list("rules", { limit: 3 })).map((v) => v.version)).toEqual([
      base + 1,
      base,
      base - 1,
    ]);
    expect(await store.get("rules", base + 2)).toBeUndefined();
    await rollback(store, "rules", base, ann);
  });

  it("refuses an invalid rule with a message that points at it, and writes nothing", async () => {
    const before = await store.head("rules");
    const attempt = applyDocument(
      store,
      "rules",
      {
        rules: [
          rule("ok", "true"),
          rule("broken", "features.cards_per_device_24h >= 4.0 &&\n  event.email.matches('(')"),
        ],
      },
      ann,
    );
    await expect(attempt).rejects.toBeInstanceOf(ConfigValidationError);
    const error = (await attempt.catch((e: unknown) => e)) as ConfigValidationError;
    expect(error.issues.map(formatIssue)).toEqual([
      "rules[1] (broken).when, line 2, column 23: invalid RE2 regular expression: error parsing regexp: missing closing ): `(`",
    ]);
    await expect(
      applyDocument(store, "rules", { rules: [rule("typo", "features.cards_per_devise_24h >= 4.0")] }, ann),
    ).rejects.toThrow(/unknown feature 'cards_per_devise_24h'/);
    expect(await store.head("rules")).toEqual(before);
  });

  it("re-applies concurrent list edits on top of each other, losing none", async () => {
    const adds = await Promise.all(
      ["10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::/48"].map((value, i) =>
        addToList(store, { list: "block", kind: "ip", value }, { author: `op${i}`, now: ann.now }),
      ),
    );
    expect(adds.map((a) => a.info.version).sort()).toEqual([1, 2, 3, 4]);
    const lists = await currentDocument(store, "lists");
    expect(lists.version).toBe(4);
    const values = (lists.document as { lists: { block: { value: string }[] } }).lists.block
      .map((e) => e.value)
      .sort();
    expect(values).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::/48"]);
    const removed = await removeFromList(store, { list: "block", kind: "ip", value: "10.0.0.2" }, bob);
    expect(removed.info.version).toBe(5);
  });

  it("stores immutable version items and a head item in the documented layout", async () => {
    const client = createDynamoDbClient(stack.env);
    const table = stack.names.tables.config;
    const head = await client.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: "lists" }, sk: { S: "head" } } }),
    );
    expect(head.Item?.version?.N).toBe("5");
    const v1 = await client.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: "lists" }, sk: { S: "v#0000000001" } } }),
    );
    expect(["op0", "op1", "op2", "op3"]).toContain(v1.Item?.author?.S);
    expect(v1.Item?.body?.B).toBeInstanceOf(Uint8Array);
    expect(Object.keys(v1.Item ?? {}).sort()).toEqual([
      "author",
      "body",
      "bytes",
      "createdAt",
      "pk",
      "sha256",
      "sk",
      "version",
    ]);
  });

  it("refuses a document too large for one item", async () => {
    // Random bytes do not compress: 600 KB of them stay far above the limit after gzip.
    const noise = randomBytes(600_000).toString("base64");
    await expect(
      store.apply({ kind: "features", document: { noise }, expectedVersion: 0, ...ann }),
    ).rejects.toBeInstanceOf(ConfigTooLargeError);
    expect(await store.head("features")).toBeUndefined();
  });

  it("seeds the shipped defaults into a fresh table once", async () => {
    const fresh = new DynamoDbConfigStore(createDynamoDbClient(stack.env), stack.names.tables.config);
    // Rules and lists already exist here; only the model and the feature set are seeded.
    const written = await seedDefaultConfig(fresh, { author: "bootstrap", now: ann.now });
    expect(written.map((w) => [w.kind, w.version, w.author])).toEqual([
      ["model", 1, "bootstrap"],
      ["features", 1, "bootstrap"],
    ]);
    expect(await seedDefaultConfig(fresh, { author: "bootstrap", now: ann.now })).toEqual([]);
    expect((await store.get("model", 1))?.document).toEqual(defaultDocuments(DEFAULT_CONFIG_DIR).model);
    expect((await store.get("features", 1))?.document).toEqual(DEFAULT_FEATURE_SET);
  });
});
