import type { QuarantineReason } from "#shared/domain/event/index";

/** A record that could not be decided, kept with everything needed to inspect and replay it. */
export interface QuarantineEntry {
  /** `<shardId>:<sequenceNumber>`, the Kinesis eventID: one entry per stream record. */
  readonly id: string;
  readonly reason: QuarantineReason;
  /** Names the field and the rule, never the value (no PII). */
  readonly message: string;
  /** The record's eventId when it could be read. */
  readonly eventId?: string;
  /** The record's bytes, base64, exactly as they arrived. */
  readonly data: string;
  readonly partitionKey: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly streamArn: string;
  /** Kinesis arrival time of the record (ISO-8601). */
  readonly arrivalTime: string;
  /** When the score function quarantined it (ISO-8601). */
  readonly receivedAt: string;
  /** Set when an operator re-put the record with `vigil quarantine replay`. */
  readonly replayedAt?: string;
  /** Where the replayed copy landed (`<shardId>:<sequenceNumber>`). */
  readonly replayedAs?: string;
}

/** Quarantine storage: one entry per stream record, written once (redelivery is a no-op). */
export interface QuarantineStore {
  putIfAbsent(entry: QuarantineEntry): Promise<"stored" | "exists">;
  get(id: string): Promise<QuarantineEntry | undefined>;
  /** Entries, newest first, optionally of one reason. */
  list(filter?: { readonly reason?: QuarantineReason; readonly limit?: number }): Promise<QuarantineEntry[]>;
  markReplayed(id: string, at: string, replayedAs: string): Promise<void>;
}
