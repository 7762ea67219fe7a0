import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { type PutOptions, type PutResult, putRecords } from "#shared/adapters/kinesis-producer";
import { type DecodeLimits, decodeRecord, type QuarantineReason } from "#shared/domain/event/index";

/** An event the producer refused to send, with the same reason the pipeline would quarantine it for. */
export interface RejectedEvent {
  readonly index: number;
  readonly reason: QuarantineReason;
  readonly message: string;
}

/** What `putEvents` did with each input, by input index. */
export interface PutEventsResult {
  readonly sent: number;
  readonly rejected: readonly RejectedEvent[];
  /** Accepted events Kinesis still refused after every retry. */
  readonly failed: PutResult["failed"];
  readonly placed: PutResult["placed"];
}

export interface PutEventsOptions extends PutOptions {
  /** Skip validation and send every input as it is (testing the pipeline's own defences). */
  readonly raw?: boolean;
  /** Decode limits to validate with; the pipeline's defaults otherwise. */
  readonly limits?: Partial<DecodeLimits>;
  /** Arrival time to judge event-time bounds against. Default: now. */
  readonly now?: () => Date;
}

/** Partition key for raw input that has no readable userId: spread such records over shards. */
function fallbackKey(index: number): string {
  return `raw-${index}`;
}

function userIdOf(bytes: Uint8Array): string | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof value === "object" && value !== null && "userId" in value) {
      const { userId } = value as { userId: unknown };
      if (typeof userId === "string" && userId.length > 0 && userId.length <= 256) return userId;
    }
  } catch {
    // Not JSON: raw mode sends it anyway under a fallback key.
  }
  return undefined;
}

/**
 * The producer library: validates each event with the pipeline's own decoder (so what it
 * rejects is exactly what would be quarantined), then puts the accepted ones with PutRecords
 * (partition key = userId, at most 500 a request, failed entries retried with backoff and jitter).
 * Events are sent as the producer wrote them; the score function cleans them.
 */
export async function putEvents(
  client: KinesisClient,
  streamName: string,
  events: readonly Uint8Array[],
  options: PutEventsOptions = {},
): Promise<PutEventsResult> {
  const now = options.now ?? (() => new Date());
  const rejected: RejectedEvent[] = [];
  const accepted: Array<{ index: number; data: Uint8Array; partitionKey: string }> = [];
  const arrivalTime = now();
  events.forEach((data, index) => {
    if (options.raw) {
      accepted.push({ index, data, partitionKey: userIdOf(data) ?? fallbackKey(index) });
      return;
    }
    const decoded = decodeRecord(data, {
      arrivalTime,
      ...(options.limits ? { limits: options.limits } : {}),
    });
    if (decoded.ok) accepted.push({ index, data, partitionKey: decoded.event.userId });
    else rejected.push({ index, reason: decoded.reason, message: decoded.message });
  });
  const put = await putRecords(client, streamName, accepted, options);
  const original = (i: number) => accepted[i]?.index ?? -1;
  return {
    sent: put.sent,
    rejected,
    failed: put.failed.map((f) => ({ ...f, index: original(f.index) })),
    placed: put.placed.map((p) => ({ ...p, index: original(p.index) })),
  };
}
