import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import type { AuditItem, AuditOutcome, AuditSink } from "#shared/ports/audit-sink";

/** File of an index: `<dir>/<index>.ndjson`. */
export const auditFileName = (index: string) => `${index}.ndjson`;

/**
 * The local stand-in for OpenSearch: one NDJSON file per daily index in `_bulk` format (a
 * `{"create":{"_index","_id"}}` action line, then the document line), so a file loads into any
 * OpenSearch with `curl -H 'Content-Type: application/x-ndjson' -XPOST $HOST/_bulk --data-binary @file`.
 *
 * Same semantics as the OpenSearch sink: `create` by eventId, so an id already in the file is
 * `exists` and is not written again. The ids of a file are read from it (and re-read incrementally
 * when it grew), so a restarted process, or another process appending, is taken into account.
 */
export class NdjsonAuditSink implements AuditSink {
  private readonly files = new Map<string, { ids: Set<string>; size: number }>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  async write(items: readonly AuditItem[]): Promise<AuditOutcome[]> {
    const byFile = new Map<string, { lines: string[]; ids: Set<string>; positions: number[] }>();
    const outcomes = items.map((item, position): AuditOutcome => {
      const file = join(this.dir, auditFileName(item.index));
      const pending = byFile.get(file) ?? { lines: [], ids: new Set<string>(), positions: [] };
      // Known from the file, or earlier in this call: the first document of an id stands.
      if (this.known(file).ids.has(item.id) || pending.ids.has(item.id))
        return { ok: true, result: "exists" };
      pending.ids.add(item.id);
      pending.positions.push(position);
      pending.lines.push(
        JSON.stringify({ create: { _index: item.index, _id: item.id } }),
        JSON.stringify(item.document),
      );
      byFile.set(file, pending);
      return { ok: true, result: "created" };
    });
    for (const [file, pending] of byFile) {
      try {
        // One append per file and call: whole action/document pairs, never a torn pair.
        appendFileSync(file, `${pending.lines.join("\n")}\n`);
      } catch (error) {
        // Nothing is known to be in the file: these ids stay unknown, and a retry writes them.
        const failed: AuditOutcome = {
          ok: false,
          retryable: true,
          status: 503,
          errorType: "file_write_failed",
          reason: errorCode(error),
        };
        for (const position of pending.positions) outcomes[position] = failed;
        continue;
      }
      // Only now that the append went through are the ids known.
      const state = this.known(file);
      for (const id of pending.ids) state.ids.add(id);
      state.size = statSync(file).size;
    }
    return outcomes;
  }

  /** The ids in a file, brought up to date with whatever was appended since the last look. */
  private known(file: string): { ids: Set<string>; size: number } {
    let state = this.files.get(file);
    if (!state) {
      state = { ids: new Set(), size: 0 };
      this.files.set(file, state);
    }
    const stat = existsSync(file) ? statSync(file) : undefined;
    const size = stat?.isFile() ? stat.size : 0;
    if (size > state.size) {
      for (const id of readBulkIds(file, state.size, size)) state.ids.add(id);
      state.size = size;
    }
    return state;
  }
}

/** `_id`s of the action lines in [from, to) of a `_bulk` NDJSON file. */
function readBulkIds(file: string, from: number, to: number): string[] {
  const buffer = Buffer.alloc(to - from);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buffer, 0, buffer.length, from);
  } finally {
    closeSync(fd);
  }
  const ids: string[] = [];
  for (const line of buffer.toString("utf8").split("\n")) {
    if (!line.startsWith('{"create"') && !line.startsWith('{"index"')) continue;
    const action = JSON.parse(line) as Record<string, { _id?: string }>;
    const id = Object.values(action)[0]?._id;
    if (id) ids.push(id);
  }
  return ids;
}

/** A file error's code (`ENOSPC`), never its message (which names the path). */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : error instanceof Error ? error.name : "unknown";
}
