import { compareSequenceNumbers } from "#shared/domain/features/index";
import type { ReceiptLedger, SettledRecord, ShardLedger, ShardRef } from "#shared/ports/receipt-ledger";

type MutableLedger = {
  receivedUpTo?: string;
  settledUpTo?: string;
  received: number;
  decided: number;
  quarantined: number;
  duplicates: number;
};

/**
 * The receipt ledger in a Map, with the DynamoDB ledger's semantics (each mark moves atomically:
 * JavaScript runs one call's read and write without interleaving). For tests of the score use
 * case without DynamoDB Local.
 */
export class MemoryReceiptLedger implements ReceiptLedger {
  readonly shards = new Map<string, MutableLedger>();

  async receive(shard: ShardRef, sequenceNumbers: readonly string[]): Promise<ReadonlySet<string>> {
    const ledger = this.ledger(shard);
    const counted = above(sequenceNumbers, ledger.receivedUpTo);
    if (counted.length === 0) return new Set();
    ledger.receivedUpTo = counted.at(-1);
    ledger.received += counted.length;
    return new Set(counted);
  }

  async settle(shard: ShardRef, records: readonly SettledRecord[]): Promise<ReadonlySet<string>> {
    const ledger = this.ledger(shard);
    const mark = ledger.settledUpTo;
    const counted = records.filter(
      (r) => mark === undefined || compareSequenceNumbers(r.sequenceNumber, mark) > 0,
    );
    if (counted.length === 0) return new Set();
    ledger.settledUpTo = counted.at(-1)?.sequenceNumber;
    for (const r of counted) {
      if (r.outcome === "decided") ledger.decided++;
      else if (r.outcome === "quarantined") ledger.quarantined++;
      else ledger.duplicates++;
    }
    return new Set(counted.map((r) => r.sequenceNumber));
  }

  async read(shard: ShardRef): Promise<ShardLedger | undefined> {
    const ledger = this.shards.get(`${shard.stream}#${shard.shardId}`);
    return ledger ? { ...ledger } : undefined;
  }

  private ledger(shard: ShardRef): MutableLedger {
    const key = `${shard.stream}#${shard.shardId}`;
    let ledger = this.shards.get(key);
    if (!ledger) {
      ledger = { received: 0, decided: 0, quarantined: 0, duplicates: 0 };
      this.shards.set(key, ledger);
    }
    return ledger;
  }
}

function above(sequenceNumbers: readonly string[], mark: string | undefined): string[] {
  return sequenceNumbers.filter((s) => mark === undefined || compareSequenceNumbers(s, mark) > 0);
}
