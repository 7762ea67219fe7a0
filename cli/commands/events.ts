import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { resolveTarget } from "#cli/env";
import { CliError, say } from "#cli/output";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import { putEvents } from "#shared/adapters/event-producer";

/** Reads NDJSON lines (blank lines skipped) from a file or `-` for stdin, with their line numbers. */
async function readLines(source: string): Promise<Array<{ line: number; bytes: Uint8Array }>> {
  const input = source === "-" ? process.stdin : createReadStream(source);
  const lines: Array<{ line: number; bytes: Uint8Array }> = [];
  let n = 0;
  try {
    for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      n++;
      if (text.trim() !== "") lines.push({ line: n, bytes: new TextEncoder().encode(text) });
    }
  } catch (error) {
    throw new CliError(`cannot read ${source}: ${(error as Error).message}`);
  }
  return lines;
}

/** `vigil send` and `vigil decision`: put events on the stream and look at what was decided. */
export function registerEventCommands(program: Command): void {
  program
    .command("send")
    .description("Validate NDJSON events (one per line) and put them on the events stream")
    .argument("<file>", "NDJSON file, or - for standard input")
    .option("--raw", "send every line unvalidated (to test the pipeline's own defences)")
    .action(async (file: string, opts: { raw?: boolean }) => {
      const target = resolveTarget();
      const lines = await readLines(file);
      say(
        `Read ${lines.length} event(s) from ${file === "-" ? "stdin" : file}${opts.raw ? " (raw: not validated)" : ""}.`,
      );
      const kinesis = createKinesisClient({ env: target.env });
      const result = await putEvents(
        kinesis,
        target.stream("events"),
        lines.map((l) => l.bytes),
        {
          ...(opts.raw ? { raw: true } : {}),
          onProgress: (done, total) => {
            if (total > 500) say(`  put ${done}/${total}`);
          },
        },
      );
      kinesis.destroy();
      for (const r of result.rejected)
        say(`  line ${lines[r.index]?.line}: rejected, ${r.reason}: ${r.message}`);
      for (const f of result.failed)
        say(`  line ${lines[f.index]?.line}: not accepted by Kinesis, ${f.errorCode}: ${f.errorMessage}`);
      process.stdout.write(
        `${JSON.stringify({ read: lines.length, sent: result.sent, rejected: result.rejected.length, failed: result.failed.length })}\n`,
      );
      if (result.rejected.length > 0 || result.failed.length > 0) {
        throw new CliError(
          `${result.rejected.length} rejected and ${result.failed.length} not accepted; ${result.sent} sent`,
        );
      }
    });

  program
    .command("decision")
    .description("Show the decision stored for an eventId")
    .argument("<eventId>")
    .action(async (eventId: string) => {
      const target = resolveTarget();
      const store = new DynamoDbDecisionStore(createDynamoDbClient(target.env), target.table("decisions"), 0);
      const decision = await store.get(eventId);
      if (!decision) throw new CliError(`no decision for eventId ${eventId}`, 3);
      process.stdout.write(`${JSON.stringify(decision, null, 2)}\n`);
    });
}
