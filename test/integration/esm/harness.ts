/**
 * Helpers for the local runtime's integration tests: streams on the real Kinesis Mock, the
 * recorder fixture's log, the on-failure destination file and waits with deadlines.
 */
import { existsSync, readFileSync } from "node:fs";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import type { KinesisStreamRecord } from "aws-lambda";
import type { FailureRecord } from "#local/esm/failure-destination";
import type { PollingTiming } from "#local/esm/shard-poller";
import type { EventSourceMappingDefinition, FunctionDefinition } from "#shared/resources";

/** Short polling and back-off intervals so the suite runs in seconds. */
export const FAST_TIMING: Partial<PollingTiming> = {
  idlePollMinMs: 20,
  idlePollMaxMs: 100,
  retryBackoffMinMs: 20,
  retryBackoffMaxMs: 100,
  errorBackoffMinMs: 50,
  errorBackoffMaxMs: 200,
  shardDiscoveryIntervalMs: 500,
};

let streamCounter = 0;
/** A stream name unique within this test process. */
export function uniqueStreamName(label: string): string {
  streamCounter += 1;
  return `esm-${label}-${process.pid}-${streamCounter}`;
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until the stream is ACTIVE (after create, split or merge). */
export async function waitActive(kinesis: KinesisClient, streamName: string): Promise<string> {
  return await waitFor(async () => {
    const { StreamDescriptionSummary: s } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    return s?.StreamStatus === "ACTIVE" ? s.StreamARN : undefined;
  }, `stream ${streamName} to be ACTIVE`);
}

/** Creates a stream with `shards` shards and returns its ARN once ACTIVE. */
export async function createStream(
  kinesis: KinesisClient,
  streamName: string,
  shards: number,
): Promise<string> {
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shards }));
  return await waitActive(kinesis, streamName);
}

/** A record put on a stream, where it landed. */
export interface PutResult {
  readonly text: string;
  readonly partitionKey: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** Puts records (JSON-encoded objects or raw strings) in one PutRecords call, failing on any rejected record. */
export async function put(
  kinesis: KinesisClient,
  streamName: string,
  records: readonly { readonly data: unknown; readonly partitionKey: string }[],
): Promise<PutResult[]> {
  const texts = records.map((r) => (typeof r.data === "string" ? r.data : JSON.stringify(r.data)));
  const result = await kinesis.send(
    new PutRecordsCommand({
      StreamName: streamName,
      Records: records.map((r, i) => ({
        Data: new TextEncoder().encode(texts[i]),
        PartitionKey: r.partitionKey,
      })),
    }),
  );
  if (result.FailedRecordCount) throw new Error(`${result.FailedRecordCount} records were rejected`);
  return (result.Records ?? []).map((entry, i) => ({
    text: texts[i] ?? "",
    partitionKey: records[i]?.partitionKey ?? "",
    shardId: entry.ShardId ?? "",
    sequenceNumber: entry.SequenceNumber ?? "",
  }));
}

/** Every record of every shard, read straight from Kinesis: the truth deliveries are compared with. */
export async function readStream(kinesis: KinesisClient, streamName: string): Promise<Map<string, string[]>> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const result = new Map<string, string[]>();
  for (const shard of shards) {
    const shardId = shard.ShardId ?? "";
    const sequenceNumbers: string[] = [];
    let iterator = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shardId,
          ShardIteratorType: "TRIM_HORIZON",
        }),
      )
    ).ShardIterator;
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
      sequenceNumbers.push(...(page.Records ?? []).map((r) => r.SequenceNumber ?? ""));
      if ((page.Records ?? []).length === 0 && !page.MillisBehindLatest) break;
      iterator = page.NextShardIterator;
    }
    result.set(shardId, sequenceNumbers);
  }
  return result;
}

/** A record as the recorder fixture saw it. */
export interface SeenRecord extends KinesisStreamRecord {
  /** The decoded data. */
  readonly text: string;
}

/** One invocation as the recorder fixture logged it, with its result when it finished. */
export interface RecordedInvocation {
  readonly requestId: string;
  readonly pid: number;
  readonly environmentId: string;
  readonly functionName: string;
  readonly remainingMs: number;
  readonly at: number;
  readonly records: readonly SeenRecord[];
  readonly shardId: string;
  readonly sequenceNumbers: readonly string[];
  readonly texts: readonly string[];
  readonly outcome?: "threw" | "returned";
  readonly response?: unknown;
  /** When the handler finished (epoch ms), if it did. */
  readonly endedAt?: number;
}

/** The recorder fixture's invocations, in the order they started. */
export function readRecorder(file: string): RecordedInvocation[] {
  if (!existsSync(file)) return [];
  const invocations: RecordedInvocation[] = [];
  const results = new Map<string, { outcome: "threw" | "returned"; response?: unknown; endedAt: number }>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    // A runtime killed with SIGKILL may leave a last line cut short; it is not an invocation.
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (entry.type === "result") {
      results.set(String(entry.requestId), {
        outcome: entry.outcome as "threw" | "returned",
        response: entry.response,
        endedAt: Number(entry.at),
      });
    } else if (entry.type === "invoke") {
      const records = entry.records as SeenRecord[];
      invocations.push({
        requestId: String(entry.requestId),
        pid: Number(entry.pid),
        environmentId: String(entry.environmentId),
        functionName: String(entry.functionName),
        remainingMs: Number(entry.remainingMs),
        at: Number(entry.at),
        records,
        shardId: records[0]?.eventID.split(":")[0] ?? "",
        sequenceNumbers: records.map((r) => r.kinesis.sequenceNumber),
        texts: records.map((r) => r.text),
      });
    }
  }
  return invocations.map((invocation) => ({ ...invocation, ...results.get(invocation.requestId) }));
}

/** The on-failure destination's records. */
export function readFailures(file: string): FailureRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as FailureRecord);
}

/** Decoded data of a destination record's payload. */
export function failedTexts(record: FailureRecord): string[] {
  return record.payload.Records.map((r) => Buffer.from(r.kinesis.data, "base64").toString("utf8"));
}

/** The recorder fixture as a function definition, with mapping settings overridden per test. */
export function recorderFunction(
  id: string,
  eventSource: Partial<EventSourceMappingDefinition> = {},
  overrides: Partial<Omit<FunctionDefinition, "eventSource">> = {},
): FunctionDefinition & { readonly eventSource: EventSourceMappingDefinition } {
  return {
    id,
    entry: "test/fixtures/functions/recorder.ts",
    handler: "handler",
    memoryMiB: 256,
    timeoutSeconds: 10,
    tables: {},
    ...overrides,
    eventSource: {
      stream: "events",
      batchSize: 10,
      maxBatchingWindowSeconds: 0,
      bisectBatchOnError: false,
      maxRetryAttempts: 3,
      maxRecordAgeSeconds: -1,
      reportBatchItemFailures: true,
      startingPosition: "TRIM_HORIZON",
      ...eventSource,
    },
  };
}
