import { expect, it } from "vitest";
import type { ReceiptLedger, ShardRef } from "#shared/ports/receipt-ledger";
import { sequenceNumber } from "./score-path.ts";

const at = () => new Date();
const seqs = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => sequenceNumber(from + i));

/**
 * What every ReceiptLedger promises (shared/ports/receipt-ledger.ts), for any implementation:
 * `ledgers()` gives two handles on the same fresh ledger (two containers of one function).
 */
export function receiptLedgerContract(ledgers: () => Promise<readonly [ReceiptLedger, ReceiptLedger]>): void {
  let shards = 0;
  const shard = (): ShardRef => ({
    stream: "contract-events",
    shardId: `shardId-${String(++shards).padStart(12, "0")}`,
  });

  it("counts each record once as received, however often and in whatever overlap it is delivered", async () => {
    const [one, two] = await ledgers();
    const s = shard();
    expect([...(await one.receive(s, seqs(1, 5), at()))]).toEqual(seqs(1, 5));
    expect([...(await one.receive(s, seqs(1, 5), at()))]).toEqual([]);
    // The other container has a stale (empty) view: it learns the mark and counts only what is new.
    expect([...(await two.receive(s, seqs(3, 8), at()))]).toEqual(seqs(6, 8));
    expect([...(await one.receive(s, seqs(6, 10), at()))]).toEqual(seqs(9, 10));
    expect(await two.read(s)).toMatchObject({ receivedUpTo: sequenceNumber(10), received: 10 });
  });

  it("two deliveries racing over the same records count each record once between them", async () => {
    const [one, two] = await ledgers();
    const s = shard();
    for (let round = 0; round < 5; round++) {
      const batch = seqs(round * 10 + 1, round * 10 + 10);
      const [a, b] = await Promise.all([one.receive(s, batch, at()), two.receive(s, batch, at())]);
      expect(a.size + b.size).toBe(10);
      expect([...a].filter((x) => b.has(x))).toEqual([]);
    }
    expect((await one.read(s))?.received).toBe(50);
  });

  it("settles runs of outcomes once each and keeps totals per outcome", async () => {
    const [one, two] = await ledgers();
    const s = shard();
    const run = [
      { sequenceNumber: sequenceNumber(1), outcome: "decided" as const },
      { sequenceNumber: sequenceNumber(2), outcome: "quarantined" as const },
      { sequenceNumber: sequenceNumber(3), outcome: "duplicate" as const },
      { sequenceNumber: sequenceNumber(4), outcome: "decided" as const },
    ];
    expect((await one.settle(s, run.slice(0, 2), at())).size).toBe(2);
    const [a, b] = await Promise.all([one.settle(s, run, at()), two.settle(s, run, at())]);
    expect(a.size + b.size).toBe(2);
    expect(await one.read(s)).toMatchObject({
      settledUpTo: sequenceNumber(4),
      decided: 2,
      quarantined: 1,
      duplicates: 1,
      received: 0,
    });
    expect(await one.read(shard())).toBeUndefined();
  });

  it("compares sequence numbers as numbers, not text", async () => {
    const [one] = await ledgers();
    const s = shard();
    await one.receive(s, ["9"], at());
    expect([...(await one.receive(s, ["10", "11"], at()))]).toEqual(["10", "11"]);
    expect([...(await one.receive(s, ["9", "10"], at()))]).toEqual([]);
  });
}
