/**
 * Retry helpers of the state store. The SDK already retries throttling and 5xx errors of each
 * request (maxAttempts in `createDynamoDbClient`); these cover what it cannot: unprocessed keys
 * of BatchGetItem and conditional conflicts, which need new input before the next attempt.
 */

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): a uniform delay in [0, min(cap, base · 2^attempt)), which spreads competing writers.
 */
export function backoffDelayMs(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** Runs `task` over `items` with at most `concurrency` in flight; resolves when all have settled. */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
