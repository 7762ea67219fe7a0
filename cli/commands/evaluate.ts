import { readFileSync } from "node:fs";
import type { Command } from "commander";
import * as z from "zod";
import { resolveTarget } from "#cli/env";
import { CliError, say } from "#cli/output";
import { replaySequentially } from "#local/replay";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import { ACTIONS } from "#shared/domain/decision/action";
import { type CleanEvent, decodeRecord } from "#shared/domain/event/index";
import {
  evaluateQuality,
  formatActionsByType,
  formatQualityTable,
  formatTopRules,
  type GroundTruth,
  PHASES,
  type Phase,
  parseGroundTruth,
  type ScoredDecision,
} from "#shared/domain/simulation/index";

/**
 * Decodes one NDJSON event for a replay with the pipeline's own decoder. A replay has no stream
 * arrival time, so the event is judged as if it arrived when it occurred: the event-time bounds
 * always hold and only a malformed event is refused.
 */
function decodeForReplay(line: string, lineNumber: number): CleanEvent {
  let occurredAt = Number.NaN;
  try {
    const value: unknown = JSON.parse(line);
    if (
      typeof value === "object" &&
      value !== null &&
      "occurredAt" in value &&
      typeof value.occurredAt === "string"
    )
      occurredAt = Date.parse(value.occurredAt);
  } catch {
    // Not JSON: the decoder says so below.
  }
  const arrivalTime = new Date(Number.isFinite(occurredAt) ? occurredAt : 0);
  const decoded = decodeRecord(new TextEncoder().encode(line), { arrivalTime });
  if (!decoded.ok) throw new CliError(`events line ${lineNumber}: ${decoded.reason}: ${decoded.message}`);
  return decoded.event;
}

/** The fields of a stored decision the evaluation reads; the rest of the item is ignored. */
const scoredDecisionSchema = z.object({
  eventId: z.string().min(1),
  action: z.enum(ACTIONS),
  decidedBy: z.string().optional(),
  ruleHits: z.array(z.object({ id: z.string(), action: z.enum(ACTIONS), shadow: z.boolean() })),
  band: z
    .object({ action: z.enum(ACTIONS) })
    .nullable()
    .optional(),
});

/** Reads decisions from NDJSON (as `npm start` writes them, or exported from the decisions table). */
export function parseDecisions(text: string): Map<string, ScoredDecision> {
  const out = new Map<string, ScoredDecision>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new CliError(`decisions line ${i + 1}: not JSON`);
    }
    const parsed = scoredDecisionSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CliError(`decisions line ${i + 1}: ${issue?.path.join(".") || "line"}: ${issue?.message}`);
    }
    out.set(parsed.data.eventId, parsed.data);
  });
  return out;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** The report `vigil evaluate` prints (also the tail of `npm start`'s summary). */
export function formatEvaluation(report: ReturnType<typeof evaluateQuality>): string {
  return [
    `Events evaluated: ${report.decided} of ${report.events} (${report.phases.join(" + ")})${report.undecided > 0 ? `; ${report.undecided} without a decision left out` : ""}`,
    "",
    "Detection quality (flagged = any action but pass; % of events)",
    formatQualityTable(report),
    "",
    "Actions by scenario (combined decision)",
    formatActionsByType(report),
    "",
    "Top rules by hits",
    formatTopRules(report),
    "",
  ].join("\n");
}

/** `vigil evaluate`: decisions joined with ground truth, as the quality table. */
export function registerEvaluateCommand(program: Command): void {
  program
    .command("evaluate")
    .description(
      "Join decisions with a simulation's ground truth and print the quality table: rules only, model only, combined; per attack; false positives on legitimate traffic",
    )
    .requiredOption("--truth <file>", "ground-truth NDJSON written by vigil simulate or npm start")
    .option("--decisions <file>", "decisions NDJSON (default: read them from the decisions table)")
    .option(
      "--replay <events>",
      "instead of stored decisions, decide these NDJSON events in process, one at a time with the shipped defaults (the sequential reference)",
    )
    .option("--phase <phase>", "live, history or all", "live")
    .option("--json", "print the report as JSON")
    .action(
      async (opts: { truth: string; decisions?: string; replay?: string; phase: string; json?: boolean }) => {
        const phases: Phase[] =
          opts.phase === "all"
            ? [...PHASES]
            : PHASES.includes(opts.phase as Phase)
              ? [opts.phase as Phase]
              : [];
        if (phases.length === 0) throw new CliError("--phase must be live, history or all");
        let truth: GroundTruth[];
        try {
          truth = parseGroundTruth(readText(opts.truth, "ground truth"));
        } catch (error) {
          throw error instanceof CliError ? error : new CliError((error as Error).message);
        }
        let decisions: ReadonlyMap<string, ScoredDecision>;
        if (opts.decisions && opts.replay) throw new CliError("give --decisions or --replay, not both");
        if (opts.replay) {
          const events = readText(opts.replay, "events")
            .split("\n")
            .flatMap((line, i) => (line.trim() === "" ? [] : [decodeForReplay(line, i + 1)]));
          say(`Deciding ${events.length} events in process, one at a time...`);
          decisions = await replaySequentially(events);
        } else if (opts.decisions) {
          decisions = parseDecisions(readText(opts.decisions, "decisions"));
        } else {
          const target = resolveTarget();
          const client = createDynamoDbClient(target.env);
          const store = new DynamoDbDecisionStore(client, target.table("decisions"), 0);
          const ids = truth.filter((t) => phases.includes(t.phase)).map((t) => t.eventId);
          say(`Reading ${ids.length} decisions from ${target.table("decisions")}...`);
          decisions = await store.getMany(ids).finally(() => client.destroy());
        }
        const report = evaluateQuality(truth, decisions, phases);
        if (report.decided === 0)
          throw new CliError("no decision found for any event of the ground truth", 3);
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatEvaluation(report));
      },
    );
}
