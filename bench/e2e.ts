/**
 * End-to-end benchmark of the local pipeline: simulated events put on Kinesis, decided by the
 * score function on its event source mapping, decisions stored in DynamoDB (alert and audit
 * consuming the decisions stream alongside, as in `npm start`).
 *
 *   npm run bench:e2e [-- --rate 40 --seconds 60 --max-events 3000 --score-only]
 *
 * 1. Reference, on the same engines in the same run: the emulators' own raw throughput
 *    (PutRecords and GetRecords on a scratch stream, PutItem and BatchGetItem on a scratch table).
 * 2. Sustained: `--rate` events/s offered for `--seconds` seconds; achieved rate and latency.
 * 3. Maximum: `--max-events` put at once; events/s from the first put to the last decision, and
 *    latency (dominated by queueing: it says how long the backlog took to clear).
 * Then the ratios of the pipeline's maximum to the raw reference.
 *
 * Latency: put → `decidedAt` (stamped when the score batch starts deciding; a lower bound on
 * "stored") and put → first poll that read the decision back (an upper bound).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  BatchGetItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  waitUntilStreamExists,
} from "@aws-sdk/client-kinesis";
import { type LocalRuntime, localFunctionsFromEnv, startLocalRuntime } from "#local/esm/local-runtime";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { DecisionWatcher, percentile, sendOnSchedule } from "#local/traffic-driver";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import { putRecords } from "#shared/adapters/kinesis-producer";
import type { CleanEvent } from "#shared/domain/event/index";
import {
  anchorBeforeNow,
  DEFAULT_SIMULATION,
  type Pacing,
  planSending,
  simulate,
} from "#shared/domain/simulation/index";

// The SDK's notice that its 2027 releases need Node 22 is noise in a benchmark's output (bin/vigil.js does the same).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const { values: args } = parseArgs({
  options: {
    rate: { type: "string", default: "40" },
    seconds: { type: "string", default: "60" },
    "max-events": { type: "string", default: "3000" },
    "raw-records": { type: "string", default: "5000" },
    "raw-items": { type: "string", default: "2000" },
    "score-only": { type: "boolean", default: false },
  },
});
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const MAX_EVENTS = Number(args["max-events"]);
const RAW_RECORDS = Number(args["raw-records"]);
const RAW_ITEMS = Number(args["raw-items"]);
for (const [name, v] of Object.entries({ RATE, SECONDS, MAX_EVENTS, RAW_RECORDS, RAW_ITEMS })) {
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`${name.toLowerCase()} must be a positive number`);
}

const say = (m: string) => process.stderr.write(`${m}\n`);
const fmt = (n: number | undefined, digits = 0) => (n === undefined ? "–" : n.toFixed(digits));
const ms = (n: number | undefined) =>
  n === undefined ? "–" : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`;

/** `n` live events of a fresh simulation (cold start: no history), anchored to end before now. */
function liveEvents(n: number, seed: number): CleanEvent[] {
  const timeline = { liveHours: 24, historyDays: 0 };
  // About 1.5 live events per user plus the attacks; generate a little more than needed and cut.
  const sim = simulate({
    ...DEFAULT_SIMULATION,
    ...timeline,
    seed,
    users: Math.max(10, Math.ceil(n / 1.3)),
    startMs: anchorBeforeNow(Date.now(), timeline),
  });
  if (sim.events.length < n) throw new Error(`simulation gave ${sim.events.length} events, ${n} needed`);
  return sim.events.slice(0, n);
}

/** Runs `tasks` with at most `concurrency` in flight. */
async function pool(concurrency: number, count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

interface RawReference {
  readonly kinesisPut: number;
  readonly kinesisGet: number;
  readonly dynamoPut: number;
  readonly dynamoBatchGet: number;
}

/** The engines' own throughput with plain SDK calls on scratch resources, records or items per second. */
async function measureRaw(kinesis: KinesisClient, dynamodb: DynamoDBClient, sample: readonly CleanEvent[]) {
  const stream = "vigil-bench-raw";
  await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
  await waitUntilStreamExists({ client: kinesis, maxWaitTime: 60 }, { StreamName: stream });
  const records = Array.from({ length: RAW_RECORDS }, (_, i) => {
    const e = sample[i % sample.length] as CleanEvent;
    return { data: new TextEncoder().encode(JSON.stringify(e)), partitionKey: e.userId };
  });
  let t = performance.now();
  const put = await putRecords(kinesis, stream, records);
  const kinesisPut = put.sent / ((performance.now() - t) / 1000);

  t = performance.now();
  let read = 0;
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  for (const shard of shards) {
    let iterator = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard.ShardId,
          ShardIteratorType: "TRIM_HORIZON",
        }),
      )
    ).ShardIterator;
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      read += page.Records?.length ?? 0;
      if ((page.Records?.length ?? 0) === 0 || page.MillisBehindLatest === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  const kinesisGet = read / ((performance.now() - t) / 1000);
  if (read !== put.sent) throw new Error(`read back ${read} of ${put.sent} raw records`);
  await kinesis.send(new DeleteStreamCommand({ StreamName: stream }));

  const table = "vigil-bench-raw";
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 60 }, { TableName: table });
  // Items about the size of a stored decision (event fields, features, rule hits: ~2 KB).
  const body = "x".repeat(2000);
  t = performance.now();
  await pool(8, RAW_ITEMS, async (i) => {
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: `item-${i}` }, body: { S: body } },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  });
  const dynamoPut = RAW_ITEMS / ((performance.now() - t) / 1000);
  t = performance.now();
  let got = 0;
  await pool(4, Math.ceil(RAW_ITEMS / 100), async (b) => {
    let keys = Array.from({ length: Math.min(100, RAW_ITEMS - b * 100) }, (_, k) => ({
      pk: { S: `item-${b * 100 + k}` },
    }));
    while (keys.length > 0) {
      const page = await dynamodb.send(
        new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys } } }),
      );
      got += page.Responses?.[table]?.length ?? 0;
      keys = (page.UnprocessedKeys?.[table]?.Keys as typeof keys | undefined) ?? [];
    }
  });
  const dynamoBatchGet = got / ((performance.now() - t) / 1000);
  await dynamodb.send(new DeleteTableCommand({ TableName: table }));
  return { kinesisPut, kinesisGet, dynamoPut, dynamoBatchGet } satisfies RawReference;
}

interface RunResult {
  readonly events: number;
  readonly putSeconds: number;
  /** First put to the latest `decidedAt`. */
  readonly decidedSeconds: number;
  readonly decided: readonly number[];
  readonly readable: readonly number[];
}

/** Sends `events` at `pacing` and waits for every decision. */
async function run(
  stack: LocalStack,
  kinesis: KinesisClient,
  dynamodb: DynamoDBClient,
  events: readonly CleanEvent[],
  pacing: Pacing,
): Promise<RunResult> {
  const watcher = new DecisionWatcher(new DynamoDbDecisionStore(dynamodb, stack.names.tables.decisions, 0), {
    // Light polling: the watcher must not take DynamoDB Local's time away from the pipeline.
    pollMs: 250,
    maxPerPoll: 300,
  });
  const times = events.map((e) => Date.parse(e.occurredAt));
  const schedule = planSending(
    times,
    events.map(() => "live" as const),
    Math.min(...times),
    pacing,
  );
  watcher.start();
  let result: Awaited<ReturnType<typeof sendOnSchedule>>;
  try {
    result = await sendOnSchedule({
      kinesis,
      streamName: stack.names.streams.events,
      events,
      schedule,
      onSent: (ids) => watcher.expect(ids),
    });
    await watcher.waitForAll(300_000);
  } finally {
    await watcher.stop();
  }
  const decided: number[] = [];
  const readable: number[] = [];
  let lastDecided = 0;
  events.forEach((e, i) => {
    const seen = watcher.results().get(e.eventId);
    const sentAt = result.sentAt[i] ?? Number.NaN;
    if (!seen || Number.isNaN(sentAt)) return;
    const at = Date.parse(seen.decision.decidedAt);
    lastDecided = Math.max(lastDecided, at);
    decided.push(at - sentAt);
    readable.push(seen.seenAt - sentAt);
  });
  if (decided.length !== events.length)
    throw new Error(`${events.length - decided.length} events without a decision`);
  return {
    events: events.length,
    putSeconds: (result.live.endedAt - result.live.startedAt) / 1000,
    decidedSeconds: (lastDecided - result.live.startedAt) / 1000,
    decided,
    readable,
  };
}

const latencyLine = (label: string, values: readonly number[]) =>
  `  ${label.padEnd(26)} p50 ${ms(percentile(values, 50)).padStart(8)}   p95 ${ms(percentile(values, 95)).padStart(8)}   p99 ${ms(percentile(values, 99)).padStart(8)}   max ${ms(Math.max(...values)).padStart(8)}`;

async function main(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "vigil-bench-e2e-"));
  const load = loadavg()[0] ?? 0;
  say(`Starting the local stack in ${stateDir}...`);
  const stack = await startLocalStack({ stateDir });
  const kinesis = createKinesisClient({ env: stack.env });
  const dynamodb = createDynamoDbClient(stack.env);
  let runtime: LocalRuntime | undefined;
  try {
    const functions = localFunctionsFromEnv(stack.env, args["score-only"] ? ["score"] : undefined);
    runtime = await startLocalRuntime({ stateDir, awsEnv: stack.emulators.awsEnv, functions });
    const sustainedEvents = liveEvents(Math.round(RATE * SECONDS), 1);
    const maxEvents = liveEvents(MAX_EVENTS, 2);

    say("Reference: the emulators' raw throughput...");
    const raw = await measureRaw(kinesis, dynamodb, sustainedEvents);
    say(`Sustained: ${RATE} events/s for ${SECONDS} s...`);
    const sustained = await run(stack, kinesis, dynamodb, sustainedEvents, { kind: "rate", perSecond: RATE });
    // Let alert and audit catch up so the maximum run starts from an idle pipeline.
    await runtime.waitUntilIdle({ timeoutMs: 180_000 });
    say(`Maximum: ${MAX_EVENTS} events at once...`);
    const max = await run(stack, kinesis, dynamodb, maxEvents, { kind: "max" });
    const maxRate = max.events / max.decidedSeconds;

    const lines = [
      "",
      `Vigil end-to-end benchmark: local stack (Kinesis Mock, DynamoDB Local), functions ${functions.map((f) => f.definition.id).join(", ")}`,
      `  machine: ${cpus().length} cores, load average ${load.toFixed(2)} at start, Node ${process.version}`,
      "",
      "Reference: the emulators' raw throughput (same engines, same run)",
      `  Kinesis PutRecords, 500 a request, 1 client        ${fmt(raw.kinesisPut).padStart(8)} records/s`,
      `  Kinesis GetRecords, 2 shards                       ${fmt(raw.kinesisGet).padStart(8)} records/s`,
      `  DynamoDB PutItem (conditional, 2 KB), 8 in flight  ${fmt(raw.dynamoPut).padStart(8)} items/s`,
      `  DynamoDB BatchGetItem, 100 keys, 4 in flight       ${fmt(raw.dynamoBatchGet).padStart(8)} items/s`,
      "",
      `Sustained: ${sustained.events} events offered at ${RATE}/s`,
      `  put over ${sustained.putSeconds.toFixed(1)} s (${fmt(sustained.events / sustained.putSeconds)} events/s); last decidedAt ${sustained.decidedSeconds.toFixed(1)} s after the first put (${fmt(sustained.events / sustained.decidedSeconds)} events/s)`,
      latencyLine("put -> decidedAt", sustained.decided),
      latencyLine("put -> readable (polled)", sustained.readable),
      "",
      `Maximum: ${max.events} events put at once`,
      `  put in ${max.putSeconds.toFixed(1)} s; last decidedAt ${max.decidedSeconds.toFixed(1)} s after the first put: ${fmt(maxRate)} events/s`,
      latencyLine("put -> decidedAt", max.decided),
      latencyLine("put -> readable (polled)", max.readable),
      "",
      "Ratios (pipeline maximum / raw reference)",
      `  events/s vs Kinesis PutRecords records/s           ${fmt(maxRate / raw.kinesisPut, 3)}`,
      `  events/s vs Kinesis GetRecords records/s           ${fmt(maxRate / raw.kinesisGet, 3)}`,
      `  events/s vs DynamoDB PutItem items/s               ${fmt(maxRate / raw.dynamoPut, 3)}`,
      `  events/s vs DynamoDB BatchGetItem items/s          ${fmt(maxRate / raw.dynamoBatchGet, 3)}`,
      "",
    ];
    process.stdout.write(lines.join("\n"));
  } finally {
    kinesis.destroy();
    dynamodb.destroy();
    await runtime?.stop();
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
