import type { CleanChallengeOutcomeEvent } from "#shared/domain/event/index";
import { LABEL_SCHEMA_VERSION, type Label, parseLabel } from "#shared/domain/labels/label-schema";

/** Who a challenge outcome's label is by: the system that reported it. */
export const CHALLENGE_LABEL_AUTHOR = "challenge_outcome";

/**
 * The label a challenge outcome gives the challenged event (source `challenge`, observed when
 * the challenge ended, the outcome event named in the note):
 *
 * - `failed` → **fraud**, category `challenge_failed/<kind>`: a wrong code or no face match is
 *   the evidence the challenge exists to collect;
 * - `passed` → **legit**, category `challenge_passed/<kind>`: the person proved control of the
 *   phone or the face (a SIM swap can beat SMS: a later chargeback or review overrides it, since
 *   labelAsOf takes the latest, and chargeback > manual > review > challenge at equal times);
 * - `abandoned` → **no label**. Customers abandon challenges for their own reasons (no signal,
 *   no time, friction), fraudsters because they cannot pass; calling it fraud teaches a model that
 *   whoever was challenged and gave up is a fraudster, and the next model challenges more of the
 *   same legitimate customers (a feedback loop); calling it legit hides exactly the attacks that
 *   challenges stop. The outcome is still decided and stored, and a feature set can count it
 *   (abandoned challenges per device), so it informs decisions without posing as ground truth.
 */
export function challengeOutcomeLabel(event: CleanChallengeOutcomeEvent): Label | undefined {
  if (event.challengeOutcome === "abandoned") return undefined;
  return parseLabel({
    schemaVersion: LABEL_SCHEMA_VERSION,
    subject: { eventId: event.challengedEventId },
    label: event.challengeOutcome === "failed" ? "fraud" : "legit",
    category: `challenge_${event.challengeOutcome}/${event.challengeKind}`,
    source: "challenge",
    observedAt: event.occurredAt,
    author: CHALLENGE_LABEL_AUTHOR,
    note: `challenge_outcome event ${event.eventId}`,
  });
}
