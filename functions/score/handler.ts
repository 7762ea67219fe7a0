import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";

/** Placeholder: replaced by the real score handler in the platform work. */
export async function handler(_event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  return { batchItemFailures: [] };
}
