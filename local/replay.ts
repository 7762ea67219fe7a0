import { randomBytes } from "node:crypto";
import { defaultDocuments } from "#shared/adapters/config-files";
import { MemoryStateTable } from "#shared/adapters/memory-state-table";
import { StateStoreEngine } from "#shared/adapters/state-store-engine";
import {
  type DecisionDocuments,
  DecisionEngineFactory,
  prepareDocument,
  type SeededKind,
} from "#shared/domain/decision/index";
import { storedEventFields } from "#shared/domain/decision/model/model-event-fields";
import { createPseudonymizer, toStoredDecisionContent } from "#shared/domain/decision-message/index";
import type { CleanEvent } from "#shared/domain/event/index";
import type { DecisionRecord } from "#shared/ports/decision-store";

/** What a replay decides with: the shipped defaults, with any kind replaced. */
export interface ReplayOptions {
  readonly configDir?: string;
  /** Documents that replace the shipped ones (a model document with a challenger, say). */
  readonly documents?: Partial<Record<SeededKind, unknown>>;
}

/**
 * List entries in replayed decisions are pseudonymized as the score function stores them, under a
 * key drawn for this process: a replay's pseudonyms are never compared with a deployment's.
 */
const replayPseudonymizer = createPseudonymizer({ id: "replay", secret: randomBytes(32) });

/** The stream the replay's records are said to come from (its high-water marks' key). */
const REPLAY_STREAM = "arn:aws:kinesis:local:000000000000:stream/vigil-replay";

/**
 * The reference the live pipeline is compared with: every event decided in process, one at a
 * time in event-time order, so each sees every earlier event in its features. Same code as the
 * score function (feature store engine and decision engine with the shipped feature set, rules,
 * lists and model), over an in-memory state table instead of DynamoDB.
 *
 * The pipeline differs from it in one way only, and on purpose: Kinesis shards are consumed in
 * parallel, so events of one device or IP that arrive on two shards within the same second are
 * each decided before the other is counted. In real time that is rare; when a simulated day is
 * sent in a minute, a burst's events are seconds apart and it is common. Comparing the two
 * measures that effect instead of hiding it.
 */
export async function replaySequentially(
  events: readonly CleanEvent[],
  options: ReplayOptions = {},
): Promise<Map<string, DecisionRecord>> {
  const decisions = new Map<string, DecisionRecord>();
  for (const d of await replayDecisionRecords(events, options)) decisions.set(d.eventId, d);
  return decisions;
}

/**
 * The replay's decisions as the decisions table would hold them (feature vector, stored event
 * fields, versions; decidedAt is the event time and the source a replay sequence number), in
 * event-time order: what a training set or a backtest is built from when there is no stack.
 */
export async function replayDecisionRecords(
  events: readonly CleanEvent[],
  options: ReplayOptions = {},
): Promise<DecisionRecord[]> {
  const shipped = defaultDocuments(options.configDir);
  const stamp = { author: "vigil replay", now: "2026-03-01T00:00:00.000Z" };
  const versioned = (kind: SeededKind) => ({
    version: 1,
    document: prepareDocument(kind, undefined, options.documents?.[kind] ?? shipped[kind], stamp),
  });
  const parts: DecisionDocuments = {
    rules: versioned("rules"),
    lists: versioned("lists"),
    model: versioned("model"),
  };
  const factory = new DecisionEngineFactory();
  const engine = factory.build(parts);
  let now = 0;
  // The store's clock only stamps TTL and high-water bookkeeping: event time keeps the replay deterministic.
  const store = new StateStoreEngine(new MemoryStateTable(), factory.features(versioned("features")), {
    clock: () => now,
  });
  const decisions: DecisionRecord[] = [];
  const ordered = events
    .map((event, i) => ({ event, i, t: Date.parse(event.occurredAt) }))
    .sort((a, b) => a.t - b.t || a.i - b.i);
  let sequence = 0;
  for (const { event, t } of ordered) {
    now = t;
    sequence++;
    const source = { shardId: "shardId-000000000000", sequenceNumber: String(sequence) };
    const pass = await store.prepare([{ event, stream: REPLAY_STREAM, ...source }], new Map());
    const vector = pass.vectors.get(event.eventId);
    if (!vector) continue; // a re-sent eventId: the first decision stands, as in the pipeline
    decisions.push({
      ...toStoredDecisionContent(engine.decide({ event, features: vector }, t), replayPseudonymizer),
      eventId: event.eventId,
      type: event.type,
      occurredAt: event.occurredAt,
      decidedAt: event.occurredAt,
      features: vector,
      eventFields: storedEventFields(event),
      source,
    });
    const committed = await pass.commit();
    if (committed.failed.length > 0) throw new Error(`replay could not commit ${event.eventId}`);
  }
  return decisions;
}
