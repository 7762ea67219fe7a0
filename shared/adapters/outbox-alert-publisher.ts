import { randomUUID } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { snsPublishInput } from "#shared/adapters/sns-publish-input";
import type { AlertNotification } from "#shared/domain/alerts/alert-notification";
import type { AlertPublisher, PublishOutcome } from "#shared/ports/alert-publisher";

/** The topic ARN outbox files name (the local stack has no SNS topic). */
export const LOCAL_ALERT_TOPIC_ARN = "arn:aws:sns:us-east-1:000000000000:vigil-local-alerts";

/**
 * Outbox file names: `<UTC time>-<sequence>-<message id>.json`, so sorting by name gives publish
 * order (the sequence orders one process's files within a millisecond).
 */
export const OUTBOX_FILE_PATTERN = /^\d{8}T\d{9}Z-\d{6}-[0-9a-f-]{36}\.json$/;

let sequence = 0;

/**
 * The local stand-in for SNS: one JSON file per notification, exactly the SNS `Publish` input
 * (TopicArn, Message, Subject, MessageAttributes), in a directory `vigil alerts tail` follows.
 * Each publish writes a new file with a new message id, as SNS delivers each publish: so a
 * duplicate publish shows up as a duplicate file. Files are written whole (temp file and rename),
 * so a reader never sees half a message.
 */
export class OutboxAlertPublisher implements AlertPublisher {
  constructor(
    private readonly dir: string,
    private readonly topicArn: string = LOCAL_ALERT_TOPIC_ARN,
    private readonly now: () => Date = () => new Date(),
  ) {
    mkdirSync(dir, { recursive: true });
  }

  async publish(notifications: readonly AlertNotification[]): Promise<PublishOutcome[]> {
    return notifications.map((n) => {
      const messageId = randomUUID();
      const stamp = this.now().toISOString().replace(/[-:]/g, "").replace(".", "");
      sequence = (sequence + 1) % 1_000_000;
      const file = join(this.dir, `${stamp}-${String(sequence).padStart(6, "0")}-${messageId}.json`);
      const temp = join(this.dir, `.${messageId}.tmp`);
      writeFileSync(temp, `${JSON.stringify(snsPublishInput(this.topicArn, n), null, 2)}\n`);
      renameSync(temp, file);
      return { ok: true, messageId };
    });
  }
}
