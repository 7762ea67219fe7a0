import { defaultDocuments } from "#shared/adapters/config-files";
import { MemoryStateTable } from "#shared/adapters/memory-state-table";
import { StateStoreEngine } from "#shared/adapters/state-store-engine";
import {
  type DecisionDocuments,
  DecisionEngineFactory,
  type DecisionKind,
  prepareDocument,
} from "#shared/domain/decision/index";
import type { CleanEvent } from "#shared/domain/event/index";
import type { DecisionRecord } from "#shared/ports/decision-store";

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
  options: { readonly configDir?: string } = {},
): Promise<Map<string, DecisionRecord>> {
  const documents = defaultDocuments(options.configDir);
  const stamp = { author: "vigil replay", now: "2026-03-01T00:00:00.000Z" };
  const versioned = (kind: DecisionKind) => ({
    version: 1,
    document: prepareDocument(kind, undefined, documents[kind], stamp),
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
  const decisions = new Map<string, DecisionRecord>();
  const ordered = events
    .map((event, i) => ({ event, i, t: Date.parse(event.occurredAt) }))
    .sort((a, b) => a.t - b.t || a.i - b.i);
  let sequence = 0;
  for (const { event, t } of ordered) {
    now = t;
    sequence++;
    const pass = await store.prepare(
      [{ event, stream: REPLAY_STREAM, shardId: "shardId-000000000000", sequenceNumber: String(sequence) }],
      new Map(),
    );
    const vector = pass.vectors.get(event.eventId);
    if (!vector) continue; // a re-sent eventId: the first decision stands, as in the pipeline
    // As the score function stores it: the decision with the event's identity and exact features.
    decisions.set(event.eventId, {
      ...engine.decide({ event, features: vector }, t),
      eventId: event.eventId,
      type: event.type,
      occurredAt: event.occurredAt,
      decidedAt: new Date(t).toISOString(),
      features: vector,
      source: { shardId: "shardId-000000000000", sequenceNumber: String(sequence) },
    });
    const committed = await pass.commit();
    if (committed.failed.length > 0) throw new Error(`replay could not commit ${event.eventId}`);
  }
  return decisions;
}
