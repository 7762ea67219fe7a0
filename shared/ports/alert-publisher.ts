import type { AlertNotification } from "#shared/domain/alerts/alert-notification";

/** What became of one notification. */
export type PublishOutcome =
  | { readonly ok: true; readonly messageId: string }
  | {
      readonly ok: false;
      /** Worth retrying later (throttling, service fault); false for a request the service refuses. */
      readonly retryable: boolean;
      readonly code: string;
      readonly message: string;
    };

/** Sends alert notifications (SNS on AWS, an outbox directory locally). */
export interface AlertPublisher {
  /**
   * Publishes each notification once, retrying transient failures itself within a bounded budget.
   * Returns one outcome per notification, in order; throws only when no outcome is known.
   */
  publish(notifications: readonly AlertNotification[]): Promise<PublishOutcome[]>;
}
