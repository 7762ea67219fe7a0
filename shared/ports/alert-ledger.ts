import type { AlertChannel } from "#shared/domain/alerts/alert-policy";

/**
 * Where an alert delivery stands:
 * - `claimed`: a delivery started (the verdict may not be known yet);
 * - `allowed`: the throttle let it through; it is being published (or was, just before a crash);
 * - `suppressed`: the throttle held it back (final);
 * - `sent`: published (final).
 */
export type DeliveryState = "claimed" | "allowed" | "suppressed" | "sent";

/** The record of one decision's alert on one channel. */
export interface Delivery {
  readonly eventId: string;
  readonly channel: AlertChannel;
  readonly state: DeliveryState;
  /** For `allowed` and `sent`: the suppressed count the alert reports. */
  readonly suppressedBefore?: number;
  /** For `sent`: the publisher's message id. */
  readonly messageId?: string;
}

/** A throttle request: one window per entity for this channel and finding. */
export interface ThrottleRequest {
  readonly eventId: string;
  readonly channel: AlertChannel;
  readonly finding: string;
  /** Pseudonyms; the alert is suppressed if any of them holds an open window. */
  readonly entities: readonly string[];
  readonly windowSeconds: number;
  readonly now: Date;
}

/** The throttle's verdict. */
export type ThrottleVerdict =
  | { readonly allowed: true; readonly suppressedBefore: number }
  | { readonly allowed: false };

/**
 * De-duplication and throttling state of alerts. Deliveries are keyed by eventId and channel, so a
 * redelivered decision finds its earlier delivery; throttle windows are keyed by channel, finding
 * and entity.
 */
export interface AlertLedger {
  /**
   * Starts the delivery of (eventId, channel) if none exists: `{ fresh: true }`; otherwise returns
   * the existing record (the decision was seen before: a redelivery or a re-published decision).
   */
  claim(
    eventId: string,
    channel: AlertChannel,
    now: Date,
  ): Promise<{ fresh: true } | { fresh: false; delivery: Delivery }>;
  /**
   * Opens a window for every entity at once if none of them holds an open window of another event
   * (a window this event opened counts as free, so a retry gets the same answer); otherwise counts
   * one more suppressed alert on the held windows.
   */
  throttle(request: ThrottleRequest): Promise<ThrottleVerdict>;
  /** Moves a delivery forward. */
  update(
    eventId: string,
    channel: AlertChannel,
    change:
      | { readonly state: "allowed"; readonly suppressedBefore: number }
      | { readonly state: "suppressed" }
      | { readonly state: "sent"; readonly messageId: string },
  ): Promise<void>;
}
