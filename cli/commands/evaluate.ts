import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import * as z from "zod";
import { resolveTarget } from "#cli/env";
import { CliError, say } from "#cli/output";
import { replaySequentially } from "#local/replay";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import { OutcomeFileError, outcomesAsOf, parseOutcomeFile } from "#shared/domain/backtest/outcomes";
import { ACTIONS } from "#shared/domain/decision/action";
import { type CleanEvent, decodeRecord, EVENT_TYPES, type EventType } from "#shared/domain/event/index";
import type { Label } from "#shared/domain/labels/index";
import {
  evaluateQuality,
  formatActionsByType,
  formatFrictionTable,
  formatQualityTable,
  formatStrengthTable,
  formatTopRules,
  type GroundTruth,
  groundTruthSchema,
  PHASES,
  type Phase,
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
const scoredDecisionSchema = z.looseObject({
  eventId: z.string().min(1),
  type: z.enum(EVENT_TYPES).optional(),
  occurredAt: z.string().optional(),
  action: z.enum(ACTIONS),
  decidedBy: z.string().optional(),
  ruleHits: z.array(z.object({ id: z.string(), action: z.enum(ACTIONS), shadow: z.boolean() })),
  band: z
    .object({ action: z.enum(ACTIONS) })
    .nullable()
    .optional(),
});

/** A decision as the evaluation reads it, with its event's type and time when the source has them. */
type EvaluatedDecision = ScoredDecision & { readonly type?: EventType; readonly occurredAt?: string };

/**
 * Reads decisions from NDJSON (as `npm start` and `--decisions-out` write them, or exported from
 * the decisions table); every field of a line is kept, so they can be written out again.
 */
export function parseDecisions(text: string): Map<string, EvaluatedDecision> {
  const out = new Map<string, EvaluatedDecision>();
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
    out.set(parsed.data.eventId, parsed.data as EvaluatedDecision);
  });
  return out;
}

/** A truth file read: ground-truth lines as they are, and labels to resolve against decisions. */
export interface TruthFile {
  readonly truth: readonly GroundTruth[];
  readonly labels: readonly Label[];
}

/**
 * Reads a ground-truth or label file, line by line (each line may be either): simulator truth
 * lines with any category names, and labels of the label contract. Throws CliError naming the
 * first bad line.
 */
export function parseTruthFile(text: string): TruthFile {
  const truth: GroundTruth[] = [];
  const labelLines: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new CliError(`truth line ${i + 1}: not JSON`);
    }
    if (typeof value === "object" && value !== null && "subject" in value) {
      // Keep the line number in errors: pad with empty lines.
      labelLines[i] = line;
      return;
    }
    const parsed = groundTruthSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CliError(`truth line ${i + 1}: ${issue?.path.join(".") || "line"}: ${issue?.message}`);
    }
    truth.push(parsed.data);
  });
  let labels: Label[] = [];
  try {
    labels = parseOutcomeFile(Array.from(labelLines, (l) => l ?? "").join("\n"), "truth");
  } catch (error) {
    if (error instanceof OutcomeFileError) throw new CliError(error.message);
    throw error;
  }
  return { truth, labels };
}

/**
 * Ground truth for labelled events (labels known at `cutoffMs`): fraud labels as attacks of their
 * category, legit labels as legitimate traffic of theirs, in the live phase, with the event's type
 * and time from its decision. Labels of events without a decision are left out (undecided).
 */
export function labelsAsTruth(
  labels: readonly Label[],
  decisions: ReadonlyMap<string, EvaluatedDecision>,
  cutoffMs: number,
): GroundTruth[] {
  const out: GroundTruth[] = [];
  for (const [eventId, outcome] of outcomesAsOf(labels, cutoffMs).outcomes) {
    const d = decisions.get(eventId);
    if (!d?.type) continue;
    const common = { eventId, type: d.type, occurredAt: d.occurredAt ?? "", phase: "live" as const };
    out.push(
      outcome.label === "fraud"
        ? { ...common, label: "attack", attack: outcome.category }
        : { ...common, label: "legit", kind: outcome.category },
    );
  }
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
    "Combined action by strength (% of events: flagged = review + challenged + blocked)",
    formatStrengthTable(report),
    "",
    "Friction and stopping power (combined decision): legitimate events and customers challenged or blocked;",
    "attacks caught by block, review, a challenge they cannot pass (chall.), and challenges they pass (passed: not a catch)",
    formatFrictionTable(report),
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
      "Join decisions with ground truth or labels and print the quality table: rules only, model only, combined; per category; false positives on legitimate traffic; flagged, challenged and blocked apart",
    )
    .requiredOption(
      "--truth <file>",
      "ground-truth NDJSON (vigil simulate, npm start, any category names) and/or labels (the label contract)",
    )
    .option("--decisions <file>", "decisions NDJSON (default: read them from the decisions table)")
    .option(
      "--replay <events>",
      "instead of stored decisions, decide these NDJSON events in process, one at a time with the shipped defaults (the sequential reference)",
    )
    .option("--decisions-out <file>", "write the decisions evaluated (with their exact features) as NDJSON")
    .option("--labels-as-of <time>", "labels known at this time count (default: now)")
    .option("--phase <phase>", "live, history or all", "live")
    .option("--json", "print the report as JSON")
    .action(
      async (opts: {
        truth: string;
        decisions?: string;
        replay?: string;
        decisionsOut?: string;
        labelsAsOf?: string;
        phase: string;
        json?: boolean;
      }) => {
        const phases: Phase[] =
          opts.phase === "all"
            ? [...PHASES]
            : PHASES.includes(opts.phase as Phase)
              ? [opts.phase as Phase]
              : [];
        if (phases.length === 0) throw new CliError("--phase must be live, history or all");
        const cutoffMs = opts.labelsAsOf ? Date.parse(opts.labelsAsOf) : Date.now();
        if (!Number.isFinite(cutoffMs)) throw new CliError(`--labels-as-of ${opts.labelsAsOf}: not a time`);
        const file = parseTruthFile(readText(opts.truth, "ground truth"));
        let decisions: ReadonlyMap<string, EvaluatedDecision>;
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
          const ids = [
            ...file.truth.filter((t) => phases.includes(t.phase)).map((t) => t.eventId),
            ...file.labels.flatMap((l) => ("eventId" in l.subject ? [l.subject.eventId] : [])),
          ];
          say(`Reading decisions of ${ids.length} events from ${target.table("decisions")}...`);
          decisions = await store.getMany(ids).finally(() => client.destroy());
        }
        const truth = [...file.truth, ...labelsAsTruth(file.labels, decisions, cutoffMs)];
        const report = evaluateQuality(truth, decisions, phases);
        if (opts.decisionsOut) {
          const lines = [...decisions.values()].map((d) => `${JSON.stringify(d)}\n`).join("");
          writeFileSync(opts.decisionsOut, lines);
          say(`Wrote ${decisions.size} decisions to ${opts.decisionsOut}.`);
        }
        if (report.decided === 0)
          throw new CliError("no decision found for any event of the ground truth", 3);
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatEvaluation(report));
      },
    );
}
