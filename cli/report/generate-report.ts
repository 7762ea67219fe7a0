import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { renderReportHtml } from "#cli/report/render-report";
import { readRuleStats } from "#cli/report/rule-stats-source";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbQuarantineCounter } from "#shared/adapters/dynamodb-quarantine-counts";
import { FileReportReader } from "#shared/adapters/file-report-reader";
import { createOpenSearchClient } from "#shared/adapters/opensearch-client";
import { OpenSearchReportReader } from "#shared/adapters/opensearch-report-reader";
import { DEFAULT_AUDIT_INDEX_PREFIX } from "#shared/domain/audit/audit-document";
import type { Outcome } from "#shared/domain/backtest/outcomes";
import { bucketFor, type ReportData } from "#shared/domain/report/report-data";
import type { RuleStats } from "#shared/domain/report/rule-stats";
import type { ReportReader } from "#shared/ports/report-reader";
import { ENV, TABLES } from "#shared/resources";

/** Options of {@link generateReport}. */
export interface GenerateReportOptions {
  /** Environment naming the sources: `VIGIL_OPENSEARCH_ENDPOINT` (AWS) or `VIGIL_AUDIT_DIR` (local), and the quarantine table. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Report window length in ms, ending at `until`. */
  readonly sinceMs: number;
  /** End of the window. Default: now. */
  readonly until?: Date;
  /** Output file. */
  readonly out: string;
  /** Length of the top lists. Default 10. */
  readonly top?: number;
  /** Known outcomes of events, for the rules table's fraud and legit shares. */
  readonly outcomes?: ReadonlyMap<string, Outcome>;
}

/** What was written. */
export interface GeneratedReport {
  readonly path: string;
  readonly source: string;
  readonly data: ReportData;
  /** The rules table's statistics, or why there are none. */
  readonly ruleStats: RuleStats | { readonly unavailable: string };
}

/** The inlinable Chart.js build, found next to the package's main file. */
export function chartJsSource(): string {
  const main = createRequire(import.meta.url).resolve("chart.js");
  return readFileSync(join(dirname(main), "chart.umd.min.js"), "utf8");
}

/** The reader the environment names, and a description of it for the report header. */
export function reportReaderFromEnv(env: GenerateReportOptions["env"]): {
  reader: ReportReader;
  source: string;
} {
  const quarantineTable = env[TABLES.quarantine.envVar];
  const quarantine = quarantineTable
    ? new DynamoDbQuarantineCounter(createDynamoDbClient(env), quarantineTable)
    : undefined;
  const endpoint = env[ENV.openSearchEndpoint];
  if (endpoint) {
    const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw new Error(`AWS_REGION is needed to sign requests to ${endpoint}`);
    const prefix = env[ENV.auditIndexPrefix] ?? DEFAULT_AUDIT_INDEX_PREFIX;
    const explicit =
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && env !== process.env
        ? {
            getCredentials: async () => ({
              accessKeyId: env.AWS_ACCESS_KEY_ID as string,
              secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
              ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
            }),
          }
        : {};
    const client = createOpenSearchClient({ endpoint, region, maxRetries: 3, ...explicit });
    return {
      reader: new OpenSearchReportReader(client, prefix, quarantine),
      source: `OpenSearch ${endpoint} (${prefix}-*)`,
    };
  }
  const dir = env[ENV.auditDir];
  if (dir) return { reader: new FileReportReader(dir, quarantine), source: `audit files ${dir}` };
  throw new Error(
    `neither ${ENV.openSearchEndpoint} (AWS) nor ${ENV.auditDir} (local stack) is set: nothing to report on`,
  );
}

/** Reads the window's numbers and writes the self-contained HTML report. */
export async function generateReport(options: GenerateReportOptions): Promise<GeneratedReport> {
  const until = options.until ?? new Date();
  const since = new Date(until.getTime() - options.sinceMs);
  const { reader, source } = reportReaderFromEnv(options.env);
  const data = await reader.read({
    since,
    until,
    bucketMs: bucketFor(options.sinceMs),
    top: options.top ?? 10,
  });
  let ruleStats: RuleStats | { unavailable: string };
  try {
    ruleStats = (await readRuleStats(options.env, { since, until }, options.outcomes)).stats;
  } catch (error) {
    ruleStats = { unavailable: `rule statistics need the decisions: ${(error as Error).message}` };
  }
  const path = resolve(options.out);
  writeFileSync(
    path,
    renderReportHtml(data, { chartJs: chartJsSource(), generatedAt: new Date(), source, ruleStats }),
  );
  return { path, source, data, ruleStats };
}
