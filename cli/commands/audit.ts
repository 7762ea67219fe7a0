import type { Command } from "commander";
import { resolveTarget } from "#cli/env";
import { CliError, say } from "#cli/output";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { DynamoDbAuditQuarantine } from "#shared/adapters/dynamodb-audit-quarantine";
import { putRecords } from "#shared/adapters/kinesis-producer";
import {
  AUDIT_QUARANTINE_REASONS,
  AUDIT_REASON_DESCRIPTIONS,
  type AuditQuarantineReason,
} from "#shared/ports/audit-quarantine";

const isAuditReason = (r: string): r is AuditQuarantineReason =>
  (AUDIT_QUARANTINE_REASONS as readonly string[]).includes(r);

/**
 * `vigil audit quarantine|reindex`: decisions the audit trail refused, and putting them back on
 * the decisions stream after a fix (a template change, say). Re-putting is safe: audit creates by
 * eventId, and alert has already settled each decision's delivery, so nobody is alerted twice.
 */
export function registerAuditCommands(program: Command): void {
  const audit = program.command("audit").description("The audit trail's quarantine and re-indexing");
  const store = () => {
    const target = resolveTarget();
    return {
      target,
      quarantine: new DynamoDbAuditQuarantine(
        createDynamoDbClient(target.env),
        target.table("quarantine"),
        0,
      ),
    };
  };

  audit
    .command("quarantine")
    .description("List decisions-stream records the audit function quarantined")
    .option("--json", "one JSON object per line")
    .action(async (opts: { json?: boolean }) => {
      const { quarantine } = store();
      const entries = await quarantine.list();
      if (entries.length === 0) say("No quarantined decisions.");
      for (const e of entries) {
        const { data: _data, ...rest } = e;
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(rest)}\n`
            : `${e.id}  ${e.receivedAt}  ${e.reason}  ${e.eventId ?? "-"}${e.replayedAt ? `  re-indexed ${e.replayedAt}` : ""}\n    ${e.message}\n`,
        );
      }
    });

  audit
    .command("reindex")
    .description("Put quarantined decisions back on the decisions stream (after fixing what refused them)")
    .argument("[ids...]", "entry ids (audit:<shardId>:<sequenceNumber>)")
    .option("--reason <code>", `every entry of this reason (${AUDIT_QUARANTINE_REASONS.join(", ")})`)
    .option("--force", "also entries re-indexed before")
    .action(async (ids: string[], opts: { reason?: string; force?: boolean }) => {
      if (opts.reason !== undefined && !isAuditReason(opts.reason))
        throw new CliError(`unknown reason ${opts.reason}; one of: ${AUDIT_QUARANTINE_REASONS.join(", ")}`);
      if (ids.length === 0 && !opts.reason) throw new CliError("name entry ids or --reason");
      const { target, quarantine } = store();
      const all = await quarantine.list(opts.reason ? { reason: opts.reason as AuditQuarantineReason } : {});
      const selected = ids.length > 0 ? all.filter((e) => ids.includes(e.id)) : all;
      for (const id of ids)
        if (!all.some((e) => e.id === id)) throw new CliError(`no audit quarantine entry ${id}`, 3);
      const todo = selected.filter((e) => opts.force || !e.replayedAt);
      if (todo.length < selected.length)
        say(`Skipping ${selected.length - todo.length} entry(ies) re-indexed before (--force to repeat).`);
      for (const e of todo) say(`  ${e.id}: ${AUDIT_REASON_DESCRIPTIONS[e.reason]}`);
      const kinesis = createKinesisClient({ env: target.env });
      const put = await putRecords(
        kinesis,
        target.stream("decisions"),
        todo.map((e) => ({ data: Buffer.from(e.data, "base64"), partitionKey: e.partitionKey })),
      );
      kinesis.destroy();
      const at = new Date().toISOString();
      for (const p of put.placed) {
        const entry = todo[p.index];
        if (entry) await quarantine.markReplayed(entry.id, at, `${p.shardId}:${p.sequenceNumber}`);
      }
      process.stdout.write(`${JSON.stringify({ reindexed: put.sent, failed: put.failed.length })}\n`);
      if (put.failed.length > 0) throw new CliError(`${put.failed.length} record(s) not accepted by Kinesis`);
    });
}
