import type { Client } from "@opensearch-project/opensearch";
import { readAuditFiles } from "#shared/adapters/file-report-reader";
import { type AuditDocument, auditIndexPattern } from "#shared/domain/audit/audit-document";

import type { DecisionHistory, EntityHistory, HistoryEntry } from "#shared/ports/decision-history";

/** The fields of an audit document the history shows. */
type HistoryDocument = Pick<
  AuditDocument,
  "eventId" | "type" | "action" | "score" | "reasons" | "occurredAt" | "decidedAt" | "entities"
>;

function entry(doc: HistoryDocument): HistoryEntry {
  return {
    eventId: doc.eventId,
    type: doc.type,
    action: doc.action,
    score: doc.score,
    reasons: doc.reasons,
    occurredAt: doc.occurredAt,
    decidedAt: doc.decidedAt,
  };
}

const newestFirst = (a: HistoryEntry, b: HistoryEntry) =>
  a.occurredAt < b.occurredAt ? 1 : a.occurredAt > b.occurredAt ? -1 : a.eventId < b.eventId ? -1 : 1;

/** The history from the local audit files (`_bulk` NDJSON): reads them through once per call. */
export class AuditFileDecisionHistory implements DecisionHistory {
  constructor(private readonly dir: string) {}

  async ofEvent(eventId: string, limit: number): Promise<EntityHistory | undefined> {
    const byUser = new Map<string, HistoryEntry[]>();
    let pseudonym: string | undefined;
    for await (const raw of readAuditFiles(this.dir)) {
      const doc = raw as unknown as HistoryDocument;
      const user = doc.entities?.user;
      if (user === undefined) continue;
      if (doc.eventId === eventId) pseudonym = user;
      let list = byUser.get(user);
      if (list === undefined) {
        list = [];
        byUser.set(user, list);
      }
      list.push(entry(doc));
    }
    if (pseudonym === undefined) return undefined;
    const decisions = (byUser.get(pseudonym) ?? []).sort(newestFirst).slice(0, limit);
    return { entity: "user", pseudonym, decisions };
  }
}

interface SearchBody {
  readonly hits: { readonly hits: readonly { readonly _source: HistoryDocument }[] };
}

/** The history from the OpenSearch audit indices: two `_search` requests (the event, then its account). */
export class OpenSearchDecisionHistory implements DecisionHistory {
  constructor(
    private readonly client: Pick<Client, "search">,
    private readonly indexPrefix: string,
  ) {}

  private async search(body: Record<string, unknown>): Promise<HistoryDocument[]> {
    const response = await this.client.search({
      index: auditIndexPattern(this.indexPrefix),
      body: body as never,
      ignore_unavailable: true,
      allow_no_indices: true,
    });
    return (response.body as unknown as SearchBody).hits.hits.map((h) => h._source);
  }

  async ofEvent(eventId: string, limit: number): Promise<EntityHistory | undefined> {
    const [event] = await this.search({ query: { term: { eventId } }, size: 1 });
    const pseudonym = event?.entities.user;
    if (pseudonym === undefined) return undefined;
    const docs = await this.search({
      query: { term: { "entities.user": pseudonym } },
      sort: [{ occurredAt: { order: "desc" } }],
      size: limit,
    });
    return { entity: "user", pseudonym, decisions: docs.map(entry).sort(newestFirst) };
  }
}
