/**
 * Kinesis Mock's PutRecords cost as its shards grow, direct and through the PutRecords splitter
 * (local/put-records-splitter.ts), in the same run on the same engine.
 *
 *   npm run bench:kinesis-mock [-- --records 40000 --step 10000 --batch 100]
 *
 * Two one-shard streams are filled side by side with the same records in PutRecords calls of
 * `--batch` entries: one directly, one through the splitter. At every `--step` records the
 * benchmark prints the time per entry of the last step on each path and the ratio direct ÷ split.
 * The direct path's time per entry grows with the records already on the shard; the split path's
 * stays flat. A GetRecords from the records' start checks both streams hold the same partition
 * keys in the same order.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  waitUntilStreamExists,
} from "@aws-sdk/client-kinesis";
import { startEmulators } from "#local/emulators";
import { startPutRecordsSplitter } from "#local/put-records-splitter";
import { createKinesisClient } from "#shared/adapters/aws-clients";
import { putRecords } from "#shared/adapters/kinesis-producer";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const { values: args } = parseArgs({
  options: {
    records: { type: "string", default: "40000" },
    step: { type: "string", default: "10000" },
    batch: { type: "string", default: "100" },
  },
});
const RECORDS = Number(args.records);
const STEP = Number(args.step);
const BATCH = Number(args.batch);
for (const [name, value] of Object.entries({ records: RECORDS, step: STEP, batch: BATCH }))
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${name} must be a positive integer, got ${value}`);
if (BATCH > 500) throw new Error("--batch must be at most 500 (PutRecords' limit)");

const dataDir = mkdtempSync(join(tmpdir(), "vigil-bench-kinesis-"));
const engines = await startEmulators({ dataDir, log: (m) => process.stderr.write(`${m}\n`) });
const splitter = await startPutRecordsSplitter({ target: engines.kinesisEndpoint });
const direct = createKinesisClient({ env: engines.awsEnv });
const split = createKinesisClient({
  env: { ...engines.awsEnv, AWS_ENDPOINT_URL_KINESIS: splitter.endpoint },
});
try {
  for (const name of ["direct", "split"]) {
    await direct.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
    await waitUntilStreamExists({ client: direct, maxWaitTime: 30 }, { StreamName: name });
  }
  const data = new Uint8Array(600).fill(0x7b);
  const put = async (client: KinesisClient, stream: string, from: number) => {
    const started = performance.now();
    for (let i = from; i < from + STEP; i += BATCH) {
      const entries = Array.from({ length: Math.min(BATCH, from + STEP - i) }, (_, j) => ({
        data,
        partitionKey: `key-${i + j}`,
      }));
      const result = await putRecords(client, stream, entries);
      if (result.failed.length > 0) throw new Error(`${stream}: ${result.failed.length} entries failed`);
    }
    return (performance.now() - started) / STEP;
  };
  console.log(
    `PutRecords of ${BATCH} entries on a one-shard stream, ms per entry over each step of ${STEP}:`,
  );
  console.log("records on the shard   direct   split   direct ÷ split");
  for (let from = 0; from < RECORDS; from += STEP) {
    const d = await put(direct, "direct", from);
    const s = await put(split, "split", from);
    console.log(
      `${String(from + STEP).padStart(20)} ${d.toFixed(2).padStart(8)} ${s.toFixed(2).padStart(7)} ${(d / s).toFixed(1).padStart(10)}×`,
    );
  }
  const keysOf = async (stream: string) => {
    const shards = await direct.send(new ListShardsCommand({ StreamName: stream }));
    const shardId = shards.Shards?.[0]?.ShardId ?? "";
    let iterator = (
      await direct.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shardId,
          ShardIteratorType: "TRIM_HORIZON",
        }),
      )
    ).ShardIterator;
    const keys: string[] = [];
    while (iterator && keys.length < RECORDS) {
      const page = await direct.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? []) keys.push(r.PartitionKey ?? "");
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
    return keys;
  };
  const [a, b] = [await keysOf("direct"), await keysOf("split")];
  const same = a.length === b.length && a.every((k, i) => k === b[i]);
  console.log(`both streams hold ${a.length} and ${b.length} records, same keys in the same order: ${same}`);
  console.log(`splitter: ${JSON.stringify(splitter.stats())}`);
  if (!same) process.exitCode = 1;
} finally {
  direct.destroy();
  split.destroy();
  await splitter.close();
  await engines.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
