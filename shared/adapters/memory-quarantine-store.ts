import type { QuarantineReason } from "#shared/domain/event/index";
import type { QuarantineEntry, QuarantineStore } from "#shared/ports/quarantine-store";

/**
 * Quarantine entries in a Map, with the DynamoDB store's contract (one entry per record, written
 * once; newest first when listed). For tests of the score use case without DynamoDB Local.
 */
export class MemoryQuarantineStore implements QuarantineStore {
  readonly entries = new Map<string, QuarantineEntry>();

  async putIfAbsent(entry: QuarantineEntry): Promise<"stored" | "exists"> {
    if (this.entries.has(entry.id)) return "exists";
    this.entries.set(entry.id, { ...entry });
    return "stored";
  }

  async get(id: string): Promise<QuarantineEntry | undefined> {
    const entry = this.entries.get(id);
    return entry ? { ...entry } : undefined;
  }

  async list(
    filter: { readonly reason?: QuarantineReason; readonly limit?: number } = {},
  ): Promise<QuarantineEntry[]> {
    const entries = [...this.entries.values()]
      .filter((e) => filter.reason === undefined || e.reason === filter.reason)
      .sort((a, b) => b.receivedAt.localeCompare(a.receivedAt) || a.id.localeCompare(b.id))
      .map((e) => ({ ...e }));
    return filter.limit === undefined ? entries : entries.slice(0, filter.limit);
  }

  async markReplayed(id: string, at: string, replayedAs: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) throw new Error(`no quarantine entry ${id}`);
    this.entries.set(id, { ...entry, replayedAt: at, replayedAs });
  }
}
