import type { ReportData, ReportQuery } from "#shared/domain/report/report-data";

/** Where report numbers come from: OpenSearch aggregations on AWS, the audit files locally. */
export interface ReportReader {
  read(query: ReportQuery): Promise<ReportData>;
}

/** Quarantined records by reason, for records quarantined in [since, until). */
export interface QuarantineCounter {
  countByReason(since: Date, until: Date): Promise<Map<string, number>>;
}
