import type { CaseResolution } from "#shared/domain/cases/cases";
import type { Label } from "#shared/domain/labels/index";

/** A resolution refused because the case was resolved already (by someone else, or earlier). */
export class CaseAlreadyResolvedError extends Error {
  override readonly name = "CaseAlreadyResolvedError";
  constructor(readonly existing: CaseResolution) {
    super(
      `case ${existing.caseId} was resolved as ${existing.label} by ${existing.resolvedBy} at ${existing.resolvedAt}`,
    );
  }
}

/**
 * Resolutions of review cases. `resolve` stores the resolution and its label together (both or
 * neither) and refuses a case that is already resolved, so two analysts working the same queue
 * cannot both resolve one case; `amend` replaces a resolution on purpose, keeping the old one's
 * name in `amends` (the old label stays too: labels are facts, the newer one is in force).
 */
export interface CaseStore {
  get(caseId: string): Promise<CaseResolution | undefined>;
  /** Resolutions of many cases (unresolved ones are absent). */
  getMany(caseIds: readonly string[]): Promise<ReadonlyMap<string, CaseResolution>>;
  /**
   * Stores a resolution with its label. Without `amend`, throws CaseAlreadyResolvedError when the
   * case has one; with `amend`, replaces exactly `amend` (throws CaseAlreadyResolvedError if the
   * stored resolution is another one by then).
   */
  resolve(resolution: CaseResolution, label: Label, amend?: CaseResolution): Promise<void>;
}
