import type { ArchivedRecord } from "#shared/domain/archive/archived-record";
import { type CleanEvent, type DecodeLimits, decodeRecord } from "#shared/domain/event/index";

/**
 * Archived records decoded as the score function decodes them: the record's bytes with its own
 * arrival time, so a record quarantined live is refused here for the same reason. Pure.
 */

/** A decodable archived record. */
export interface ArchivedEvent {
  readonly event: CleanEvent;
  readonly record: ArchivedRecord;
  /** Epoch ms of the event's occurredAt. */
  readonly eventMs: number;
  /** Epoch ms of the record's arrival. */
  readonly arrivalMs: number;
}

/** Records split into events and the quarantine reasons of the others. */
export interface DecodedRecords {
  readonly events: ArchivedEvent[];
  /** One reason per refused record. */
  readonly quarantined: string[];
}

/** Decodes archived records with the pipeline's decoder and limits, in the order given. */
export function decodeArchivedRecords(
  records: Iterable<ArchivedRecord>,
  limits?: Partial<DecodeLimits>,
): DecodedRecords {
  const events: ArchivedEvent[] = [];
  const quarantined: string[] = [];
  for (const record of records) {
    const arrivalMs = Date.parse(record.arrivalTime);
    const decoded = decodeRecord(base64Bytes(record.data), {
      arrivalTime: new Date(arrivalMs),
      ...(limits ? { limits } : {}),
    });
    if (!decoded.ok) {
      quarantined.push(decoded.reason);
      continue;
    }
    events.push({ event: decoded.event, record, eventMs: Date.parse(decoded.event.occurredAt), arrivalMs });
  }
  return { events, quarantined };
}

/**
 * Event-time order, as a backtest replays: by occurredAt, then arrival, then shard and sequence
 * number (so a re-sent event comes after its first arrival and every run orders alike).
 */
export function compareEventTime(a: ArchivedEvent, b: ArchivedEvent): number {
  return (
    a.eventMs - b.eventMs ||
    a.arrivalMs - b.arrivalMs ||
    (a.record.shardId < b.record.shardId ? -1 : a.record.shardId > b.record.shardId ? 1 : 0) ||
    compareDecimal(a.record.sequenceNumber, b.record.sequenceNumber)
  );
}

/** Compares two non-negative decimal strings as numbers. */
function compareDecimal(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** The bytes of a base64 string (the archive's `data`). */
export function base64Bytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
