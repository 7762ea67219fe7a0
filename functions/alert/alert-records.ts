import type { KinesisStreamBatchResponse, KinesisStreamRecord } from "aws-lambda";
import { type AlertNotification, buildNotification } from "#shared/domain/alerts/alert-notification";
import { type AlertChannel, type AlertPolicy, planAlert } from "#shared/domain/alerts/alert-policy";
import { type DecisionMessage, decodeDecisionMessage } from "#shared/domain/decision-message/index";
import { errorFields } from "#shared/error-fields";
import type { AlertLedger } from "#shared/ports/alert-ledger";
import type { AlertPublisher, PublishOutcome } from "#shared/ports/alert-publisher";

/** The slice of a logger the use case needs (Powertools' Logger fits). */
export interface AlertLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

/** What the alert use case needs: the policy, the ledger, a publisher, a clock and a logger. */
export interface AlertDependencies {
  readonly policy: AlertPolicy;
  readonly ledger: AlertLedger;
  readonly publisher: AlertPublisher;
  readonly now: () => Date;
  readonly logger: AlertLogger;
}

/** What became of one batch, per channel where it applies. */
export interface AlertBatchCounts {
  /** Records read. */
  readonly records: number;
  /** Records that are not decision messages (logged; audit quarantines them). */
  readonly unreadable: number;
  /** Decisions no alert rule selected. */
  readonly notSelected: number;
  /** Decisions older than the policy's maxAgeSeconds. */
  readonly stale: number;
  /** Notifications published, by channel and severity (`sms:critical`). */
  readonly sent: Readonly<Record<string, number>>;
  /** Notifications held back by the throttle, by channel. */
  readonly suppressed: Readonly<Record<string, number>>;
  /** Deliveries already settled by an earlier delivery of the decision (redelivery, re-publish). */
  readonly duplicates: number;
  /** Records reported back for retry. */
  readonly failed: number;
}

/** The partial batch response for Lambda, and the counts for metrics. */
export interface AlertBatchResult {
  readonly response: KinesisStreamBatchResponse;
  readonly counts: AlertBatchCounts;
}

interface Pending {
  readonly record: KinesisStreamRecord;
  readonly notification: AlertNotification;
}

const bump = (map: Record<string, number>, key: string) => {
  map[key] = (map[key] ?? 0) + 1;
};

/**
 * Raises the alerts a batch of decisions calls for, at most once per decision and channel:
 *
 * 1. the policy selects the decision and gives the severity and channels;
 * 2. per channel, the delivery of (eventId, channel) is claimed in the ledger with a conditional
 *    put: a delivery that an earlier attempt settled (`sent`, `suppressed`) is a duplicate and
 *    skipped; one it left `allowed` is published again (see below);
 * 3. the throttle opens the alert's windows (channel × finding × entity) or suppresses it;
 * 4. the verdict is recorded (`allowed` with the suppressed count, or `suppressed`) before
 *    anything is published, then the batch's allowed notifications are published, and each one
 *    that went out is marked `sent`.
 *
 * At-least-once edge: a crash after SNS accepted a notification and before it was marked `sent`
 * leaves it `allowed`, and the redelivered decision publishes it again. SNS standard topics (the
 * only kind with SMS and email) have no publish de-duplication, so this window, one DynamoDB write
 * wide, is the one place a duplicate alert can come from. Marking before publishing would close it
 * by losing the alert instead; for fraud alerts a rare duplicate is the better failure.
 *
 * Decisions are handled in stream order, one at a time (channels in parallel), so the throttle
 * sees an attack's decisions in order. A decision that comes again later in the same batch (score
 * publishes a decision again when its record is redelivered, so both copies can meet in one
 * batch) is a duplicate of the first: its `allowed` delivery is this batch's own, not a crash's.
 * A record whose ledger or publish step fails is reported as a batch item failure; everything
 * before it is settled and skipped on the retry.
 */
export async function alertRecords(
  records: readonly KinesisStreamRecord[],
  deps: AlertDependencies,
): Promise<AlertBatchResult> {
  const now = deps.now();
  const counts = {
    records: records.length,
    unreadable: 0,
    notSelected: 0,
    stale: 0,
    duplicates: 0,
    failed: 0,
    sent: {} as Record<string, number>,
    suppressed: {} as Record<string, number>,
  };
  const failed = new Set<KinesisStreamRecord>();
  const pending: Pending[] = [];
  const seen = new Set<string>();

  for (const record of records) {
    const decoded = decodeDecisionMessage(Buffer.from(record.kinesis.data, "base64"));
    if (!decoded.ok) {
      counts.unreadable++;
      deps.logger.error("record is not a decision message; no alert (audit quarantines it)", {
        id: record.eventID,
        error: decoded.error,
      });
      continue;
    }
    const message = decoded.message;
    const plan = planAlert(message, deps.policy, now);
    if (!plan.alert) {
      if (plan.why === "stale") {
        counts.stale++;
        deps.logger.warn("decision too old to alert on", {
          eventId: message.eventId,
          decidedAt: message.decidedAt,
        });
      } else counts.notSelected++;
      continue;
    }
    if (seen.has(message.eventId)) {
      // Settled with the first copy in this batch (or failed with it, and retried with it).
      counts.duplicates += plan.channels.length;
      continue;
    }
    seen.add(message.eventId);
    try {
      const notifications = await Promise.all(
        plan.channels.map(async (channel): Promise<AlertNotification | undefined> => {
          const suppressedBefore = await decideDelivery(message, channel, plan, deps, now);
          if (suppressedBefore === "duplicate") {
            counts.duplicates++;
            return undefined;
          }
          if (suppressedBefore === "suppressed") {
            bump(counts.suppressed, channel);
            return undefined;
          }
          return buildNotification(message, channel, plan.severity, suppressedBefore);
        }),
      );
      for (const notification of notifications) if (notification) pending.push({ record, notification });
    } catch (error) {
      failed.add(record);
      deps.logger.error("alert delivery failed, will be retried", {
        eventId: message.eventId,
        id: record.eventID,
        ...errorFields(error),
      });
    }
  }

  if (pending.length > 0) await publishPending(pending, deps, counts, failed);

  counts.failed = failed.size;
  deps.logger.info("batch alerted", { ...counts });
  return {
    response: {
      batchItemFailures: records
        .filter((r) => failed.has(r))
        .map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber })),
    },
    counts,
  };
}

/**
 * Publishes the batch's allowed notifications and marks each one that went out `sent`. Failures
 * are per record: a notification that was not published (or whose mark failed) fails its record,
 * and a publish call that throws (no outcome known) fails every record it carried; the rest stand.
 */
async function publishPending(
  pending: readonly Pending[],
  deps: AlertDependencies,
  counts: { sent: Record<string, number> },
  failed: Set<KinesisStreamRecord>,
): Promise<void> {
  let outcomes: readonly PublishOutcome[];
  try {
    outcomes = await deps.publisher.publish(pending.map((p) => p.notification));
  } catch (error) {
    for (const { record, notification: n } of pending) {
      failed.add(record);
      deps.logger.error("alert not published, will be retried", {
        eventId: n.eventId,
        channel: n.channel,
        ...errorFields(error),
      });
    }
    return;
  }
  await Promise.all(
    pending.map(async ({ record, notification: n }, i) => {
      const outcome = outcomes[i];
      try {
        // The service's message text can quote the request: its code names the failure.
        if (!outcome?.ok) throw new PublishError(outcome ? outcome.code : "no outcome");
        await deps.ledger.update(n.eventId, n.channel, { state: "sent", messageId: outcome.messageId });
        bump(counts.sent, `${n.channel}:${n.severity}`);
        deps.logger.info("alert sent", {
          eventId: n.eventId,
          channel: n.channel,
          severity: n.severity,
          action: n.action,
          scenario: n.scenario,
          messageId: outcome.messageId,
        });
      } catch (error) {
        failed.add(record);
        deps.logger.error("alert not published, will be retried", {
          eventId: n.eventId,
          channel: n.channel,
          ...(error instanceof PublishError
            ? { error: "PublishError", code: error.message }
            : errorFields(error)),
        });
      }
    }),
  );
}

/**
 * Claims and throttles one delivery: the suppressed count to report when it is to be published,
 * `suppressed` when the throttle held it back, `duplicate` when an earlier delivery settled it.
 */
async function decideDelivery(
  message: DecisionMessage,
  channel: AlertChannel,
  plan: { readonly finding: string; readonly throttleEntities: readonly string[] },
  deps: AlertDependencies,
  now: Date,
): Promise<number | "suppressed" | "duplicate"> {
  const claim = await deps.ledger.claim(message.eventId, channel, now);
  if (!claim.fresh) {
    const { delivery } = claim;
    if (delivery.state === "sent" || delivery.state === "suppressed") return "duplicate";
    // Allowed before a crash: publish again (the at-least-once edge above).
    if (delivery.state === "allowed") return delivery.suppressedBefore ?? 0;
    // Claimed, verdict unknown: ask the throttle again; it answers a retry of the same event alike.
  }
  const verdict = await deps.ledger.throttle({
    eventId: message.eventId,
    channel,
    finding: plan.finding,
    entities: plan.throttleEntities,
    windowSeconds: deps.policy.throttle.windowSeconds,
    now,
  });
  if (!verdict.allowed) {
    await deps.ledger.update(message.eventId, channel, { state: "suppressed" });
    return "suppressed";
  }
  await deps.ledger.update(message.eventId, channel, {
    state: "allowed",
    suppressedBefore: verdict.suppressedBefore,
  });
  return verdict.suppressedBefore;
}

class PublishError extends Error {
  override readonly name = "PublishError";
}
