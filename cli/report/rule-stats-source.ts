import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { scanDecisions } from "#shared/adapters/dynamodb-decision-scan";
import { readAuditFiles } from "#shared/adapters/file-report-reader";
import type { Outcome } from "#shared/domain/backtest/outcomes";
import {
  type RuleStats,
  type RuleStatsDecision,
  type RuleStatsQuery,
  ruleStats,
} from "#shared/domain/report/rule-stats";
import { ENV, TABLES } from "#shared/resources";

/** Where rule statistics are read from. */
export type RuleStatsSourceKind = "audit" | "table";

/**
 * Per-rule statistics of a window from the decisions the environment names: the local audit files
 * (`VIGIL_AUDIT_DIR`, the local stack) or the decisions table (`VIGIL_DECISIONS_TABLE`, any
 * deployment; a filtered Scan). `prefer` picks one when both are there (default: audit files).
 * Throws when neither is named.
 */
export async function readRuleStats(
  env: Readonly<Record<string, string | undefined>>,
  query: RuleStatsQuery,
  outcomes?: ReadonlyMap<string, Outcome>,
  prefer?: RuleStatsSourceKind,
): Promise<{ readonly stats: RuleStats; readonly source: string }> {
  const dir = env[ENV.auditDir];
  const table = env[TABLES.decisions.envVar];
  const collect = async (decisions: AsyncIterable<RuleStatsDecision>) => {
    const all: RuleStatsDecision[] = [];
    for await (const d of decisions) all.push(d);
    return ruleStats(all, query, outcomes);
  };
  if (dir && prefer !== "table") {
    return {
      stats: await collect(readAuditFiles(dir) as AsyncIterable<unknown> as AsyncIterable<RuleStatsDecision>),
      source: `audit files ${dir}`,
    };
  }
  if (table && prefer !== "audit") {
    const client = createDynamoDbClient(env);
    try {
      return {
        stats: await collect(scanDecisions(client, table, query)),
        source: `decisions table ${table}`,
      };
    } finally {
      client.destroy();
    }
  }
  throw new Error(
    prefer === "table"
      ? `${TABLES.decisions.envVar} is not set: no decisions table to read`
      : `neither ${ENV.auditDir} (local audit files) nor ${TABLES.decisions.envVar} is set: no decisions to read`,
  );
}
