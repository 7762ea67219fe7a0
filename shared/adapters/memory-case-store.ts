import type { CaseResolution } from "#shared/domain/cases/cases";
import type { Label } from "#shared/domain/labels/index";
import { CaseAlreadyResolvedError, type CaseStore } from "#shared/ports/case-store";
import type { LabelStore } from "#shared/ports/label-store";

/** Case resolutions in memory, writing labels to a label store: for the simulator and tests. */
export class MemoryCaseStore implements CaseStore {
  private readonly resolutions = new Map<string, CaseResolution>();

  constructor(private readonly labels: Pick<LabelStore, "put">) {}

  async get(caseId: string): Promise<CaseResolution | undefined> {
    return this.resolutions.get(caseId);
  }

  async getMany(caseIds: readonly string[]): Promise<ReadonlyMap<string, CaseResolution>> {
    const out = new Map<string, CaseResolution>();
    for (const id of caseIds) {
      const r = this.resolutions.get(id);
      if (r) out.set(id, r);
    }
    return out;
  }

  async resolve(resolution: CaseResolution, label: Label, amend?: CaseResolution): Promise<void> {
    const current = this.resolutions.get(resolution.caseId);
    if (amend ? current?.labelId !== amend.labelId : current !== undefined) {
      if (current) throw new CaseAlreadyResolvedError(current);
    }
    this.resolutions.set(resolution.caseId, resolution);
    await this.labels.put([label]);
  }
}
