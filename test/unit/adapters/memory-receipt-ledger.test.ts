import { describe } from "vitest";
import { MemoryReceiptLedger } from "#shared/adapters/memory-receipt-ledger";
import { receiptLedgerContract } from "../../support/receipt-ledger-contract.ts";

describe("MemoryReceiptLedger", () => {
  receiptLedgerContract(async () => {
    const ledger = new MemoryReceiptLedger();
    return [ledger, ledger] as const;
  });
});
