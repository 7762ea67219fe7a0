import type { Label } from "#shared/domain/labels/index";

/** What storing a batch of labels did: new labels, and labels that were stored before (same key). */
export interface LabelPutResult {
  readonly stored: number;
  readonly existing: number;
}

/**
 * Where labels live (docs/labels.md). Labels are facts: storing one is idempotent (the same
 * subject, time and labelId is one label), and nothing is ever overwritten or deleted, so a
 * training set or backtest rebuilt later with the same cutoff sees the same labels.
 */
export interface LabelStore {
  /** Stores labels; a label already stored under its key is left as it is and counted as existing. */
  put(labels: readonly Label[]): Promise<LabelPutResult>;
  /** Every label of one subject (`subjectKey`), oldest observed first. */
  forSubject(subjectKey: string): Promise<Label[]>;
  /** Labels of many subjects at once, by subject key (subjects without labels are absent). */
  forSubjects(subjectKeys: readonly string[]): Promise<ReadonlyMap<string, readonly Label[]>>;
  /** Every stored label, in no particular order (exports, reports). */
  all(): AsyncIterable<Label>;
}
