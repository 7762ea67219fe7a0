import { type Label, labelSortKey, subjectKey } from "#shared/domain/labels/index";
import type { LabelPutResult, LabelStore } from "#shared/ports/label-store";

/**
 * Labels in memory, with the key and idempotency of the labels table (subject, then
 * observedAt#labelId): for the simulator, tests and offline tools.
 */
export class MemoryLabelStore implements LabelStore {
  private readonly bySubject = new Map<string, Map<string, Label>>();

  async put(labels: readonly Label[]): Promise<LabelPutResult> {
    let stored = 0;
    let existing = 0;
    for (const label of labels) {
      const key = subjectKey(label.subject);
      let items = this.bySubject.get(key);
      if (items === undefined) {
        items = new Map();
        this.bySubject.set(key, items);
      }
      const sort = labelSortKey(label);
      if (items.has(sort)) existing++;
      else {
        items.set(sort, label);
        stored++;
      }
    }
    return { stored, existing };
  }

  async forSubject(key: string): Promise<Label[]> {
    const items = this.bySubject.get(key);
    if (items === undefined) return [];
    return [...items.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, l]) => l);
  }

  async forSubjects(keys: readonly string[]): Promise<ReadonlyMap<string, readonly Label[]>> {
    const out = new Map<string, readonly Label[]>();
    for (const key of new Set(keys)) {
      const labels = await this.forSubject(key);
      if (labels.length > 0) out.set(key, labels);
    }
    return out;
  }

  async *all(): AsyncIterable<Label> {
    for (const items of this.bySubject.values()) yield* items.values();
  }
}
