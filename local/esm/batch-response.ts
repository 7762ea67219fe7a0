/**
 * How Lambda reads a Kinesis handler's response under `ReportBatchItemFailures`
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html):
 *
 * - complete success: an empty or null `batchItemFailures` list, an empty or null response;
 * - complete failure: an item whose `itemIdentifier` is an empty string, null, missing (a bad key
 *   name) or not a sequence number of the batch; locally also any response that is not an object
 *   or whose `batchItemFailures` is not a list;
 * - otherwise a partial failure: Lambda checkpoints before the lowest failed sequence number and
 *   retries every record from it on.
 *
 * Without `ReportBatchItemFailures` the response is ignored: a returned handler is a success.
 */

/** The verdict on one invocation's response. */
export type BatchResponseVerdict =
  | { readonly kind: "success" }
  /** Records before `firstFailedIndex` succeeded; the rest are retried. */
  | { readonly kind: "partial"; readonly firstFailedIndex: number }
  /** The whole batch failed; `reason` says why, for logs and the on-failure destination. */
  | { readonly kind: "failure"; readonly reason: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Interprets a handler's (JSON-decoded) response for a batch whose records have
 * `sequenceNumbers`, in batch order.
 */
export function interpretBatchResponse(
  response: unknown,
  sequenceNumbers: readonly string[],
  reportBatchItemFailures: boolean,
): BatchResponseVerdict {
  if (!reportBatchItemFailures || response === null || response === undefined) return { kind: "success" };
  if (!isRecord(response)) {
    return { kind: "failure", reason: `malformed response: expected an object, got ${describe(response)}` };
  }
  const failures = response.batchItemFailures;
  if (failures === undefined || failures === null) return { kind: "success" };
  if (!Array.isArray(failures)) {
    return { kind: "failure", reason: `malformed response: batchItemFailures is ${describe(failures)}` };
  }
  const positions = new Map(sequenceNumbers.map((sequenceNumber, index) => [sequenceNumber, index]));
  let first = Number.POSITIVE_INFINITY;
  for (const [i, item] of failures.entries()) {
    if (!isRecord(item)) {
      return { kind: "failure", reason: `batchItemFailures[${i}] is ${describe(item)}, not an object` };
    }
    const id = item.itemIdentifier;
    if (typeof id !== "string" || id === "") {
      return { kind: "failure", reason: `batchItemFailures[${i}].itemIdentifier is ${describe(id)}` };
    }
    const index = positions.get(id);
    if (index === undefined) {
      return {
        kind: "failure",
        reason: `batchItemFailures[${i}].itemIdentifier ${JSON.stringify(id)} is not a sequence number of the batch`,
      };
    }
    first = Math.min(first, index);
  }
  return Number.isFinite(first) ? { kind: "partial", firstFailedIndex: first } : { kind: "success" };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "missing";
  if (value === "") return "an empty string";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
