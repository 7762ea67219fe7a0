import type { DecisionRecord, DecisionStore, StoreOutcome } from "#shared/ports/decision-store";

/** A duplicate marker as the memory store keeps it. */
export interface MemoryDuplicateMarker {
  readonly duplicateOf: string;
  readonly source: DecisionRecord["source"];
  readonly recordedAt: string;
}

/**
 * Decisions in a Map, with the DynamoDB store's contract: the first decision per eventId stands,
 * one duplicate marker per record. Items are deep copies, so a caller cannot change what is
 * stored. For tests of the score use case without DynamoDB Local.
 */
export class MemoryDecisionStore implements DecisionStore {
  readonly decisions = new Map<string, DecisionRecord>();
  /** Duplicate markers by `<shardId>:<sequenceNumber>` of the re-sending record. */
  readonly duplicates = new Map<string, MemoryDuplicateMarker>();

  async putIfAbsent(decision: DecisionRecord): Promise<StoreOutcome> {
    if (this.decisions.has(decision.eventId)) return "duplicate";
    this.decisions.set(decision.eventId, structuredClone(decision));
    return "stored";
  }

  async get(eventId: string): Promise<DecisionRecord | undefined> {
    const found = this.decisions.get(eventId);
    return found ? structuredClone(found) : undefined;
  }

  async getMany(eventIds: readonly string[]): Promise<ReadonlyMap<string, DecisionRecord>> {
    const found = new Map<string, DecisionRecord>();
    for (const id of eventIds) {
      const decision = this.decisions.get(id);
      if (decision) found.set(id, structuredClone(decision));
    }
    return found;
  }

  async recordDuplicate(
    eventId: string,
    source: DecisionRecord["source"],
    at: string,
  ): Promise<StoreOutcome> {
    const key = `${source.shardId}:${source.sequenceNumber}`;
    if (this.duplicates.has(key)) return "duplicate";
    this.duplicates.set(key, { duplicateOf: eventId, source: { ...source }, recordedAt: at });
    return "stored";
  }
}
