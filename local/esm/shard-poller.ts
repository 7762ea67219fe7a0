import {
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  InvalidArgumentException,
  type KinesisClient,
  KMSThrottlingException,
  LimitExceededException,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
  type ShardIteratorType,
} from "@aws-sdk/client-kinesis";
import { type BatchResponseVerdict, interpretBatchResponse } from "#local/esm/batch-response";
import type { CheckpointStore } from "#local/esm/checkpoint-store";
import type { FileFailureDestination } from "#local/esm/failure-destination";
import { toFailureRecord } from "#local/esm/failure-destination";
import type { InvokeOutcome } from "#local/esm/function-host";
import {
  nextBatchLength,
  type ShardEventContext,
  type StreamRecord,
  toKinesisEvent,
  toStreamRecord,
} from "#local/esm/kinesis-event";
import {
  type BatchFailure,
  type DiscardCondition,
  expiredPrefixLength,
  type PendingBatch,
  planAfterInvocation,
  type RetryPolicy,
} from "#local/esm/retry-plan";
import type { Stage, StageProbe } from "#shared/ports/stage-probe";

/** Polling and back-off intervals. AWS polls an idle shard about once per second. */
export interface PollingTiming {
  /** First wait after an empty GetRecords; doubles up to {@link idlePollMaxMs}. */
  readonly idlePollMinMs: number;
  readonly idlePollMaxMs: number;
  /** Wait before the first counted retry of a failed batch; doubles per retry up to the max. */
  readonly retryBackoffMinMs: number;
  readonly retryBackoffMaxMs: number;
  /** Wait after Kinesis throttles or fails a call; doubles up to the max. */
  readonly errorBackoffMinMs: number;
  readonly errorBackoffMaxMs: number;
  /** How often the mapping lists shards to find new ones (resharding). */
  readonly shardDiscoveryIntervalMs: number;
}

/** Defaults close to AWS's cadence while keeping an idle laptop quiet. */
export const DEFAULT_TIMING: PollingTiming = {
  idlePollMinMs: 100,
  idlePollMaxMs: 1000,
  retryBackoffMinMs: 200,
  retryBackoffMaxMs: 5000,
  errorBackoffMinMs: 200,
  errorBackoffMaxMs: 5000,
  shardDiscoveryIntervalMs: 10_000,
};

/** Where a shard without a checkpoint starts. */
export type StartPosition =
  | { readonly type: "TRIM_HORIZON" }
  | { readonly type: "AT_TIMESTAMP"; readonly timestamp: Date }
  | { readonly type: "AFTER_SEQUENCE_NUMBER"; readonly sequenceNumber: string };

/** Per-function counters, shared by every shard of the function's mapping. */
export interface FunctionCounters {
  invocations: number;
  /** Invocations whose records all succeeded. */
  successfulInvocations: number;
  /** Thrown or rejected errors, timeouts, crashes and invalid responses. */
  functionErrors: number;
  timeouts: number;
  /** Invocations answered with a valid partial batch response. */
  partialFailures: number;
  /** Records sent to the function, counting every retry. */
  recordsInvoked: number;
  /** Records the function finished successfully (checkpointed, not discarded). */
  recordsSucceeded: number;
  /** Records sent to the on-failure destination. */
  recordsToDestination: number;
  batchesToDestination: number;
}

/** Everything a shard poller shares with its mapping. */
export interface ShardPollerContext {
  readonly functionId: string;
  readonly functionArn: string;
  readonly streamName: string;
  readonly streamArn: string;
  readonly batchSize: number;
  readonly maxBatchingWindowMs: number;
  readonly reportBatchItemFailures: boolean;
  readonly policy: RetryPolicy;
  readonly kinesis: KinesisClient;
  readonly invoke: (event: unknown) => Promise<InvokeOutcome>;
  readonly checkpoints: CheckpointStore;
  readonly destination: FileFailureDestination;
  readonly event: Omit<ShardEventContext, "shardId">;
  readonly timing: PollingTiming;
  readonly counters: FunctionCounters;
  readonly log: (message: string) => void;
  /** Crash-test instrumentation (docs/crash-test.md); absent normally. */
  readonly probe?: StageProbe;
}

/** A snapshot of one shard's progress. */
export interface ShardStatus {
  readonly shardId: string;
  /** Last checkpointed sequence number. */
  readonly checkpoint?: string;
  /** The shard is closed and done. */
  readonly finished: boolean;
  /** Start time of the last GetRecords that found nothing new with nothing left to do, epoch ms. */
  readonly caughtUpAt?: number;
  /** Records read but not yet checkpointed (buffered, in flight or awaiting retry). */
  readonly recordsPending: number;
  readonly lastError?: string;
}

/** GetRecords never returns more than this many records. */
const GET_RECORDS_MAX = 10_000;

/** A wait that {@link Sleeper.wake} ends early. */
class Sleeper {
  private wakeUp?: () => void;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeUp = undefined;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}

/**
 * Reads one shard for one mapping and drives the function with its records, in order, with one
 * batch in flight at a time. Checkpoints only after a batch's outcome (success, retry plan or
 * discard to the destination) is settled, so a crash redelivers at most what was in flight and
 * never skips a record.
 */
export class ShardPoller {
  private iterator?: string;
  /** Last record read from the shard (the iterator is after it); restart point after an expired iterator. */
  private lastRead?: string;
  private committed?: string;
  private shardEnded = false;
  private readonly buffer: StreamRecord[] = [];
  /**
   * Start of the current batching window. For Kinesis, "the next batching window begins as soon
   * as the previous function invocation completes" (AWS docs, event source mapping batching
   * behavior); the first one begins when the shard is first read.
   */
  private windowStartedAt = Date.now();
  private queue: PendingBatch<StreamRecord>[] = [];
  private nextPollAt = 0;
  private idleDelay = 0;
  private errorDelay = 0;
  private throttleDelay = 0;
  private caughtUpAt?: number;
  private finished = false;
  private stopping = false;
  private lastError?: string;
  private readonly sleeper = new Sleeper();

  constructor(
    private readonly context: ShardPollerContext,
    readonly shardId: string,
    private readonly start: StartPosition,
  ) {
    if (start.type === "AFTER_SEQUENCE_NUMBER") {
      this.lastRead = start.sequenceNumber;
      this.committed = start.sequenceNumber;
    }
  }

  /** Polls and invokes until the shard is finished ("finished") or {@link stop} is called ("stopped"). */
  async run(): Promise<"finished" | "stopped"> {
    while (!this.stopping) {
      try {
        if (await this.step()) {
          this.finished = true;
          return "finished";
        }
        this.errorDelay = 0;
        this.lastError = undefined;
      } catch (error) {
        this.lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.context.log(
          `${this.context.functionId} ${this.shardId}: ${this.lastError}; resuming from the last checkpoint`,
        );
        this.resetToCheckpoint();
        this.errorDelay = backoff(
          this.errorDelay,
          this.context.timing.errorBackoffMinMs,
          this.context.timing.errorBackoffMaxMs,
        );
        await this.sleeper.sleep(this.errorDelay);
      }
    }
    return "stopped";
  }

  /** Asks the poller to stop after the batch in flight (if any) is settled and checkpointed. */
  stop(): void {
    this.stopping = true;
    this.sleeper.wake();
  }

  /** Ends an idle wait so the shard is read now (used when someone waits for the stream tip). */
  nudge(): void {
    this.nextPollAt = 0;
    this.idleDelay = 0;
    if (this.buffer.length === 0 && this.queue.length === 0) this.sleeper.wake();
  }

  status(): ShardStatus {
    return {
      shardId: this.shardId,
      ...(this.committed ? { checkpoint: this.committed } : {}),
      finished: this.finished,
      ...(this.caughtUpAt !== undefined ? { caughtUpAt: this.caughtUpAt } : {}),
      recordsPending: this.buffer.length + this.queue.reduce((sum, batch) => sum + batch.records.length, 0),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** One unit of work; returns true when the shard is finished. */
  private async step(): Promise<boolean> {
    const { batchSize, maxBatchingWindowMs } = this.context;
    if (this.queue.length > 0) {
      await this.processNextBatch();
      return false;
    }
    const now = Date.now();
    const windowEnds = this.windowStartedAt + maxBatchingWindowMs;
    const length = nextBatchLength(this.buffer, batchSize);
    // Invoke when the batch size or the 6 MB payload is reached, the window is over, or the shard ended.
    const full = this.buffer.length >= batchSize || length < this.buffer.length;
    if (this.buffer.length > 0 && (full || now >= windowEnds || this.shardEnded)) {
      this.queue.push({ records: this.buffer.splice(0, length), retries: 0, invocations: 0 });
      return false;
    }
    if (this.shardEnded) {
      // Closed and every record settled: the children may start.
      await this.writeCheckpoint(true);
      this.caughtUpAt = Number.POSITIVE_INFINITY;
      return true;
    }
    if (now >= this.nextPollAt) {
      await this.poll();
      return false;
    }
    const wakeAt = this.buffer.length > 0 ? Math.min(this.nextPollAt, windowEnds) : this.nextPollAt;
    await this.sleeper.sleep(wakeAt - now);
    return false;
  }

  private async poll(): Promise<void> {
    const { kinesis, batchSize, timing } = this.context;
    this.iterator ??= await this.shardIterator();
    const startedAt = Date.now();
    let response: GetRecordsCommandOutput;
    try {
      response = await kinesis.send(
        new GetRecordsCommand({
          ShardIterator: this.iterator,
          Limit: Math.min(GET_RECORDS_MAX, Math.max(batchSize, 500)),
        }),
      );
    } catch (error) {
      if (error instanceof ExpiredIteratorException) {
        // Iterators live five minutes; a long retry outlives it. Continue after the last record read.
        this.iterator = undefined;
        return;
      }
      if (
        error instanceof ProvisionedThroughputExceededException ||
        error instanceof LimitExceededException ||
        error instanceof KMSThrottlingException
      ) {
        this.throttleDelay = backoff(this.throttleDelay, timing.errorBackoffMinMs, timing.errorBackoffMaxMs);
        this.nextPollAt = Date.now() + this.throttleDelay;
        return;
      }
      throw error;
    }
    this.throttleDelay = 0;
    const records = (response.Records ?? []).map((record) =>
      toStreamRecord(record, { ...this.context.event, shardId: this.shardId }),
    );
    const last = records.at(-1);
    if (last) {
      this.buffer.push(...records);
      this.lastRead = last.sequenceNumber;
      this.caughtUpAt = undefined;
    }
    this.iterator = response.NextShardIterator;
    if (!this.iterator) this.shardEnded = true;
    const behind = (response.MillisBehindLatest ?? 0) > 0;
    if (records.length > 0 || behind) {
      this.idleDelay = 0;
      this.nextPollAt = 0;
      return;
    }
    this.idleDelay = backoff(this.idleDelay, timing.idlePollMinMs, timing.idlePollMaxMs);
    this.nextPollAt = Date.now() + this.idleDelay;
    if (this.buffer.length === 0 && this.queue.length === 0) this.caughtUpAt = startedAt;
  }

  private async shardIterator(): Promise<string> {
    const { kinesis, streamArn } = this.context;
    const request = (type: ShardIteratorType, extra: { StartingSequenceNumber?: string; Timestamp?: Date }) =>
      kinesis.send(
        new GetShardIteratorCommand({
          StreamARN: streamArn,
          ShardId: this.shardId,
          ShardIteratorType: type,
          ...extra,
        }),
      );
    if (this.lastRead) {
      try {
        const { ShardIterator } = await request("AFTER_SEQUENCE_NUMBER", {
          StartingSequenceNumber: this.lastRead,
        });
        if (ShardIterator) return ShardIterator;
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException || error instanceof InvalidArgumentException))
          throw error;
        // The record is gone (trimmed by retention). Redeliver from the oldest record rather than skip.
        this.context.log(
          `${this.context.functionId} ${this.shardId}: checkpoint ${this.lastRead} is no longer in the stream (${error.message}); reading from TRIM_HORIZON`,
        );
      }
      const { ShardIterator } = await request("TRIM_HORIZON", {});
      if (!ShardIterator) throw new Error(`no shard iterator for ${this.shardId}`);
      return ShardIterator;
    }
    const { ShardIterator } =
      this.start.type === "AT_TIMESTAMP"
        ? await request("AT_TIMESTAMP", { Timestamp: this.start.timestamp })
        : await request("TRIM_HORIZON", {});
    if (!ShardIterator) throw new Error(`no shard iterator for ${this.shardId}`);
    return ShardIterator;
  }

  /** Invokes (or discards) the batch at the front of the queue and settles its outcome. */
  private async processNextBatch(): Promise<void> {
    const { policy, counters, timing } = this.context;
    const batch = this.queue[0];
    if (!batch) return;
    const expired = expiredPrefixLength(
      batch.records,
      (r) => r.arrivalMs,
      Date.now(),
      policy.maxRecordAgeSeconds,
    );
    if (expired > 0) {
      const records = batch.records.slice(0, expired);
      await this.discard(records, "RecordAgeExceeded", batch.invocations, batch.lastFailure);
      const rest = batch.records.slice(expired);
      this.queue.splice(0, 1, ...(rest.length > 0 ? [{ ...batch, records: rest }] : []));
      await this.commit(records);
      return;
    }
    this.reached("invoking", batch.records, batch.records.length);
    const outcome = await this.context.invoke(toKinesisEvent(batch.records));
    this.windowStartedAt = Date.now();
    counters.invocations += 1;
    counters.recordsInvoked += batch.records.length;
    const verdict = this.verdict(outcome, batch.records);
    const failure = describeFailure(outcome, verdict, batch.records);
    const invoked = {
      ...batch,
      invocations: batch.invocations + 1,
      ...(failure ? { lastFailure: failure } : {}),
    };
    const plan = planAfterInvocation(invoked, verdict, policy);
    const remaining = plan.next.reduce((sum, next) => sum + next.records.length, 0);
    const done = batch.records.slice(0, batch.records.length - remaining);
    this.reached("returned", batch.records, done.length);
    if (plan.discard) {
      await this.discard(plan.discard.records, plan.discard.condition, invoked.invocations, failure);
    }
    counters.recordsSucceeded += done.length - (plan.discard?.records.length ?? 0);
    this.queue.splice(0, 1, ...plan.next);
    if (done.length > 0) await this.commit(done);
    if (verdict.kind !== "success") {
      const next = plan.next[0];
      const what =
        verdict.kind === "partial"
          ? `partial batch failure at ${batch.records[verdict.firstFailedIndex]?.sequenceNumber}`
          : verdict.reason;
      const then = plan.discard
        ? `${plan.discard.records.length} record(s) sent to the on-failure destination`
        : next && next.retries > batch.retries
          ? `retry ${next.retries}${policy.maxRetryAttempts >= 0 ? `/${policy.maxRetryAttempts}` : ""} of ${next.records.length} record(s)`
          : `bisected into ${plan.next.map((n) => n.records.length).join(" + ")} record(s)`;
      this.context.log(`${this.context.functionId} ${this.shardId}: ${what}; ${then}`);
      if (next && next.retries > batch.retries) {
        await this.sleeper.sleep(
          retryDelay(next.retries, timing.retryBackoffMinMs, timing.retryBackoffMaxMs),
        );
      }
    } else {
      counters.successfulInvocations += 1;
    }
  }

  private verdict(outcome: InvokeOutcome, records: readonly StreamRecord[]): BatchResponseVerdict {
    const { counters } = this.context;
    if (!outcome.ok) {
      counters.functionErrors += 1;
      if (outcome.timedOut) counters.timeouts += 1;
      return { kind: "failure", reason: `${outcome.error.errorType}: ${outcome.error.errorMessage}` };
    }
    const verdict = interpretBatchResponse(
      outcome.response,
      records.map((r) => r.sequenceNumber),
      this.context.reportBatchItemFailures,
    );
    if (verdict.kind === "failure") counters.functionErrors += 1;
    else if (verdict.kind === "partial") counters.partialFailures += 1;
    return verdict;
  }

  private async discard(
    records: readonly StreamRecord[],
    condition: DiscardCondition,
    invocations: number,
    lastFailure: BatchFailure | undefined,
  ): Promise<void> {
    const { counters, destination, functionArn, streamArn } = this.context;
    await destination.send(
      toFailureRecord(
        { records, condition, functionArn, streamArn, invocations, ...(lastFailure ? { lastFailure } : {}) },
        new Date(),
      ),
    );
    this.reached("discarded", records, records.length);
    counters.recordsToDestination += records.length;
    counters.batchesToDestination += 1;
    if (condition === "RecordAgeExceeded") {
      this.context.log(
        `${this.context.functionId} ${this.shardId}: ${records.length} record(s) older than ${this.context.policy.maxRecordAgeSeconds} s sent to the on-failure destination`,
      );
    }
  }

  /** Checkpoints after the last of `records`, which are the next records of the shard. */
  private async commit(records: readonly StreamRecord[]): Promise<void> {
    const last = records.at(-1);
    if (!last) return;
    this.committed = last.sequenceNumber;
    await this.writeCheckpoint(false);
    this.reached("checkpointed", records, records.length);
  }

  /** Tells the crash-test probe, if any, that `stage` is done for `records` (`count` of them did something). */
  private reached(stage: Stage, records: readonly StreamRecord[], count: number): void {
    const first = records[0];
    const last = records.at(-1);
    if (!this.context.probe || !first || !last) return;
    this.context.probe.reached({
      stage,
      shardId: this.shardId,
      first: first.sequenceNumber,
      last: last.sequenceNumber,
      records: records.length,
      count,
    });
  }

  private async writeCheckpoint(shardFinished: boolean): Promise<void> {
    await this.context.checkpoints.write({
      shardId: this.shardId,
      ...(this.committed ? { sequenceNumber: this.committed } : {}),
      shardFinished,
      updatedAt: new Date().toISOString(),
    });
  }

  /** Forgets everything read since the last checkpoint; the next read starts right after it. */
  private resetToCheckpoint(): void {
    this.buffer.length = 0;
    this.queue = [];
    this.iterator = undefined;
    this.shardEnded = false;
    this.lastRead = this.committed;
    this.caughtUpAt = undefined;
    this.nextPollAt = 0;
  }
}

/** Why an invocation did not succeed, or undefined when it did. */
function describeFailure(
  outcome: InvokeOutcome,
  verdict: BatchResponseVerdict,
  records: readonly StreamRecord[],
): BatchFailure | undefined {
  if (!outcome.ok) {
    return {
      errorType: outcome.error.errorType,
      errorMessage: outcome.error.errorMessage,
      functionError: true,
    };
  }
  if (verdict.kind === "failure") {
    return { errorType: "InvalidBatchItemFailures", errorMessage: verdict.reason, functionError: true };
  }
  if (verdict.kind === "partial") {
    const first = records[verdict.firstFailedIndex]?.sequenceNumber;
    return {
      errorType: "PartialBatchFailure",
      errorMessage: `batchItemFailures reported ${first} as the lowest failed record`,
      functionError: false,
    };
  }
  return undefined;
}

function backoff(current: number, min: number, max: number): number {
  return Math.min(max, current > 0 ? current * 2 : min);
}

/** Wait before retry number `retry` (1-based): min, 2 min, 4 min, ... up to max. */
function retryDelay(retry: number, min: number, max: number): number {
  return Math.min(max, min * 2 ** Math.max(0, retry - 1));
}
