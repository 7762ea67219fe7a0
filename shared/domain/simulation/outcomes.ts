import type { CaseVerdict } from "#shared/domain/cases/cases";
import type { Action } from "#shared/domain/decision/action";
import type { CleanChallengeOutcomeEvent, CleanEvent } from "#shared/domain/event/index";
import {
  challengeOutcomeLabel,
  LABEL_SCHEMA_VERSION,
  type Label,
  parseLabel,
} from "#shared/domain/labels/index";
import type { GroundTruth } from "#shared/domain/simulation/ground-truth";
import { Rng } from "#shared/domain/simulation/random";

/**
 * What comes back after decisions were made (docs/simulator.md, "Outcomes"): challenge results
 * within seconds, review verdicts within hours, chargebacks and ring investigations within days.
 * Pure and seeded: the same decisions and seed give the same outcomes. Ground truth decides what
 * each outcome says, with the errors and gaps real outcomes have: fraudsters abandon challenges,
 * reviewers err, not every fraudulent payment is charged back, and missed attacks that nobody
 * reviews or charges back stay unlabelled.
 */

const SECOND = 1_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Author of the simulated chargeback feed. */
export const SIMULATED_CHARGEBACK_AUTHOR = "simulated-acquirer";
/** Reviewers who resolve simulated cases. */
export const SIMULATED_REVIEWERS = ["ana", "bo", "chen"] as const;

/** A case a simulated reviewer resolves. */
export interface SimulatedReview {
  readonly eventId: string;
  readonly verdict: CaseVerdict;
}

/** Everything that came back about a set of decisions. */
export interface SimulatedOutcomes {
  /** Results of challenges, as the events a challenge service puts on the stream. */
  readonly challengeOutcomes: readonly CleanChallengeOutcomeEvent[];
  /** Review cases resolved (each becomes a review label through the case queue). */
  readonly reviews: readonly SimulatedReview[];
  /** Chargebacks and ring investigations (labels to import). */
  readonly labels: readonly Label[];
}

/** The decision slice the outcomes depend on. */
export interface OutcomeDecision {
  readonly action: Action;
}

/**
 * Simulates what comes back about decided events:
 *
 * - **challenges** (`challenge_sms`, `challenge_face`): an outcome event 10 s to 2 min later.
 *   Attackers fail or abandon (face: 70% fail; SMS: 45% fail, the rest abandon); legitimate
 *   customers pass (SMS 90%, face 85%), abandon (8%, 12%) or fail (2%, 3%);
 * - **reviews** (`review`): resolved 1 to 12 hours later by one of three reviewers, right 95% of
 *   the time, with the attack's name as category;
 * - **chargebacks**: 80% of attack orders and payments that were neither blocked nor challenged,
 *   3 to 25 days later;
 * - **investigations**: when a fraud label (a chargeback, a review, a failed challenge) lands on
 *   an attack event, analysts label the rest of that attack's events (70% of the time, 1 to 3 days
 *   after that label): rings are investigated as a whole.
 */
export function simulateOutcomes(input: {
  readonly seed: number;
  readonly events: readonly CleanEvent[];
  readonly truth: readonly GroundTruth[];
  readonly decisions: ReadonlyMap<string, OutcomeDecision>;
}): SimulatedOutcomes {
  const truthOf = new Map(input.truth.map((t) => [t.eventId, t]));
  const challengeOutcomes: CleanChallengeOutcomeEvent[] = [];
  const reviews: SimulatedReview[] = [];
  const labels: Label[] = [];
  /** Fraud labels on attack events: when they became known, by attack actor. */
  const firstFraudByActor = new Map<string, number>();
  const noteFraud = (actor: string, at: number) => {
    const known = firstFraudByActor.get(actor);
    if (known === undefined || at < known) firstFraudByActor.set(actor, at);
  };
  for (const event of input.events) {
    const decision = input.decisions.get(event.eventId);
    const truth = truthOf.get(event.eventId);
    if (!decision || !truth) continue;
    const rng = Rng.derive(input.seed, `outcome/${event.eventId}`);
    const at = Date.parse(event.occurredAt);
    const attack = truth.label === "attack";
    if (decision.action === "challenge_sms" || decision.action === "challenge_face") {
      const kind = decision.action === "challenge_sms" ? "sms" : "face";
      const outcome = attack
        ? rng.weighted<"failed" | "abandoned">(
            kind === "face"
              ? [
                  ["failed", 0.7],
                  ["abandoned", 0.3],
                ]
              : [
                  ["failed", 0.45],
                  ["abandoned", 0.55],
                ],
          )
        : rng.weighted<"passed" | "failed" | "abandoned">(
            kind === "face"
              ? [
                  ["passed", 0.85],
                  ["abandoned", 0.12],
                  ["failed", 0.03],
                ]
              : [
                  ["passed", 0.9],
                  ["abandoned", 0.08],
                  ["failed", 0.02],
                ],
          );
      const outcomeEvent: CleanChallengeOutcomeEvent = {
        schemaVersion: 1,
        eventId: `${event.eventId}-chl`,
        type: "challenge_outcome",
        occurredAt: new Date(at + Math.round(rng.between(10 * SECOND, 120 * SECOND))).toISOString(),
        userId: event.userId,
        ip: event.ip,
        deviceId: event.deviceId,
        challengedEventId: event.eventId,
        challengeKind: kind,
        challengeOutcome: outcome,
        ...(event.geo ? { geo: event.geo } : {}),
      };
      challengeOutcomes.push(outcomeEvent);
      if (attack && truth.label === "attack" && outcome === "failed")
        noteFraud(truth.actor ?? truth.eventId, Date.parse(outcomeEvent.occurredAt));
      continue;
    }
    if (decision.action === "review") {
      const right = rng.chance(0.95);
      const fraud = attack === right;
      const resolvedAt = at + Math.round(rng.between(1 * HOUR, 12 * HOUR));
      reviews.push({
        eventId: event.eventId,
        verdict: {
          label: fraud ? "fraud" : "legit",
          ...(fraud && truth.label === "attack" ? { category: truth.attack } : {}),
          resolvedBy: rng.pick(SIMULATED_REVIEWERS),
          resolvedAt: new Date(resolvedAt).toISOString(),
        },
      });
      if (fraud && truth.label === "attack") noteFraud(truth.actor ?? truth.eventId, resolvedAt);
      continue;
    }
    if (
      attack &&
      truth.label === "attack" &&
      decision.action !== "block" &&
      (event.type === "order" || event.type === "payment") &&
      rng.chance(0.8)
    ) {
      const observed = at + Math.round(rng.between(3 * DAY, 25 * DAY));
      labels.push(
        parseLabel({
          schemaVersion: LABEL_SCHEMA_VERSION,
          subject: { eventId: event.eventId },
          label: "fraud",
          category: truth.attack,
          source: "chargeback",
          observedAt: new Date(observed).toISOString(),
          author: SIMULATED_CHARGEBACK_AUTHOR,
        }),
      );
      noteFraud(truth.actor ?? truth.eventId, observed);
    }
  }
  // Ring investigations: every event of an attack actor with a fraud label, labelled days later.
  const investigated = new Map<string, number>();
  for (const [actor, first] of firstFraudByActor) {
    const rng = Rng.derive(input.seed, `investigation/${actor}`);
    if (rng.chance(0.7)) investigated.set(actor, first + Math.round(rng.between(1 * DAY, 3 * DAY)));
  }
  for (const truth of input.truth) {
    if (truth.label !== "attack") continue;
    const at = investigated.get(truth.actor ?? truth.eventId);
    if (at === undefined || Date.parse(truth.occurredAt) > at) continue;
    labels.push(
      parseLabel({
        schemaVersion: LABEL_SCHEMA_VERSION,
        subject: { eventId: truth.eventId },
        label: "fraud",
        category: `${truth.attack}/${truth.variant}`,
        source: "manual",
        observedAt: new Date(at).toISOString(),
        author: "ring-investigation",
      }),
    );
  }
  return { challengeOutcomes, reviews, labels };
}

/**
 * Every label the outcomes amount to, as the pipeline would store them: challenge outcomes
 * through `challengeOutcomeLabel`, reviews as review labels, chargebacks and investigations as
 * they are. For offline use (files, replays) where no pipeline turns them into labels.
 */
export function outcomeLabels(outcomes: SimulatedOutcomes): Label[] {
  const out: Label[] = [];
  for (const e of outcomes.challengeOutcomes) {
    const label = challengeOutcomeLabel(e);
    if (label) out.push(label);
  }
  for (const r of outcomes.reviews) {
    out.push(
      parseLabel({
        schemaVersion: LABEL_SCHEMA_VERSION,
        subject: { eventId: r.eventId },
        label: r.verdict.label,
        ...(r.verdict.category ? { category: r.verdict.category } : {}),
        source: "review",
        observedAt: r.verdict.resolvedAt,
        author: r.verdict.resolvedBy,
      }),
    );
  }
  out.push(...outcomes.labels);
  return out;
}

/**
 * Ground truth as labels, all known when the event happened (source `import`, category the
 * attack and variant, or the legitimate kind): complete labels for measuring a model on a
 * holdout, which real outcomes never give.
 */
export function truthLabels(truth: readonly GroundTruth[]): Label[] {
  return truth.map((t) =>
    parseLabel({
      schemaVersion: LABEL_SCHEMA_VERSION,
      subject: { eventId: t.eventId },
      label: t.label === "attack" ? "fraud" : "legit",
      category: t.label === "attack" ? `${t.attack}/${t.variant}` : t.kind,
      source: "import",
      observedAt: t.occurredAt,
      author: "simulator-ground-truth",
    }),
  );
}
