import { createReadStream, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  aggregateDocuments,
  quarantineRows,
  type ReportData,
  type ReportDocument,
  type ReportQuery,
} from "#shared/domain/report/report-data";
import type { QuarantineCounter, ReportReader } from "#shared/ports/report-reader";

/** The documents of every `_bulk` NDJSON file in a directory (the lines after each action line). */
export async function* readAuditFiles(dir: string): AsyncGenerator<ReportDocument> {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith(".ndjson"))
    .sort()) {
    let expectDocument = false;
    const lines = createInterface({
      input: createReadStream(join(dir, name)),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const line of lines) {
      if (line.trim() === "") continue;
      if (expectDocument) {
        yield JSON.parse(line) as ReportDocument;
        expectDocument = false;
      } else expectDocument = true;
    }
  }
}

/**
 * The local report reader: aggregates the audit NDJSON files in memory (see report-data.ts for
 * the definitions it shares with the OpenSearch reader), quarantine counts from the table.
 */
export class FileReportReader implements ReportReader {
  constructor(
    private readonly dir: string,
    private readonly quarantine?: QuarantineCounter,
  ) {}

  async read(query: ReportQuery): Promise<ReportData> {
    const docs: ReportDocument[] = [];
    for await (const doc of readAuditFiles(this.dir)) docs.push(doc);
    const quarantine = this.quarantine
      ? quarantineRows(await this.quarantine.countByReason(query.since, query.until))
      : null;
    return aggregateDocuments(docs, query, quarantine);
  }
}
