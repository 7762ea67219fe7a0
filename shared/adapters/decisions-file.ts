import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { DecisionRecord } from "#shared/ports/decision-store";

/**
 * Decisions as NDJSON, one stored decision per line (what `vigil evaluate --decisions-out` writes,
 * and the decisions table's items exported as JSON): a source of stored decisions for backtests
 * and evaluations that need no table.
 */

/** A decisions file line that is not a decision. */
export class DecisionsFileError extends Error {
  override readonly name = "DecisionsFileError";
}

/**
 * Reads a decisions file into a map by eventId (the first line of an eventId stands, as the first
 * decision does in the table). Lines need `eventId`, `action` and `decidedAt`; the stored-vector
 * path also needs `features`. Throws DecisionsFileError naming the first bad line.
 */
export async function readDecisionsFile(path: string): Promise<Map<string, DecisionRecord>> {
  const out = new Map<string, DecisionRecord>();
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new DecisionsFileError(`${path} line ${n}: not JSON`);
    }
    const d = value as Partial<DecisionRecord>;
    if (typeof d.eventId !== "string" || typeof d.action !== "string" || typeof d.decidedAt !== "string")
      throw new DecisionsFileError(`${path} line ${n}: a decision needs eventId, action and decidedAt`);
    if (!out.has(d.eventId)) out.set(d.eventId, d as DecisionRecord);
  }
  return out;
}

/** A map of decisions as a lookup (the stored-vector path's `DecisionLookup`). */
export class MapDecisionLookup {
  constructor(private readonly decisions: ReadonlyMap<string, DecisionRecord>) {}

  async getMany(eventIds: readonly string[]): Promise<ReadonlyMap<string, DecisionRecord>> {
    const out = new Map<string, DecisionRecord>();
    for (const id of eventIds) {
      const d = this.decisions.get(id);
      if (d) out.set(id, d);
    }
    return out;
  }
}
