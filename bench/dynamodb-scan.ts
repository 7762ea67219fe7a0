/**
 * DynamoDB Local's Scan with and without a page limit (`SCAN_PAGE_LIMIT`,
 * shared/adapters/dynamodb-scan-page.ts), in the same run on the same table.
 *
 *   npm run bench:dynamodb-scan [-- --items 220000 --size 2000 --pages 3]
 *
 * Fills one table with `--items` items of about `--size` bytes, then scans it whole with the
 * limit, and times the first `--pages` pages of a scan without one (a whole scan without the limit
 * takes too long to wait for at this size). Prints the time per page of each, the ratio, and the
 * whole-table time with the limit beside the projected time without it. The limited scan must
 * return every item exactly once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  ScanCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { startEmulators } from "#local/emulators";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { SCAN_PAGE_LIMIT } from "#shared/adapters/dynamodb-scan-page";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const { values: args } = parseArgs({
  options: {
    items: { type: "string", default: "220000" },
    size: { type: "string", default: "2000" },
    pages: { type: "string", default: "3" },
  },
});
const ITEMS = Number(args.items);
const SIZE = Number(args.size);
const PAGES = Number(args.pages);
for (const [name, value] of Object.entries({ items: ITEMS, size: SIZE, pages: PAGES }))
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${name} must be a positive integer, got ${value}`);

const TABLE = "bench-scan";
const dataDir = mkdtempSync(join(tmpdir(), "vigil-bench-scan-"));
const engines = await startEmulators({ dataDir, log: (m) => process.stderr.write(`${m}\n`) });
const client = createDynamoDbClient(engines.awsEnv);
try {
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: TABLE });
  const pad = "x".repeat(SIZE);
  const started = performance.now();
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < ITEMS; i += 25) {
    const requests = Array.from({ length: Math.min(25, ITEMS - i) }, (_, j) => ({
      PutRequest: { Item: { id: { S: `item-${i + j}` }, pad: { S: pad } } },
    }));
    inFlight.push(client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: requests } })));
    if (inFlight.length >= 8) await Promise.all(inFlight.splice(0));
    if ((i + 25) % 20_000 < 25) process.stderr.write(`written ${i + 25} of ${ITEMS}\n`);
  }
  await Promise.all(inFlight);
  process.stderr.write(`table filled in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

  const scan = async (limit: number | undefined, maxPages: number) => {
    const ids = new Set<string>();
    let items = 0;
    let pages = 0;
    let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
    const t0 = performance.now();
    do {
      const page = await client.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey, Limit: limit }));
      for (const item of page.Items ?? []) ids.add(item.id?.S ?? "");
      items += page.Items?.length ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
      pages++;
    } while (ExclusiveStartKey && pages < maxPages);
    return { ms: performance.now() - t0, pages, items, distinct: ids.size };
  };
  const limited = await scan(SCAN_PAGE_LIMIT, Number.POSITIVE_INFINITY);
  const unlimited = await scan(undefined, PAGES);
  const perPage = (r: { ms: number; pages: number }) => r.ms / r.pages;
  const itemsPerPage = unlimited.items / unlimited.pages;
  console.log(`Scan of ${ITEMS} items of ${SIZE} bytes on DynamoDB Local:`);
  console.log(
    `  Limit ${SCAN_PAGE_LIMIT}: ${limited.pages} pages, ${limited.items} items, ${(limited.ms / 1000).toFixed(1)} s, ${perPage(limited).toFixed(0)} ms a page`,
  );
  console.log(
    `  no limit: first ${unlimited.pages} pages (${itemsPerPage.toFixed(0)} items each), ${perPage(unlimited).toFixed(0)} ms a page; the whole table ≈ ${((perPage(unlimited) * ITEMS) / itemsPerPage / 1000).toFixed(0)} s at that rate`,
  );
  console.log(`  no limit ÷ limit, per page: ${(perPage(unlimited) / perPage(limited)).toFixed(1)}×`);
  const complete = limited.items === ITEMS && limited.distinct === ITEMS;
  console.log(`  the limited scan returned every item exactly once: ${complete}`);
  if (!complete) process.exitCode = 1;
} finally {
  client.destroy();
  await engines.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
