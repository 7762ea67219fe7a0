import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  ResourceNotFoundException,
  type Shard,
  type StreamDescriptionSummary,
} from "@aws-sdk/client-kinesis";
import { CheckpointStore } from "#local/esm/checkpoint-store";
import { RuntimeConfigError } from "#local/esm/errors";
import type { FileFailureDestination } from "#local/esm/failure-destination";
import type { InvokeOutcome } from "#local/esm/function-host";
import {
  type FunctionCounters,
  type PollingTiming,
  ShardPoller,
  type ShardPollerContext,
  type ShardStatus,
  type StartPosition,
} from "#local/esm/shard-poller";
import type { StageProbe } from "#shared/ports/stage-probe";
import type { EventSourceMappingDefinition } from "#shared/resources";

/** What a mapping needs: the function side, the stream side and where its state lives. */
export interface EventSourceMappingOptions {
  readonly functionId: string;
  readonly functionArn: string;
  /** ARN of the execution role Lambda would assume (`invokeIdentityArn` in events). */
  readonly roleArn: string;
  /** The stream as {@link describeActiveStream} found it. */
  readonly stream: ActiveStream;
  readonly definition: EventSourceMappingDefinition;
  readonly kinesis: KinesisClient;
  readonly invoke: (event: unknown) => Promise<InvokeOutcome>;
  readonly checkpointDir: string;
  readonly destination: FileFailureDestination;
  readonly timing: PollingTiming;
  readonly counters: FunctionCounters;
  readonly log: (message: string) => void;
  /** Crash-test instrumentation: told when batches are invoked, answered, checkpointed, discarded. */
  readonly probe?: StageProbe;
}

/** A stream ready to be read. */
export interface ActiveStream {
  readonly name: string;
  readonly arn: string;
  /** `StreamCreationTimestamp`, ISO-8601: tells a recreated stream of the same name apart. */
  readonly createdAt: string;
}

/**
 * Describes a stream and waits (up to `timeoutMs`) until it is ACTIVE or UPDATING; throws a
 * {@link RuntimeConfigError} when it does not exist or never becomes readable.
 */
export async function describeActiveStream(
  kinesis: KinesisClient,
  name: string,
  timeoutMs = 30_000,
): Promise<ActiveStream> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let summary: StreamDescriptionSummary | undefined;
    try {
      summary = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name })))
        .StreamDescriptionSummary;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        throw new RuntimeConfigError(`stream ${name} does not exist (is the local stack up?)`);
      }
      throw error;
    }
    if (!summary?.StreamARN) throw new RuntimeConfigError(`stream ${name} could not be described`);
    if (summary.StreamStatus === "ACTIVE" || summary.StreamStatus === "UPDATING") {
      return {
        name,
        arn: summary.StreamARN,
        createdAt: summary.StreamCreationTimestamp?.toISOString() ?? "unknown",
      };
    }
    if (Date.now() > deadline)
      throw new RuntimeConfigError(`stream ${name} is ${summary.StreamStatus}, not ACTIVE`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A snapshot of a mapping's shards. */
export interface MappingStatus {
  readonly functionId: string;
  readonly streamName: string;
  readonly streamArn: string;
  readonly shards: readonly ShardStatus[];
  /** Shards waiting for a parent shard to finish. */
  readonly waitingShards: readonly string[];
}

/**
 * Lambda's Kinesis event source mapping for one function and one stream: one poller per shard,
 * children of a split or merge started only once their parents are finished (so a partition key's
 * records stay in order across a reshard), new shards found by listing the stream periodically.
 */
export class EventSourceMapping {
  private readonly pollers = new Map<string, { poller: ShardPoller; done: Promise<unknown> }>();
  private readonly finished = new Map<string, ShardStatus>();
  private waiting: string[] = [];
  private checkpoints!: CheckpointStore;
  private context!: ShardPollerContext;
  private mappingCreatedAt!: Date;
  private discovery?: Promise<void>;
  private discoveredAt = 0;
  private timer?: NodeJS.Timeout;
  private stopping = false;

  private constructor(private readonly options: EventSourceMappingOptions) {}

  /**
   * Describes the stream, claims the checkpoint directory for it (dropping checkpoints of an older
   * stream of the same name) and starts polling every shard that may start.
   */
  static async start(options: EventSourceMappingOptions): Promise<EventSourceMapping> {
    const mapping = new EventSourceMapping(options);
    await mapping.init();
    return mapping;
  }

  private async init(): Promise<void> {
    const options = this.options;
    const { kinesis, definition } = options;
    const streamName = options.stream.name;
    const { arn: streamArn, createdAt: streamCreatedAt } = options.stream;
    const region = streamArn.split(":")[3] ?? "";
    this.checkpoints = new CheckpointStore(options.checkpointDir);
    const { identity, reset } = await this.checkpoints.claim({ streamArn, streamCreatedAt }, new Date());
    if (reset) {
      options.log(
        `${options.functionId}: stream ${streamName} was created again since the last run; its old checkpoints were dropped`,
      );
    }
    this.mappingCreatedAt = new Date(identity.mappingCreatedAt);
    this.context = {
      functionId: options.functionId,
      functionArn: options.functionArn,
      streamName,
      streamArn,
      batchSize: definition.batchSize,
      maxBatchingWindowMs: definition.maxBatchingWindowSeconds * 1000,
      reportBatchItemFailures: definition.reportBatchItemFailures,
      policy: {
        bisectBatchOnError: definition.bisectBatchOnError,
        maxRetryAttempts: definition.maxRetryAttempts,
        maxRecordAgeSeconds: definition.maxRecordAgeSeconds,
      },
      kinesis,
      invoke: options.invoke,
      checkpoints: this.checkpoints,
      destination: options.destination,
      event: { eventSourceArn: streamArn, awsRegion: region, invokeIdentityArn: options.roleArn },
      timing: options.timing,
      counters: options.counters,
      log: options.log,
      ...(options.probe ? { probe: options.probe } : {}),
    };
    await this.discover();
    this.timer = setInterval(() => {
      this.discover().catch((error: unknown) =>
        options.log(`${options.functionId}: listing the shards of ${streamName} failed: ${String(error)}`),
      );
    }, options.timing.shardDiscoveryIntervalMs);
    this.timer.unref();
  }

  /**
   * Lists the shards and starts a poller for every shard that has none, is not finished, and whose
   * parents are finished (or already trimmed from the stream). Concurrent calls share one listing.
   */
  discover(): Promise<void> {
    this.discovery ??= this.listAndStart().finally(() => {
      this.discovery = undefined;
    });
    return this.discovery;
  }

  /** Resolves once a listing that started at or after `since` (epoch ms) has completed. */
  async discoverSince(since: number): Promise<void> {
    while (this.discoveredAt < since && !this.stopping) await this.discover();
  }

  private async listAndStart(): Promise<void> {
    const startedAt = Date.now();
    const shards = await this.listShards();
    const known = new Set(shards.map((s) => s.ShardId));
    const waiting: string[] = [];
    for (const shard of shards) {
      const shardId = shard.ShardId;
      if (!shardId || this.stopping || this.pollers.has(shardId) || this.finished.has(shardId)) continue;
      const checkpoint = await this.checkpoints.read(shardId);
      if (checkpoint?.shardFinished) {
        this.finished.set(shardId, {
          shardId,
          ...(checkpoint.sequenceNumber ? { checkpoint: checkpoint.sequenceNumber } : {}),
          finished: true,
          caughtUpAt: Number.POSITIVE_INFINITY,
          recordsPending: 0,
        });
        continue;
      }
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => !!p);
      if (parents.some((parent) => known.has(parent) && !this.finished.has(parent))) {
        waiting.push(shardId);
        continue;
      }
      const start: StartPosition = checkpoint?.sequenceNumber
        ? { type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: checkpoint.sequenceNumber }
        : this.options.definition.startingPosition === "LATEST"
          ? // LATEST means records that arrive after the mapping was created, also after a restart.
            { type: "AT_TIMESTAMP", timestamp: this.mappingCreatedAt }
          : { type: "TRIM_HORIZON" };
      this.startPoller(shardId, start);
    }
    this.waiting = waiting;
    this.discoveredAt = startedAt;
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.options.kinesis.send(
        new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamARN: this.context.streamArn }),
      );
      shards.push(...(page.Shards ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return shards;
  }

  private startPoller(shardId: string, start: StartPosition): void {
    const poller = new ShardPoller(this.context, shardId, start);
    const done = poller.run().then(async (result) => {
      // A stopped poller stays listed, so stats after stop() still show its last checkpoint.
      if (result !== "finished") return;
      this.pollers.delete(shardId);
      this.finished.set(shardId, poller.status());
      this.options.log(`${this.options.functionId}: shard ${shardId} is closed and done`);
      if (!this.stopping) await this.discover();
    });
    done.catch((error: unknown) =>
      this.options.log(`${this.options.functionId} ${shardId}: poller stopped: ${String(error)}`),
    );
    this.pollers.set(shardId, { poller, done });
  }

  /** True when every shard has found nothing new since `since` (epoch ms) with nothing left to do. */
  idleSince(since: number): boolean {
    if (this.discoveredAt < since || this.waiting.length > 0) return false;
    return [...this.pollers.values()].every(({ poller }) => (poller.status().caughtUpAt ?? -1) >= since);
  }

  /** Ends idle waits so every shard is read again now. */
  nudge(): void {
    for (const { poller } of this.pollers.values()) poller.nudge();
  }

  status(): MappingStatus {
    return {
      functionId: this.options.functionId,
      streamName: this.options.stream.name,
      streamArn: this.context.streamArn,
      shards: [
        ...this.finished.values(),
        ...[...this.pollers.values()].map(({ poller }) => poller.status()),
      ].sort((a, b) => a.shardId.localeCompare(b.shardId)),
      waitingShards: [...this.waiting],
    };
  }

  /** Stops every poller after its batch in flight is settled and checkpointed. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.discovery?.catch(() => {});
    const running = [...this.pollers.values()];
    for (const { poller } of running) poller.stop();
    await Promise.allSettled(running.map(({ done }) => done));
  }
}
