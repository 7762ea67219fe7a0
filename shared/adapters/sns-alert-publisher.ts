import {
  type BatchResultErrorEntry,
  PublishBatchCommand,
  PublishCommand,
  SNSClient,
} from "@aws-sdk/client-sns";
import { type AwsEnv, clientConfig } from "#shared/adapters/aws-clients";
import { type SnsPublishInput, snsPublishInput } from "#shared/adapters/sns-publish-input";
import type { AlertNotification } from "#shared/domain/alerts/alert-notification";
import type { AlertPublisher, PublishOutcome } from "#shared/ports/alert-publisher";

/**
 * Message attribute that sets the SMS type of one message. SNS sends SMS as the account's default
 * type (Promotional unless set) otherwise: cheaper in some countries, but delivered with lower
 * priority and dropped by some carriers, which does not suit fraud alerts.
 */
export const SMS_TYPE_ATTRIBUTE = "AWS.SNS.SMS.SMSType";

/** PublishBatch takes at most ten entries. */
export const SNS_BATCH_LIMIT = 10;

/** Error codes SNS may return for a request or a batch entry that a later attempt can get through. */
const RETRYABLE_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "InternalError",
  "InternalFailure",
  "ServiceUnavailable",
  "KMSThrottling",
  "RequestTimeout",
]);

/** Options of {@link SnsAlertPublisher}. */
export interface SnsAlertPublisherOptions {
  /** Rounds of publishing the notifications that are still pending. Default 4. */
  readonly attempts?: number;
  /** Base of the exponential back-off (full jitter) between rounds. Default 200 ms. */
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Publishes alert notifications to one SNS topic: `Publish` for one, `PublishBatch` (up to ten
 * per call) for more. Transient failures (throttling, service faults; per entry: `SenderFault`
 * false) are retried in rounds with exponential back-off on top of the SDK's own retries; refusals
 * (`SenderFault` true, 4xx) are final. Every notification ends with one outcome.
 */
export class SnsAlertPublisher implements AlertPublisher {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: Pick<SNSClient, "send">,
    private readonly topicArn: string,
    options: SnsAlertPublisherOptions = {},
  ) {
    this.attempts = options.attempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async publish(notifications: readonly AlertNotification[]): Promise<PublishOutcome[]> {
    const outcomes: Array<PublishOutcome | undefined> = notifications.map(() => undefined);
    let pending = notifications.map((_, i) => i);
    for (let round = 1; pending.length > 0; round++) {
      if (round > 1) await this.sleep(Math.random() * this.baseDelayMs * 2 ** (round - 2));
      const last = round >= this.attempts;
      const results = await this.round(pending.map((i) => notifications[i] as AlertNotification));
      const next: number[] = [];
      results.forEach((outcome, j) => {
        const i = pending[j] as number;
        if (!outcome.ok && outcome.retryable && !last) next.push(i);
        else outcomes[i] = outcome;
      });
      pending = next;
    }
    return outcomes as PublishOutcome[];
  }

  private async round(batch: readonly AlertNotification[]): Promise<PublishOutcome[]> {
    if (batch.length === 1) return [await this.publishOne(batch[0] as AlertNotification)];
    const chunks: AlertNotification[][] = [];
    for (let at = 0; at < batch.length; at += SNS_BATCH_LIMIT)
      chunks.push(batch.slice(at, at + SNS_BATCH_LIMIT));
    return (await Promise.all(chunks.map((chunk) => this.publishBatch(chunk)))).flat();
  }

  private async publishOne(n: AlertNotification): Promise<PublishOutcome> {
    try {
      const out = await this.client.send(new PublishCommand(publishInput(this.topicArn, n)));
      return { ok: true, messageId: out.MessageId ?? "" };
    } catch (error) {
      return failure(error);
    }
  }

  private async publishBatch(chunk: readonly AlertNotification[]): Promise<PublishOutcome[]> {
    try {
      const out = await this.client.send(
        new PublishBatchCommand({
          TopicArn: this.topicArn,
          PublishBatchRequestEntries: chunk.map((n, i) => {
            const { TopicArn: _topic, ...input } = publishInput(this.topicArn, n);
            return { Id: `n${i}`, ...input };
          }),
        }),
      );
      const ok = new Map((out.Successful ?? []).map((s) => [s.Id, s.MessageId ?? ""]));
      const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
      return chunk.map((_, i): PublishOutcome => {
        const id = `n${i}`;
        const messageId = ok.get(id);
        if (messageId !== undefined) return { ok: true, messageId };
        const f = failed.get(id);
        if (f) return entryFailure(f);
        return { ok: false, retryable: true, code: "Missing", message: "entry absent from the response" };
      });
    } catch (error) {
      const outcome = failure(error);
      return chunk.map(() => outcome);
    }
  }
}

/** The Publish input of a notification; SMS notifications are sent as Transactional. */
function publishInput(topicArn: string, n: AlertNotification): SnsPublishInput {
  const input = snsPublishInput(topicArn, n);
  if (n.channel !== "sms") return input;
  return {
    ...input,
    MessageAttributes: {
      ...input.MessageAttributes,
      [SMS_TYPE_ATTRIBUTE]: { DataType: "String", StringValue: "Transactional" },
    },
  };
}

function entryFailure(f: BatchResultErrorEntry): PublishOutcome {
  const code = f.Code ?? "Unknown";
  return {
    ok: false,
    retryable: RETRYABLE_CODES.has(code) || f.SenderFault === false,
    code,
    message: f.Message ?? "",
  };
}

function failure(error: unknown): PublishOutcome {
  const e = error as { name?: string; message?: string; $fault?: string; $retryable?: unknown };
  const code = e.name ?? "Error";
  return {
    ok: false,
    retryable: RETRYABLE_CODES.has(code) || e.$fault === "server" || e.$retryable !== undefined,
    code,
    message: e.message ?? String(error),
  };
}

/** The SNS client; endpoint, region and credentials from the SDK's standard configuration. */
export function createSnsClient(env: AwsEnv = process.env, maxAttempts = 3): SNSClient {
  return new SNSClient({ ...clientConfig("SNS", env), maxAttempts });
}
