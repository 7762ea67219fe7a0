/**
 * The local Lambda runtime on the real engines (Kinesis Mock, DynamoDB Local) with the real
 * bundled recorder fixture: what AWS's Kinesis event source mapping promises, record by record.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { type KinesisClient, ListShardsCommand, SplitShardCommand } from "@aws-sdk/client-kinesis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Emulators, startEmulators } from "#local/emulators";
import { BundleError } from "#local/esm/errors";
import { type LocalRuntime, runtimePaths, startLocalRuntime } from "#local/esm/local-runtime";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import type { FunctionDefinition } from "#shared/resources";
import {
  createStream,
  FAST_TIMING,
  failedTexts,
  put,
  readFailures,
  readRecorder,
  readStream,
  recorderFunction,
  uniqueStreamName,
  waitActive,
  waitFor,
} from "./harness";

let emulators: Emulators;
let kinesis: KinesisClient;
const RECORDER_TABLE = "esm-recorder";
const running: LocalRuntime[] = [];

beforeAll(async () => {
  emulators = await startEmulators({ dataDir: mkdtempSync(join(tmpdir(), "vigil-esm-engines-")) });
  kinesis = createKinesisClient({ env: emulators.awsEnv });
  await createDynamoDbClient(emulators.awsEnv).send(
    new CreateTableCommand({
      TableName: RECORDER_TABLE,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    }),
  );
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((runtime) => runtime.stop()));
});

afterAll(async () => {
  kinesis?.destroy();
  await emulators?.stop();
});

/** Starts the runtime on one function reading `streamName`, with its own state directory. */
async function start(definition: FunctionDefinition, streamName: string, env: Record<string, string> = {}) {
  const stateDir = mkdtempSync(join(tmpdir(), "vigil-esm-state-"));
  const recorderFile = join(stateDir, "recorder.ndjson");
  const runtime = await startLocalRuntime({
    stateDir,
    awsEnv: emulators.awsEnv,
    functions: [{ definition, streamName, env: { RECORDER_FILE: recorderFile, ...env } }],
    timing: FAST_TIMING,
  });
  running.push(runtime);
  const paths = runtimePaths(stateDir, definition.id, streamName);
  return {
    runtime,
    stateDir,
    invocations: () => readRecorder(recorderFile),
    failures: () => readFailures(paths.failureFile),
  };
}

const texts = (n: number, make: (i: number) => unknown = (i) => ({ i })) =>
  Array.from({ length: n }, (_, i) => ({ data: make(i), partitionKey: "pk" }));

describe("local Kinesis event source mapping", () => {
  it("delivers genuine KinesisStreamEvents, every record once and in order per shard, across shards", async () => {
    const streamName = uniqueStreamName("order");
    const streamArn = await createStream(kinesis, streamName, 3);
    const { runtime, invocations } = await start(recorderFunction("Order", { batchSize: 7 }), streamName, {
      RECORDER_TABLE,
    });
    const putResults = [];
    for (let round = 0; round < 4; round++) {
      const records = Array.from({ length: 30 }, (_, i) => ({
        data: { round, i },
        partitionKey: `user-${i % 12}`,
      }));
      putResults.push(...(await put(kinesis, streamName, records)));
    }
    await runtime.waitUntilIdle({ timeoutMs: 60_000 });

    const truth = await readStream(kinesis, streamName);
    expect([...truth.values()].filter((seqs) => seqs.length > 0).length).toBeGreaterThan(1);
    const seen = invocations();
    for (const [shardId, sequenceNumbers] of truth) {
      const delivered = seen.filter((inv) => inv.shardId === shardId).flatMap((inv) => inv.sequenceNumbers);
      expect(delivered).toEqual(sequenceNumbers);
    }
    expect(seen.every((inv) => inv.records.length >= 1 && inv.records.length <= 7)).toBe(true);
    expect(seen.every((inv) => inv.records.every((r) => r.eventID.startsWith(`${inv.shardId}:`)))).toBe(true);

    // Per partition key, the handler saw the records in the order they were put.
    const bySequence = new Map(putResults.map((r) => [r.sequenceNumber, r]));
    for (let key = 0; key < 12; key++) {
      const order = seen
        .flatMap((inv) => inv.records)
        .filter((r) => r.kinesis.partitionKey === `user-${key}`)
        .map((r) => r.text);
      const expected = putResults.filter((r) => r.partitionKey === `user-${key}`).map((r) => r.text);
      expect(order).toEqual(expected);
    }

    // The exact shape Lambda delivers.
    const record = seen[0]?.records[0];
    const source = record ? bySequence.get(record.kinesis.sequenceNumber) : undefined;
    expect(record).toMatchObject({
      eventSource: "aws:kinesis",
      eventVersion: "1.0",
      eventName: "aws:kinesis:record",
      eventID: `${source?.shardId}:${source?.sequenceNumber}`,
      awsRegion: "us-east-1",
      eventSourceARN: streamArn,
      invokeIdentityArn: "arn:aws:iam::000000000000:role/Order-role",
      kinesis: {
        kinesisSchemaVersion: "1.0",
        partitionKey: source?.partitionKey,
        sequenceNumber: source?.sequenceNumber,
        data: Buffer.from(source?.text ?? "").toString("base64"),
      },
    });
    const arrival = record?.kinesis.approximateArrivalTimestamp ?? 0;
    expect(Math.abs(arrival * 1000 - Date.now())).toBeLessThan(120_000);
    expect(seen[0]?.functionName).toBe("Order");

    // The AWS SDK works from the bundle inside the worker: one item per record.
    const items = await createDynamoDbClient(emulators.awsEnv).send(
      new ScanCommand({ TableName: RECORDER_TABLE, Select: "COUNT" }),
    );
    expect(items.Count).toBe(120);

    const stats = runtime.stats().functions[0];
    expect(stats).toMatchObject({ invocations: seen.length, recordsSucceeded: 120, functionErrors: 0 });
    expect(stats?.shards.map((s) => s.checkpoint)).toEqual(
      [...truth.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, seqs]) => seqs.at(-1)),
    );
  });

  it("retries a partial batch failure from the lowest failed record, not before it", async () => {
    const streamName = uniqueStreamName("partial");
    await createStream(kinesis, streamName, 1);
    const records = await put(
      kinesis,
      streamName,
      texts(10, (i) => (i === 4 || i === 7 ? { i, failItem: true, failTimes: 1 } : { i })),
    );
    const { runtime, invocations } = await start(recorderFunction("Partial", { batchSize: 10 }), streamName);
    await runtime.waitUntilIdle();

    const seqs = records.map((r) => r.sequenceNumber);
    expect(invocations().map((inv) => inv.sequenceNumbers)).toEqual([seqs, seqs.slice(4)]);
    expect(invocations()[0]?.response).toEqual({
      batchItemFailures: [{ itemIdentifier: seqs[4] }, { itemIdentifier: seqs[7] }],
    });
    expect(runtime.stats().functions[0]).toMatchObject({ partialFailures: 1, recordsSucceeded: 10 });
    expect(runtime.stats().functions[0]?.shards[0]?.checkpoint).toBe(seqs[9]);
  });

  it("counts partial failures as retries: an item that keeps failing goes to the destination with the records after it", async () => {
    const streamName = uniqueStreamName("partial-exhausted");
    await createStream(kinesis, streamName, 1);
    const records = await put(
      kinesis,
      streamName,
      texts(4, (i) => (i === 2 ? { i, failItem: true } : { i })),
    );
    const { runtime, invocations, failures } = await start(
      recorderFunction("PartialExhausted", { batchSize: 4, maxRetryAttempts: 1, bisectBatchOnError: true }),
      streamName,
    );
    await runtime.waitUntilIdle();

    const seqs = records.map((r) => r.sequenceNumber);
    expect(invocations().map((inv) => inv.sequenceNumbers)).toEqual([seqs, seqs.slice(2)]);
    const [failure, ...more] = failures();
    expect(more).toEqual([]);
    expect(failure?.requestContext).toMatchObject({
      condition: "RetryAttemptsExhausted",
      approximateInvokeCount: 2,
    });
    // The function answered; it did not fail: AWS reports no functionError then.
    expect(failure?.responseContext).toEqual({ statusCode: 200, executedVersion: "$LATEST" });
    expect(failure && failedTexts(failure)).toEqual(records.slice(2).map((r) => r.text));
    expect(runtime.stats().functions[0]).toMatchObject({
      partialFailures: 2,
      recordsSucceeded: 2,
      recordsToDestination: 2,
    });
  });

  it.each([
    ["an empty itemIdentifier", { identifier: "" }],
    ["a null itemIdentifier", { identifier: null }],
    ["an item without itemIdentifier", { identifier: "omit" }],
    ["an unknown itemIdentifier", { identifier: "12345" }],
    ["a malformed batchItemFailures", { malformed: true }],
  ])("fails the whole batch for %s: every record is delivered again", async (_, instruction) => {
    const streamName = uniqueStreamName("ident");
    await createStream(kinesis, streamName, 1);
    const records = await put(
      kinesis,
      streamName,
      texts(4, (i) => (i === 1 ? { i, ...instruction, failTimes: 1 } : { i })),
    );
    const { runtime, invocations, failures } = await start(
      recorderFunction("Ident", { batchSize: 4 }),
      streamName,
    );
    await runtime.waitUntilIdle();

    const seqs = records.map((r) => r.sequenceNumber);
    expect(invocations().map((inv) => inv.sequenceNumbers)).toEqual([seqs, seqs]);
    expect(runtime.stats().functions[0]).toMatchObject({ functionErrors: 1, partialFailures: 0 });
    expect(failures()).toEqual([]);
  });

  it("bisects on error to isolate a poison record, which reaches the destination with its data", async () => {
    const streamName = uniqueStreamName("bisect");
    const streamArn = await createStream(kinesis, streamName, 1);
    const records = await put(
      kinesis,
      streamName,
      texts(8, (i) => (i === 5 ? { i, poison: true } : { i })),
    );
    const { runtime, invocations, failures } = await start(
      recorderFunction("Bisect", { batchSize: 8, bisectBatchOnError: true, maxRetryAttempts: 1 }),
      streamName,
    );
    await runtime.waitUntilIdle();

    const seen = invocations();
    expect(seen.map((inv) => inv.records.length)).toEqual([8, 4, 4, 2, 1, 1, 1, 2]);
    const poison = records[5]?.sequenceNumber;
    // Every invocation without the poison record succeeded, so each other record succeeded.
    for (const inv of seen) {
      expect(inv.outcome).toBe(inv.sequenceNumbers.includes(poison ?? "") ? "threw" : "returned");
    }
    const succeeded = new Set(
      seen.filter((inv) => inv.outcome === "returned").flatMap((inv) => inv.sequenceNumbers),
    );
    expect(records.filter((r) => !succeeded.has(r.sequenceNumber)).map((r) => r.sequenceNumber)).toEqual([
      poison,
    ]);

    const [failure, ...more] = failures();
    expect(more).toEqual([]);
    expect(failure).toMatchObject({
      requestContext: {
        condition: "RetryAttemptsExhausted",
        functionArn: "arn:aws:lambda:us-east-1:000000000000:function:Bisect",
        approximateInvokeCount: 5,
      },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      version: "1.0",
      KinesisBatchInfo: {
        shardId: records[5]?.shardId,
        startSequenceNumber: poison,
        endSequenceNumber: poison,
        batchSize: 1,
        streamArn,
      },
      lastError: { errorType: "Error", errorMessage: `poison record ${poison}` },
    });
    expect(failure && failedTexts(failure)).toEqual([records[5]?.text]);
    expect(failure?.payload.Records[0]?.kinesis.partitionKey).toBe("pk");
    expect(runtime.stats().functions[0]).toMatchObject({ recordsToDestination: 1, recordsSucceeded: 7 });
    expect(runtime.stats().functions[0]?.shards[0]?.checkpoint).toBe(records[7]?.sequenceNumber);

    // The shard is not blocked: a later record flows.
    const [later] = await put(kinesis, streamName, [{ data: { later: true }, partitionKey: "pk" }]);
    await runtime.waitUntilIdle();
    expect(invocations().at(-1)?.sequenceNumbers).toEqual([later?.sequenceNumber]);
  });

  it("without bisect, retries the whole batch maxRetryAttempts times, then sends all of it to the destination", async () => {
    const streamName = uniqueStreamName("retries");
    await createStream(kinesis, streamName, 1);
    const records = await put(
      kinesis,
      streamName,
      texts(3, (i) => (i === 1 ? { i, poison: true } : { i })),
    );
    const { runtime, invocations, failures } = await start(
      recorderFunction("Retries", { batchSize: 10, maxRetryAttempts: 2 }),
      streamName,
    );
    await runtime.waitUntilIdle();

    const seqs = records.map((r) => r.sequenceNumber);
    expect(invocations().map((inv) => inv.sequenceNumbers)).toEqual([seqs, seqs, seqs]);
    const [failure, ...more] = failures();
    expect(more).toEqual([]);
    expect(failure?.requestContext).toMatchObject({
      condition: "RetryAttemptsExhausted",
      approximateInvokeCount: 3,
    });
    expect(failure?.KinesisBatchInfo).toMatchObject({
      startSequenceNumber: seqs[0],
      endSequenceNumber: seqs[2],
      batchSize: 3,
    });
    expect(failure && failedTexts(failure)).toEqual(records.map((r) => r.text));

    const [later] = await put(kinesis, streamName, [{ data: { later: true }, partitionKey: "pk" }]);
    await runtime.waitUntilIdle();
    expect(invocations().at(-1)?.sequenceNumbers).toEqual([later?.sequenceNumber]);
  });

  it("sends records older than maxRecordAgeSeconds to the destination instead of retrying them", async () => {
    const streamName = uniqueStreamName("age");
    await createStream(kinesis, streamName, 1);
    // The runtime polls before the records arrive, and the age limit leaves room for several tries
    // on a loaded machine: records older than the limit at their first read would go to the
    // destination untried, which is right but not what this test is about.
    const { runtime, invocations, failures } = await start(
      recorderFunction("Age", { maxRetryAttempts: -1, maxRecordAgeSeconds: 3 }),
      streamName,
    );
    const records = await put(
      kinesis,
      streamName,
      texts(2, (i) => (i === 0 ? { i, poison: true } : { i })),
    );
    await waitFor(() => failures().length > 0, "a destination record");
    const [failure] = failures();
    expect(failure?.requestContext.condition).toBe("RecordAgeExceeded");
    expect(failure && failedTexts(failure)).toEqual(records.map((r) => r.text));
    const arrival = Date.parse(failure?.KinesisBatchInfo.approximateArrivalOfLastRecord ?? "");
    expect(Date.parse(failure?.timestamp ?? "") - arrival).toBeGreaterThan(3000);
    // It was retried (infinite retries) until the age limit, and never after.
    const tries = invocations().length;
    expect(tries).toBeGreaterThan(1);

    const [later] = await put(kinesis, streamName, [{ data: { later: true }, partitionKey: "pk" }]);
    await runtime.waitUntilIdle();
    expect(
      invocations()
        .slice(tries)
        .map((inv) => inv.sequenceNumbers),
    ).toEqual([[later?.sequenceNumber]]);
    expect(failures()).toHaveLength(1);
  });

  it("cuts batches at the batch size without a batching window", async () => {
    const streamName = uniqueStreamName("size");
    await createStream(kinesis, streamName, 1);
    await put(kinesis, streamName, texts(25));
    const { runtime, invocations } = await start(recorderFunction("Size", { batchSize: 10 }), streamName);
    await runtime.waitUntilIdle();
    expect(invocations().map((inv) => inv.records.length)).toEqual([10, 10, 5]);
  });

  it("gathers records for the batching window after the previous invocation, but not once the batch is full", async () => {
    const streamName = uniqueStreamName("window");
    await createStream(kinesis, streamName, 1);
    const { runtime, invocations } = await start(
      recorderFunction("Window", { batchSize: 100, maxBatchingWindowSeconds: 1 }),
      streamName,
    );
    // For Kinesis, the next batching window begins when the previous invocation completes.
    await put(kinesis, streamName, texts(1));
    await waitFor(() => invocations()[0]?.outcome, "the first invocation");
    await put(kinesis, streamName, texts(3));
    await new Promise((r) => setTimeout(r, 200));
    await put(kinesis, streamName, texts(3));
    await waitFor(() => invocations()[1]?.outcome, "the second invocation");
    const [first, gathered] = invocations();
    expect(gathered?.records.length).toBe(6);
    expect((gathered?.at ?? 0) - (first?.endedAt ?? Number.POSITIVE_INFINITY)).toBeGreaterThanOrEqual(950);

    await put(kinesis, streamName, texts(150));
    await waitFor(() => invocations()[3]?.outcome, "two more invocations");
    const [, , full, rest] = invocations();
    expect([full?.records.length, rest?.records.length]).toEqual([100, 50]);
    // The full batch did not wait; the remainder waited a whole window after it.
    expect((full?.at ?? 0) - (gathered?.endedAt ?? 0)).toBeLessThan(950);
    expect((rest?.at ?? 0) - (full?.endedAt ?? Number.POSITIVE_INFINITY)).toBeGreaterThanOrEqual(950);
    await runtime.waitUntilIdle();
    expect(invocations()).toHaveLength(4);
  });

  it("fails an invocation that runs past the timeout and starts a fresh execution environment", async () => {
    const streamName = uniqueStreamName("timeout");
    await createStream(kinesis, streamName, 1);
    await put(kinesis, streamName, [{ data: { sleepMs: 5000 }, partitionKey: "pk" }]);
    const { runtime, invocations, failures } = await start(
      recorderFunction("Timeout", { maxRetryAttempts: 0 }, { timeoutSeconds: 0.5 }),
      streamName,
    );
    await waitFor(() => failures().length > 0, "the timed-out record in the destination");
    expect(failures()[0]?.lastError).toEqual({
      errorType: "Sandbox.Timedout",
      errorMessage: "Task timed out after 0.50 seconds",
    });
    expect(invocations()[0]?.remainingMs).toBeLessThanOrEqual(500);

    await put(kinesis, streamName, [{ data: { after: true }, partitionKey: "pk" }]);
    await runtime.waitUntilIdle();
    const [timedOut, next] = invocations();
    expect(next?.texts).toEqual([JSON.stringify({ after: true })]);
    expect(next?.environmentId).not.toBe(timedOut?.environmentId);
    expect(runtime.stats().functions[0]).toMatchObject({
      timeouts: 1,
      coldStarts: 2,
      recordsToDestination: 1,
    });
  });

  it("after a shard split, reads the child shards only once the parent is finished", async () => {
    const streamName = uniqueStreamName("reshard");
    await createStream(kinesis, streamName, 1);
    const before = await put(
      kinesis,
      streamName,
      texts(20, (i) => ({ i, sleepMs: 10 })),
    );
    const parent = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards?.[0];
    const low = BigInt(parent?.HashKeyRange?.StartingHashKey ?? "0");
    const high = BigInt(parent?.HashKeyRange?.EndingHashKey ?? "0");
    await kinesis.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: parent?.ShardId,
        NewStartingHashKey: ((low + high) / 2n).toString(),
      }),
    );
    await waitActive(kinesis, streamName);
    const after = await put(
      kinesis,
      streamName,
      Array.from({ length: 20 }, (_, i) => ({ data: { after: i }, partitionKey: `key-${i}` })),
    );
    expect(new Set(after.map((r) => r.shardId)).size).toBe(2);

    const { runtime, invocations } = await start(recorderFunction("Reshard", { batchSize: 5 }), streamName);
    await runtime.waitUntilIdle();
    const seen = invocations();
    const parentId = parent?.ShardId;
    const lastParent = seen.map((inv) => inv.shardId).lastIndexOf(parentId ?? "");
    const firstChild = seen.findIndex((inv) => inv.shardId !== parentId);
    expect(lastParent).toBeLessThan(firstChild);
    const delivered = seen.flatMap((inv) => inv.sequenceNumbers).sort();
    expect(delivered).toEqual([...before, ...after].map((r) => r.sequenceNumber).sort());
    expect(runtime.stats().functions[0]?.shards.find((s) => s.shardId === parentId)?.finished).toBe(true);
  });

  it("with LATEST, skips what was there before the mapping existed but not what arrives while it is stopped", async () => {
    const streamName = uniqueStreamName("latest");
    await createStream(kinesis, streamName, 1);
    await put(kinesis, streamName, [{ data: { old: true }, partitionKey: "pk" }]);
    await new Promise((r) => setTimeout(r, 50));
    const definition = recorderFunction("Latest", { startingPosition: "LATEST" });
    const first = await start(definition, streamName);
    const [fresh] = await put(kinesis, streamName, [{ data: { fresh: true }, partitionKey: "pk" }]);
    await first.runtime.waitUntilIdle();
    expect(first.invocations().flatMap((inv) => inv.sequenceNumbers)).toEqual([fresh?.sequenceNumber]);
    await first.runtime.stop();

    const [whileStopped] = await put(kinesis, streamName, [
      { data: { whileStopped: true }, partitionKey: "pk" },
    ]);
    const recorderFile = join(first.stateDir, "recorder.ndjson");
    const second = await startLocalRuntime({
      stateDir: first.stateDir,
      awsEnv: emulators.awsEnv,
      functions: [{ definition, streamName, env: { RECORDER_FILE: recorderFile } }],
      timing: FAST_TIMING,
    });
    running.push(second);
    await second.waitUntilIdle();
    expect(readRecorder(recorderFile).flatMap((inv) => inv.sequenceNumbers)).toEqual([
      fresh?.sequenceNumber,
      whileStopped?.sequenceNumber,
    ]);
  });

  it("reports a function that does not bundle with esbuild's diagnostics", async () => {
    const streamName = uniqueStreamName("bundle");
    await createStream(kinesis, streamName, 1);
    const broken = { ...recorderFunction("Broken"), entry: "test/fixtures/functions/broken-import.ts" };
    const failure = start(broken, streamName);
    await expect(failure).rejects.toBeInstanceOf(BundleError);
    await expect(failure).rejects.toThrow(
      /Bundling function Broken \(test\/fixtures\/functions\/broken-import\.ts\) failed:\ntest\/fixtures\/functions\/broken-import\.ts:6:25: ERROR: Could not resolve "\.\/this-module-does-not-exist"/,
    );

    const noHandler = { ...recorderFunction("NoHandler"), entry: "test/fixtures/functions/no-handler.ts" };
    await expect(start(noHandler, streamName)).rejects.toThrow(
      /the bundle does not export "handler" \(it exports: process\)/,
    );
  });
});
