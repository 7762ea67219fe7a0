import type { Client } from "@opensearch-project/opensearch";
import type { AuditItem, AuditOutcome, AuditSink } from "#shared/ports/audit-sink";

/** Options of {@link OpenSearchAuditSink}. */
export interface OpenSearchAuditSinkOptions {
  /** Rounds of `_bulk` for items that are still pending. Default 5. */
  readonly attempts?: number;
  /** Base of the exponential back-off (full jitter) between rounds. Default 200 ms. */
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface BulkItemResult {
  readonly status: number;
  readonly error?: { readonly type?: string; readonly reason?: string };
}

/** Longest OpenSearch error reason kept (they can be long: caused_by chains). */
const REASON_MAX = 500;

const retryableStatus = (status: number) => status === 429 || status >= 500;

/**
 * Bulk-indexes audit documents with the official client. Each item is a `create` with
 * `_id` = eventId, so a redelivered decision is a 409 (`exists`), never a second document or an
 * overwrite. Per item: 201 created; 409 exists; 429 and 5xx are retried in rounds with back-off
 * (only the failed items are re-sent); any other 4xx (mapping errors) is final and returned for
 * quarantine. A whole request that fails with 429, 5xx or no response at all is retried the same
 * way; one refused with another status (403: the role is not mapped) throws.
 */
export class OpenSearchAuditSink implements AuditSink {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: Pick<Client, "bulk">,
    options: OpenSearchAuditSinkOptions = {},
  ) {
    this.attempts = options.attempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async write(items: readonly AuditItem[]): Promise<AuditOutcome[]> {
    const outcomes: Array<AuditOutcome | undefined> = items.map(() => undefined);
    let pending = items.map((_, i) => i);
    let last: AuditOutcome | undefined;
    for (let round = 1; pending.length > 0 && round <= this.attempts; round++) {
      if (round > 1) await this.sleep(Math.random() * this.baseDelayMs * 2 ** (round - 2));
      const batch = pending.map((i) => items[i] as AuditItem);
      const results = await this.bulk(batch);
      if (!Array.isArray(results)) {
        last = results;
        continue; // the whole request was throttled or failed transiently: all pending again
      }
      const next: number[] = [];
      results.forEach((result, j) => {
        const i = pending[j] as number;
        const outcome = toOutcome(result);
        if (!outcome.ok && outcome.retryable) {
          next.push(i);
          last = outcome;
        } else outcomes[i] = outcome;
      });
      pending = next;
    }
    for (const i of pending)
      outcomes[i] = last ?? { ok: false, retryable: true, status: 0, errorType: "unknown", reason: "" };
    return outcomes as AuditOutcome[];
  }

  /** One `_bulk` call: the per-item results, or the retryable failure of the whole request. */
  private async bulk(batch: readonly AuditItem[]): Promise<BulkItemResult[] | AuditOutcome> {
    const body = batch.flatMap((item) => [{ create: { _index: item.index, _id: item.id } }, item.document]);
    let response: { body: { items?: ReadonlyArray<Record<string, BulkItemResult | undefined>> } };
    try {
      response = (await this.client.bulk({ body })) as typeof response;
    } catch (error) {
      const status = (error as { meta?: { statusCode?: number } }).meta?.statusCode;
      if (status === undefined || status === null || retryableStatus(status))
        return {
          ok: false,
          retryable: true,
          status: status ?? 0,
          errorType: (error as Error).name ?? "Error",
          reason: clip((error as Error).message ?? ""),
        };
      throw error;
    }
    const results = response.body.items ?? [];
    if (results.length !== batch.length)
      throw new Error(`_bulk answered ${results.length} items for ${batch.length} operations`);
    return results.map((entry) => entry.create ?? Object.values(entry)[0] ?? { status: 0 });
  }
}

function toOutcome(result: BulkItemResult): AuditOutcome {
  if (result.status >= 200 && result.status < 300) return { ok: true, result: "created" };
  if (result.status === 409) return { ok: true, result: "exists" };
  return {
    ok: false,
    retryable: result.status === 0 || retryableStatus(result.status),
    status: result.status,
    errorType: result.error?.type ?? "unknown",
    reason: clip(result.error?.reason ?? ""),
  };
}

function clip(text: string): string {
  return text.length <= REASON_MAX ? text : `${text.slice(0, REASON_MAX)}...`;
}
