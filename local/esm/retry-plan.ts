/**
 * What an event source mapping does after an invocation, as pure functions of the batch, the
 * verdict and the mapping's error-handling settings. AWS semantics
 * (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html):
 *
 * - a function error with `BisectBatchOnFunctionError` splits the batch in two and retries the
 *   halves in order; "splitting a batch does not count towards the retry quota";
 * - otherwise a failed batch is retried until `MaximumRetryAttempts` retries have failed, then
 *   discarded to the on-failure destination (`RetryAttemptsExhausted`);
 * - a partial batch response checkpoints before the lowest failed record and retries the rest;
 *   that retry follows the retry strategy, so it counts as a retry attempt (with or without bisect,
 *   where AWS "bisects at the returned sequence number", which is the same split);
 * - records older than `MaximumRecordAgeInSeconds` are not sent to the function again: they go to
 *   the destination (`RecordAgeExceeded`).
 *
 * `-1` means "infinite" for both limits, as on AWS.
 */
import type { BatchResponseVerdict } from "#local/esm/batch-response";

/** The error-handling settings of a stream event source mapping. */
export interface RetryPolicy {
  readonly bisectBatchOnError: boolean;
  /** Retries after the first attempt; -1 retries until the records expire. */
  readonly maxRetryAttempts: number;
  /** Records older than this (by arrival time) are discarded; -1 never discards by age. */
  readonly maxRecordAgeSeconds: number;
}

/** Why a batch's last invocation did not succeed, for logs and the on-failure destination. */
export interface BatchFailure {
  readonly errorType: string;
  readonly errorMessage: string;
  /** The invocation failed (error, timeout, invalid response) rather than reporting failed items. */
  readonly functionError: boolean;
}

/** A batch waiting to be invoked: fresh from the shard, a retry, or one half of a bisected batch. */
export interface PendingBatch<R> {
  readonly records: readonly R[];
  /** Failed attempts so far that count towards `maxRetryAttempts`. */
  readonly retries: number;
  /** Invocations these records have been part of (AWS's `approximateInvokeCount`). */
  readonly invocations: number;
  /** Set once an invocation of these records failed. */
  readonly lastFailure?: BatchFailure;
}

/** Why records went to the on-failure destination (AWS's `requestContext.condition`). */
export type DiscardCondition = "RetryAttemptsExhausted" | "RecordAgeExceeded";

/** The next step after an invocation. */
export interface RetryPlan<R> {
  /**
   * Batches to invoke next, before any newer record, in order. Their records are always a suffix
   * of the invoked batch, so everything before them is done and can be checkpointed.
   */
  readonly next: readonly PendingBatch<R>[];
  /** Records to send to the on-failure destination before checkpointing past them. */
  readonly discard?: { readonly records: readonly R[]; readonly condition: DiscardCondition };
}

/** Whether a batch that has failed `retries` counted times may be tried again. */
export function mayRetry(retries: number, policy: RetryPolicy): boolean {
  return policy.maxRetryAttempts < 0 || retries < policy.maxRetryAttempts;
}

/** Plans the next step after invoking `batch` (its `invocations` already include this one). */
export function planAfterInvocation<R>(
  batch: PendingBatch<R>,
  verdict: BatchResponseVerdict,
  policy: RetryPolicy,
): RetryPlan<R> {
  switch (verdict.kind) {
    case "success":
      return { next: [] };
    case "partial": {
      const rest = batch.records.slice(verdict.firstFailedIndex);
      return retryOrDiscard({ ...batch, records: rest }, policy);
    }
    case "failure": {
      if (policy.bisectBatchOnError && batch.records.length > 1) {
        const half = Math.ceil(batch.records.length / 2);
        return {
          next: [
            { ...batch, records: batch.records.slice(0, half) },
            { ...batch, records: batch.records.slice(half) },
          ],
        };
      }
      return retryOrDiscard(batch, policy);
    }
  }
}

function retryOrDiscard<R>(batch: PendingBatch<R>, policy: RetryPolicy): RetryPlan<R> {
  if (mayRetry(batch.retries, policy)) return { next: [{ ...batch, retries: batch.retries + 1 }] };
  return { next: [], discard: { records: batch.records, condition: "RetryAttemptsExhausted" } };
}

/**
 * How many leading records are older than `maxRecordAgeSeconds` at `nowMs`. Arrival times grow
 * along a shard, so the expired records are a prefix; stopping at the first fresh record keeps the
 * checkpoint moving strictly forward even if the clock disagrees.
 */
export function expiredPrefixLength<R>(
  records: readonly R[],
  arrivalMs: (record: R) => number,
  nowMs: number,
  maxRecordAgeSeconds: number,
): number {
  if (maxRecordAgeSeconds < 0) return 0;
  let count = 0;
  for (const record of records) {
    if (nowMs - arrivalMs(record) <= maxRecordAgeSeconds * 1000) break;
    count += 1;
  }
  return count;
}
