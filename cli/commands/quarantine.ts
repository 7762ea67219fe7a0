import type { Command } from "commander";
import { resolveTarget } from "#cli/env";
import { CliError, say } from "#cli/output";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { DynamoDbQuarantineStore } from "#shared/adapters/dynamodb-quarantine-store";
import { putRecords } from "#shared/adapters/kinesis-producer";
import { isQuarantineReason, QUARANTINE_REASONS, REASON_DESCRIPTIONS } from "#shared/domain/event/index";
import type { QuarantineEntry } from "#shared/ports/quarantine-store";

function store() {
  const target = resolveTarget();
  return {
    target,
    quarantine: new DynamoDbQuarantineStore(createDynamoDbClient(target.env), target.table("quarantine"), 0),
  };
}

function reasonOption(reason: string | undefined) {
  if (reason === undefined) return undefined;
  if (!isQuarantineReason(reason))
    throw new CliError(`unknown reason ${reason}; one of: ${QUARANTINE_REASONS.join(", ")}`);
  return reason;
}

/** `vigil quarantine list|show|replay`: inspect bad records and re-put them after a fix. */
export function registerQuarantineCommands(program: Command): void {
  const q = program
    .command("quarantine")
    .description("Inspect quarantined records and replay them after a fix");

  q.command("list")
    .description("List quarantined records, newest first")
    .option("--reason <code>", "only this reason")
    .option("--limit <n>", "at most this many", "50")
    .option("--json", "one JSON object per line instead of a table")
    .action(async (opts: { reason?: string; limit: string; json?: boolean }) => {
      const reason = reasonOption(opts.reason);
      const { quarantine } = store();
      const entries = await quarantine.list({ ...(reason ? { reason } : {}), limit: Number(opts.limit) });
      if (opts.json) {
        for (const e of entries) process.stdout.write(`${JSON.stringify(summary(e))}\n`);
        return;
      }
      if (entries.length === 0) say("No quarantined records.");
      for (const e of entries) {
        process.stdout.write(
          `${e.id}  ${e.receivedAt}  ${e.reason.padEnd(26)} ${e.replayedAt ? `replayed ${e.replayedAt}` : ""}\n    ${e.message}\n`,
        );
      }
    });

  q.command("show")
    .description("Show one quarantined record, with its raw bytes decoded where they are text")
    .argument("<id>", "the record id (<shardId>:<sequenceNumber>) from `quarantine list`")
    .action(async (id: string) => {
      const { quarantine } = store();
      const entry = await quarantine.get(id);
      if (!entry) throw new CliError(`no quarantined record ${id}`, 3);
      const bytes = Buffer.from(entry.data, "base64");
      const text = bytes.toString("utf8");
      process.stdout.write(
        `${JSON.stringify({ ...entry, reasonDescription: REASON_DESCRIPTIONS[entry.reason], bytes: bytes.length, text: text.length <= 4096 ? text : `${text.slice(0, 4096)}…` }, null, 2)}\n`,
      );
    });

  q.command("replay")
    .description("Re-put quarantined records on the events stream (after fixing what made them fail)")
    .argument("[ids...]", "record ids to replay")
    .option("--reason <code>", "replay every record quarantined for this reason")
    .option("--force", "replay records that were replayed before")
    .action(async (ids: string[], opts: { reason?: string; force?: boolean }) => {
      const reason = reasonOption(opts.reason);
      if (ids.length === 0 && !reason) throw new CliError("name record ids or --reason");
      const { target, quarantine } = store();
      const selected: QuarantineEntry[] = [];
      for (const id of ids) {
        // Audit refusals share the table but hold decision messages, not events: they go back
        // through the decisions stream with `vigil audit reindex`, never onto the events stream.
        if (id.startsWith("audit:"))
          throw new CliError(`${id} is an audit entry: use \`vigil audit reindex ${id}\``, 2);
        const entry = await quarantine.get(id);
        if (!entry) throw new CliError(`no quarantined record ${id}`, 3);
        selected.push(entry);
      }
      if (reason) selected.push(...(await quarantine.list({ reason })));
      const toReplay = selected.filter((e) => opts.force || !e.replayedAt);
      const skipped = selected.length - toReplay.length;
      if (skipped > 0) say(`Skipping ${skipped} record(s) replayed before (use --force to replay again).`);
      const kinesis = createKinesisClient({ env: target.env });
      const put = await putRecords(
        kinesis,
        target.stream("events"),
        toReplay.map((e) => ({ data: Buffer.from(e.data, "base64"), partitionKey: e.partitionKey })),
      );
      kinesis.destroy();
      const at = new Date().toISOString();
      for (const p of put.placed) {
        const entry = toReplay[p.index];
        if (entry) await quarantine.markReplayed(entry.id, at, `${p.shardId}:${p.sequenceNumber}`);
      }
      for (const f of put.failed) say(`  ${toReplay[f.index]?.id}: not accepted by Kinesis, ${f.errorCode}`);
      process.stdout.write(`${JSON.stringify({ replayed: put.sent, failed: put.failed.length, skipped })}\n`);
      if (put.failed.length > 0) throw new CliError(`${put.failed.length} record(s) could not be replayed`);
    });
}

function summary(e: QuarantineEntry) {
  const { data: _data, ...rest } = e;
  return rest;
}
