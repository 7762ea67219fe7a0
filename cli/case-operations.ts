import {
  type CaseFilter,
  type CaseResolution,
  type CaseVerdict,
  isCase,
  resolveCase,
} from "#shared/domain/cases/cases";
import { type Label, subjectKey } from "#shared/domain/labels/index";
import type { CaseStore } from "#shared/ports/case-store";
import type { DecisionHistory, EntityHistory } from "#shared/ports/decision-history";
import type { DecisionScan } from "#shared/ports/decision-scan";
import type { DecisionRecord, DecisionStore } from "#shared/ports/decision-store";
import type { LabelStore } from "#shared/ports/label-store";

/**
 * The review queue's operations on any stores: what `vigil cases` does, apart from argument
 * parsing, so tests run the same code on DynamoDB Local.
 */

/** What the queue reads and writes. */
export interface CaseDependencies {
  readonly decisions: Pick<DecisionStore, "get">;
  readonly scan: DecisionScan;
  readonly cases: CaseStore;
  readonly labels: Pick<LabelStore, "forSubject">;
  /** The account's recent decisions; absent when no audit trail is configured. */
  readonly history?: DecisionHistory;
}

/** One line of `vigil cases list`. */
export interface CaseListing {
  readonly caseId: string;
  readonly type: DecisionRecord["type"];
  readonly action: DecisionRecord["action"];
  readonly score: number | null;
  readonly reasons: readonly string[];
  /** Active rules that hit. */
  readonly rules: readonly string[];
  readonly occurredAt: string | undefined;
  readonly decidedAt: string;
  readonly status: "open" | "resolved";
  readonly resolution?: CaseResolution;
}

/** Which cases to list besides the filter. */
export interface ListOptions {
  readonly status: "open" | "resolved" | "all";
  readonly limit: number;
}

/** A case as `vigil cases show` prints it. */
export interface CaseDetail {
  readonly decision: DecisionRecord;
  readonly resolution: CaseResolution | undefined;
  /** Every label of the event, oldest first. */
  readonly labels: readonly Label[];
  /** The account's recent decisions (undefined: no audit trail, or the event is not in it yet). */
  readonly history: EntityHistory | undefined;
}

/** A case id with no decision behind it. */
export class CaseNotFoundError extends Error {
  override readonly name = "CaseNotFoundError";
  constructor(readonly caseId: string) {
    super(`no decision for ${caseId}: a case id is the eventId of a decision`);
  }
}

/** The cases a filter selects, newest decision first, with their resolution state. */
export async function listCases(
  deps: CaseDependencies,
  filter: CaseFilter,
  options: ListOptions,
): Promise<CaseListing[]> {
  const found: DecisionRecord[] = [];
  for await (const d of deps.scan.scan({
    actions: filter.actions,
    ...(filter.scenario ? { types: [filter.scenario] } : {}),
    ...(filter.sinceMs === undefined ? {} : { decidedFrom: new Date(filter.sinceMs).toISOString() }),
  })) {
    if (isCase(d, filter)) found.push(d);
  }
  found.sort((a, b) =>
    a.decidedAt < b.decidedAt ? 1 : a.decidedAt > b.decidedAt ? -1 : a.eventId < b.eventId ? -1 : 1,
  );
  const resolutions = await deps.cases.getMany(found.map((d) => d.eventId));
  const out: CaseListing[] = [];
  for (const d of found) {
    const resolution = resolutions.get(d.eventId);
    const status = resolution ? "resolved" : "open";
    if (options.status !== "all" && status !== options.status) continue;
    out.push({
      caseId: d.eventId,
      type: d.type,
      action: d.action,
      score: d.score,
      reasons: d.reasons,
      rules: d.ruleHits.filter((h) => !h.shadow).map((h) => h.id),
      occurredAt: d.occurredAt,
      decidedAt: d.decidedAt,
      status,
      ...(resolution ? { resolution } : {}),
    });
    if (out.length >= options.limit) break;
  }
  return out;
}

/** A case: its decision (exact features, rule hits, contributions), resolution, labels and the account's history. */
export async function showCase(
  deps: CaseDependencies,
  caseId: string,
  historyLimit = 20,
): Promise<CaseDetail> {
  const decision = await deps.decisions.get(caseId);
  if (!decision) throw new CaseNotFoundError(caseId);
  const [resolution, labels, history] = await Promise.all([
    deps.cases.get(caseId),
    deps.labels.forSubject(subjectKey({ eventId: caseId })),
    deps.history?.ofEvent(caseId, historyLimit),
  ]);
  return { decision, resolution, labels, history };
}

/**
 * Resolves a case: writes a `review` label about its event and the resolution (who, when) in one
 * step. Refuses (CaseAlreadyResolvedError) a case someone resolved already unless `amend`, which
 * replaces exactly the resolution read now and keeps its name.
 */
export async function resolveCaseOperation(
  deps: CaseDependencies,
  caseId: string,
  verdict: CaseVerdict,
  options: { readonly amend?: boolean } = {},
): Promise<CaseResolution> {
  const decision = await deps.decisions.get(caseId);
  if (!decision) throw new CaseNotFoundError(caseId);
  const previous = options.amend ? await deps.cases.get(caseId) : undefined;
  const { label, resolution } = resolveCase(caseId, verdict);
  const stored: CaseResolution = previous
    ? {
        ...resolution,
        amends: {
          resolvedBy: previous.resolvedBy,
          resolvedAt: previous.resolvedAt,
          labelId: previous.labelId,
        },
      }
    : resolution;
  await deps.cases.resolve(stored, label, previous);
  return stored;
}
