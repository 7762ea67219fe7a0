import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { configStore } from "#cli/config-command";
import { currentDocument } from "#cli/config-operations";
import { exportDataset, groupLabels } from "#cli/dataset-export";
import { resolveTarget } from "#cli/env";
import { CliError, say } from "#cli/output";
import { replayDecisionRecords } from "#local/replay";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbDecisionScan } from "#shared/adapters/dynamodb-decision-scan";
import { DynamoDbLabelStore } from "#shared/adapters/dynamodb-label-store";
import { compileFeatureDocument } from "#shared/domain/decision/index";
import { type CleanEvent, decodeRecord } from "#shared/domain/event/index";
import { DEFAULT_FEATURE_SET, type NormalizedFeature, parseDuration } from "#shared/domain/features/index";
import { type Label, parseLabelFile, subjectKey } from "#shared/domain/labels/index";
import { parseGroundTruth, truthLabels } from "#shared/domain/simulation/index";
import type { DatasetDecision, UnlabelledPolicy } from "#shared/domain/training/dataset";

/** Exit code of invalid input. */
const INVALID = 2;

/** A time option: ISO-8601, `now`, or a duration before now (`30d`). */
export function timeOption(name: string, text: string, nowMs: number): number {
  if (text === "now") return nowMs;
  const span = parseDuration(text);
  if (span !== undefined) return nowMs - span;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new CliError(`${name} ${text}: ISO-8601, now, or a duration like 30d`, INVALID);
  return ms;
}

function readLines(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`, INVALID);
  }
}

/** Events of an NDJSON file, each decoded as the pipeline would (a bad line is an error here). */
export function readEventFile(path: string): CleanEvent[] {
  const out: CleanEvent[] = [];
  readLines(path)
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      const decoded = decodeRecord(new TextEncoder().encode(line), {
        arrivalTime: new Date(Date.parse((JSON.parse(line) as { occurredAt: string }).occurredAt)),
      });
      if (!decoded.ok) throw new CliError(`${path}:${i + 1}: ${decoded.reason}: ${decoded.message}`, INVALID);
      out.push(decoded.event);
    });
  return out;
}

/** Labels of NDJSON label files (all or nothing, like `labels import`). */
export function readLabelFiles(paths: readonly string[]): Label[] {
  const out: Label[] = [];
  for (const path of paths) {
    const parsed = parseLabelFile(readLines(path), "ndjson");
    const [first] = parsed.errors;
    if (first) throw new CliError(`${path}:${first.line}: ${first.message}`, INVALID);
    out.push(...parsed.labels.map((l) => l.label));
  }
  return out;
}

function definitionsOf(document: unknown): Map<string, NormalizedFeature> {
  return new Map(compileFeatureDocument(document).features.map((f) => [f.id, f.normalized]));
}

interface ExportOptions {
  out: string;
  from?: string;
  to?: string;
  labelsAsOf: string;
  unlabelled: string;
  legitAfter: string;
  sampleLegit: string;
  replay?: string;
  labels?: string[];
  truth?: string;
}

/** `vigil dataset export`: point-in-time training sets. */
export function registerDatasetCommands(program: Command): void {
  const dataset = program
    .command("dataset")
    .description(
      "Point-in-time training sets: decisions joined with the labels known at a cutoff (docs/training.md)",
    );

  dataset
    .command("export")
    .description(
      "Join stored decisions (their exact feature values and event fields) with the labels known at --labels-as-of; writes <out>.ndjson, <out>.csv and <out>.dictionary.json",
    )
    .requiredOption("--out <base>", "output path without extension")
    .option(
      "--from <time>",
      "only events that occurred at or after this (ISO-8601 or a duration ago, e.g. 30d)",
    )
    .option("--to <time>", "only events that occurred before this")
    .option(
      "--labels-as-of <time>",
      "the cutoff: labels observed later are ignored, later decisions left out",
      "now",
    )
    .option("--unlabelled <policy>", "exclude | assume-legit (unlabelled at the cutoff)", "exclude")
    .option(
      "--legit-after <duration>",
      "with assume-legit: only events at least this old at the cutoff",
      "30d",
    )
    .option("--sample-legit <rate>", "with assume-legit: keep this share of them (by eventId hash)", "1")
    .option(
      "--replay <events.ndjson>",
      "decide these events in process (shipped defaults) instead of reading the decisions table",
    )
    .option("--labels <files...>", "NDJSON label files instead of the labels table")
    .option(
      "--truth <truth.ndjson>",
      "a simulation's ground truth as labels (complete labels, for a holdout)",
    )
    .action(async (opts: ExportOptions) => {
      const now = Date.now();
      const labelsAsOfMs = timeOption("--labels-as-of", opts.labelsAsOf, now);
      const fromMs = opts.from === undefined ? undefined : timeOption("--from", opts.from, now);
      const toMs = opts.to === undefined ? undefined : timeOption("--to", opts.to, now);
      let unlabelled: UnlabelledPolicy;
      if (opts.unlabelled === "exclude") unlabelled = { kind: "exclude" };
      else if (opts.unlabelled === "assume-legit") {
        const minAgeMs = parseDuration(opts.legitAfter);
        const sampleRate = Number(opts.sampleLegit);
        if (minAgeMs === undefined)
          throw new CliError(`--legit-after ${opts.legitAfter}: a duration`, INVALID);
        if (!(sampleRate > 0 && sampleRate <= 1))
          throw new CliError("--sample-legit: a rate in (0, 1]", INVALID);
        unlabelled = { kind: "assume-legit", minAgeMs, ...(sampleRate < 1 ? { sampleRate } : {}) };
      } else throw new CliError("--unlabelled: exclude or assume-legit", INVALID);

      let decisions: DatasetDecision[];
      let decisionSource: string;
      let definitions: Map<string, NormalizedFeature>;
      let target: ReturnType<typeof resolveTarget> | undefined;
      const table = () => {
        target ??= resolveTarget();
        return target;
      };
      if (opts.replay) {
        decisions = await replayDecisionRecords(readEventFile(opts.replay));
        decisionSource = `replay of ${opts.replay} with the shipped defaults`;
        definitions = definitionsOf(DEFAULT_FEATURE_SET);
      } else {
        const t = table();
        decisions = [];
        for await (const d of new DynamoDbDecisionScan(
          createDynamoDbClient(t.env),
          t.table("decisions"),
        ).scan({
          ...(fromMs === undefined ? {} : { occurredFrom: new Date(fromMs).toISOString() }),
          ...(toMs === undefined ? {} : { occurredTo: new Date(toMs).toISOString() }),
        }))
          decisions.push(d);
        decisionSource = `decisions table ${t.table("decisions")}`;
        const features = await currentDocument(configStore(), "features");
        definitions = definitionsOf(features.document ?? DEFAULT_FEATURE_SET);
      }

      let labels: Label[];
      let labelSource: string;
      if (opts.truth || opts.labels) {
        labels = [
          ...(opts.truth ? truthLabels(parseGroundTruth(readLines(opts.truth))) : []),
          ...readLabelFiles(opts.labels ?? []),
        ];
        labelSource = [opts.truth ? `ground truth ${opts.truth}` : "", ...(opts.labels ?? [])]
          .filter(Boolean)
          .join(", ");
      } else {
        const t = table();
        labels = [];
        for await (const l of new DynamoDbLabelStore(createDynamoDbClient(t.env), t.table("labels")).all())
          labels.push(l);
        labelSource = `labels table ${t.table("labels")}`;
      }

      const { files, dataset: built } = exportDataset({
        decisions,
        labels: groupLabels(labels, (l) => subjectKey(l.subject)),
        options: {
          labelsAsOfMs,
          ...(fromMs === undefined ? {} : { fromMs }),
          ...(toMs === undefined ? {} : { toMs }),
          unlabelled,
        },
        sources: { decisions: decisionSource, labels: labelSource },
        definitions,
        base: opts.out,
        createdAt: new Date(now).toISOString(),
      });
      const s = built.summary;
      say(
        `Exported ${s.rows} rows (${s.fraud} fraud, ${s.legit} legit, ${s.assumedLegit} of them assumed) from ${s.decisions} decisions; ` +
          `${s.unlabelledExcluded} unlabelled left out, ${s.outsideWindow} outside the window, ${s.labelsAfterCutoff} labels after the cutoff ignored.`,
      );
      say(`  ${files.ndjson}\n  ${files.csv}\n  ${files.dictionary}`);
      process.stdout.write(`${JSON.stringify({ files, summary: s })}\n`);
    });
}
