import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import {
  changeOptions,
  configStore,
  printVersions,
  readFile,
  runConfigCommand,
  versionOption,
  withChangeFlags,
} from "#cli/config-command";
import { currentDocument, rollback } from "#cli/config-operations";
import { groupLabels } from "#cli/dataset-export";
import { resolveTarget } from "#cli/env";
import {
  type ChallengerReport,
  type Comparison,
  challengerReport,
  compareScores,
  ModelFileError,
  policiesOf,
  publishModel,
  readDatasetFile,
  readDictionary,
  readModelFile,
  scoreRows,
} from "#cli/model-operations";
import { CliError, say } from "#cli/output";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { defaultDocuments } from "#shared/adapters/config-files";
import { DynamoDbDecisionScan } from "#shared/adapters/dynamodb-decision-scan";
import { DynamoDbLabelStore } from "#shared/adapters/dynamodb-label-store";
import type { AnyModelArtifact } from "#shared/domain/decision/model/model-schema";
import { parseDuration } from "#shared/domain/features/index";
import { type Label, subjectKey } from "#shared/domain/labels/index";
import type { DatasetRow } from "#shared/domain/training/dataset";
import { evaluateScores, type ModelEvaluation, type OperatingPoint } from "#shared/domain/training/metrics";
import { timeOrderedSplit, trainModel } from "#shared/domain/training/train";
import type { DecisionRecord } from "#shared/ports/decision-store";

const INVALID = 2;

const pct = (x: number | null) => (x === null ? "    –" : (100 * x).toFixed(1).padStart(5));

async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (error instanceof ModelFileError) throw new CliError(error.message, INVALID);
    throw error;
  }
}

/** The rows a command evaluates on: all of a dataset, or its latest `holdout` share (train's split). */
function evaluationRows(dataset: string, holdout: string | undefined): DatasetRow[] {
  const { rows } = readDatasetFile(dataset);
  if (holdout === undefined) return rows;
  const share = Number(holdout);
  if (!(share > 0 && share < 1)) throw new CliError("--holdout: a share in (0, 1)", INVALID);
  return timeOrderedSplit(rows, share).holdout;
}

/** The policies evaluation uses: a rules file's, or the shipped rules'. */
function policiesFrom(rulesFile: string | undefined) {
  return policiesOf(rulesFile ? readFile(rulesFile).document : defaultDocuments().rules);
}

function describe(a: AnyModelArtifact): string {
  return `${a.id} ${a.version} (${a.format === "vigil.tree-ensemble/v1" ? `${a.trees.length} trees` : `${a.terms.length} terms`})`;
}

function pointLine(label: string, p: OperatingPoint): string {
  return `${label.padEnd(26)} ${String(p.flagged).padStart(6)} ${pct(p.precision)}  ${pct(p.recall)}  ${pct(p.fpr)}`;
}

/** The evaluation as text. */
export function formatEvaluation(name: string, e: ModelEvaluation): string {
  const lines = [
    `${name}: ${e.examples} examples, ${e.fraud} fraud; AUC ${e.auc.toFixed(4)}, log loss ${e.logLoss.toFixed(4)}`,
    "",
    `${"operating point".padEnd(26)} ${"flagged".padStart(6)}  prec. recall   FPR  (percent)`,
    pointLine("policy bands (per scenario)", e.policy),
    ...e.thresholds.map((p) => pointLine(`score >= ${p.threshold}`, p)),
    "",
    `actions from the bands: ${Object.entries(e.policy.byAction)
      .map(([a, n]) => `${a} ${n}`)
      .join(", ")}`,
    "",
    "precision-recall curve (score >= t):",
    ...e.prCurve.map(
      (p) =>
        `  t ${(p.threshold ?? 0).toFixed(4)}  precision ${pct(p.precision)}  recall ${pct(p.recall)}  FPR ${pct(p.fpr)}`,
    ),
    "",
    "calibration (equal-count bins): mean score -> observed fraud rate",
    ...e.calibration.map((b) => `  ${b.meanScore.toFixed(4)} -> ${b.fraudRate.toFixed(4)}  (${b.count})`),
    "",
    "by label category (flagged by the policy bands: recall for fraud, FPR for legit):",
    ...e.byCategory.map(
      (c) =>
        `  ${(c.label === 1 ? "fraud " : "legit ") + c.category.padEnd(34)} ${String(c.events).padStart(6)}  ${pct(c.rate)}`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

/** The comparison as text. */
export function formatComparison(nameA: string, nameB: string, c: Comparison): string {
  const row = (label: string, a: string, b: string) =>
    `${label.padEnd(34)} ${a.padStart(12)} ${b.padStart(12)}`;
  const lines = [
    row("", "A", "B"),
    `A: ${nameA}`,
    `B: ${nameB}`,
    row("examples (fraud)", `${c.a.examples} (${c.a.fraud})`, `${c.b.examples} (${c.b.fraud})`),
    row("AUC", c.a.auc.toFixed(4), c.b.auc.toFixed(4)),
    row("log loss", c.a.logLoss.toFixed(4), c.b.logLoss.toFixed(4)),
    row("policy bands: recall %", pct(c.a.policy.recall), pct(c.b.policy.recall)),
    row("policy bands: FPR %", pct(c.a.policy.fpr), pct(c.b.policy.fpr)),
    row("policy bands: precision %", pct(c.a.policy.precision), pct(c.b.policy.precision)),
    "",
    `At A's false-positive rate (${pct(c.atFprOfA.fpr).trim()}%): recall A ${pct(c.atFprOfA.a.recall).trim()}%, B ${pct(c.atFprOfA.b.recall).trim()}% (B's threshold ${c.atFprOfA.b.threshold?.toFixed(4) ?? "none"}, FPR ${pct(c.atFprOfA.b.fpr).trim()}%)`,
    `At B's false-positive rate (${pct(c.atFprOfB.fpr).trim()}%): recall A ${pct(c.atFprOfB.a.recall).trim()}%, B ${pct(c.atFprOfB.b.recall).trim()}%`,
    "",
    "recall by fraud category at the policy bands (A, B):",
    ...c.a.byCategory
      .filter((r) => r.label === 1)
      .map((r) => {
        const other = c.b.byCategory.find((x) => x.label === 1 && x.category === r.category);
        return `  ${r.category.padEnd(34)} ${String(r.events).padStart(5)} ${pct(r.rate)} ${pct(other?.rate ?? null)}`;
      }),
  ];
  return `${lines.join("\n")}\n`;
}

/** The report as text. */
export function formatReport(r: ChallengerReport): string {
  const head = `champion ${r.champion ?? "-"}, challenger ${r.challenger ?? "-"}: ${r.decisions} decisions scored by both, ${r.labelled} labelled (${r.fraud} fraud)`;
  if (!r.comparison) return `${head}\nNot enough labels to compare yet (need fraud and legit labels).\n`;
  const c = r.comparison;
  const verdict =
    (r.extraCaught ?? 0) > 0
      ? `Promoting the challenger would have caught ${r.extraCaught} more of ${r.fraud} labelled frauds at the champion's false-positive rate.`
      : `Promoting the challenger would not have caught more at the champion's false-positive rate (${r.extraCaught} difference).`;
  return `${head}\n\n${formatComparison(`champion ${r.champion}`, `challenger ${r.challenger}`, c)}\n${verdict}\n`;
}

/** `vigil model train|evaluate|compare|publish|report|versions|rollback`. */
export function registerModelCommands(program: Command): void {
  const model = program
    .command("model")
    .description(
      "Train, evaluate, compare and publish models; champion against challenger (docs/training.md)",
    );

  model
    .command("train")
    .description("Train a model on a training set (vigil dataset export) and write its artifact")
    .requiredOption(
      "--dataset <file>",
      "training set NDJSON (its .dictionary.json beside it is read when present)",
    )
    .requiredOption("--out <file>", "where to write the artifact (JSON)")
    .option("--algorithm <name>", "lr | tree-ensemble", "lr")
    .option("--id <id>", "artifact id", "vigil-trained")
    .option("--version <v>", "artifact version (default: the algorithm and the time)")
    .option("--holdout <share>", "latest share of rows held out for the recorded metrics", "0.2")
    .option("--folds <n>", "cross-validation blocks", "4")
    .option("--class-weight <w>", "weight of a fraud row: balanced or a number", "balanced")
    .option("--base-rate <p>", "lr: calibrate scores to this production fraud rate")
    .option("--trees <n>", "tree-ensemble: number of trees, a power of two", "64")
    .option("--seed <n>", "seed", "1")
    .action(
      (opts: {
        dataset: string;
        out: string;
        algorithm: string;
        id: string;
        version?: string;
        holdout: string;
        folds: string;
        classWeight: string;
        baseRate?: string;
        trees: string;
        seed: string;
      }) =>
        run(async () => {
          if (opts.algorithm !== "lr" && opts.algorithm !== "tree-ensemble")
            throw new CliError("--algorithm: lr or tree-ensemble", INVALID);
          const { rows, featureIds } = readDatasetFile(opts.dataset);
          const dictionary = readDictionary(opts.dataset);
          const now = new Date();
          const started = Date.now();
          const result = trainModel(rows, featureIds, {
            algorithm: opts.algorithm,
            id: opts.id,
            version:
              opts.version ?? `${opts.algorithm}-${now.toISOString().replace(/[-:]/g, "").slice(0, 15)}`,
            createdAt: now.toISOString(),
            data: `${rows.length} rows of ${opts.dataset}${dictionary ? ` (export ${dictionary.text})` : ""}`.slice(
              0,
              2000,
            ),
            holdoutShare: Number(opts.holdout),
            folds: Number(opts.folds),
            positiveWeight: opts.classWeight === "balanced" ? "balanced" : Number(opts.classWeight),
            ...(opts.baseRate === undefined ? {} : { baseRate: Number(opts.baseRate) }),
            seed: Number(opts.seed),
            trees: Number(opts.trees),
            ...(dictionary ? { aggregations: dictionary.aggregations } : {}),
          });
          writeFileSync(opts.out, `${JSON.stringify(result.artifact, null, 2)}\n`);
          const m = result.artifact.provenance.metrics ?? {};
          say(
            `Trained ${describe(result.artifact)} on ${result.train.length} rows in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
              `inputs ${result.selected.join(", ")}; cross-validated AUC ${result.cvAuc.toFixed(4)}; ` +
              `holdout (${result.holdout.length} latest rows) AUC ${m.holdoutAuc}, recall ${m.holdoutRecallAt05} and FPR ${m.holdoutFprAt05} at score >= 0.5.`,
          );
          say(`Artifact: ${opts.out}`);
          process.stdout.write(
            `${JSON.stringify({ artifact: opts.out, id: result.artifact.id, version: result.artifact.version, metrics: m })}\n`,
          );
        }),
    );

  model
    .command("evaluate")
    .description(
      "Precision, recall and FPR at the policy's score bands, the precision-recall curve, AUC, calibration and per label category, on a training set",
    )
    .argument("<model>", "an artifact or a model document (its active model)")
    .requiredOption("--dataset <file>", "rows to evaluate on (NDJSON of vigil dataset export)")
    .option("--holdout <share>", "evaluate only the latest share of the rows (the split train holds out)")
    .option("--rules <file>", "whose policy bands to apply (default: the shipped rules)")
    .option("--json", "the evaluation as JSON")
    .action((file: string, opts: { dataset: string; holdout?: string; rules?: string; json?: boolean }) =>
      run(async () => {
        const artifact = readModelFile(file);
        const evaluation = evaluateScores(
          scoreRows(artifact, evaluationRows(opts.dataset, opts.holdout)),
          policiesFrom(opts.rules),
        );
        process.stdout.write(
          opts.json ? `${JSON.stringify(evaluation)}\n` : formatEvaluation(describe(artifact), evaluation),
        );
      }),
    );

  model
    .command("compare")
    .description(
      "Two models side by side on the same rows, and each one's recall at the other's false-positive rate",
    )
    .argument("<a>", "model A: an artifact or a model document (its active model)")
    .argument("<b>", "model B")
    .requiredOption("--dataset <file>", "rows to compare on (a holdout: NDJSON of vigil dataset export)")
    .option("--holdout <share>", "compare only on the latest share of the rows")
    .option("--rules <file>", "whose policy bands to apply (default: the shipped rules)")
    .option("--json", "the comparison as JSON")
    .action(
      (
        fileA: string,
        fileB: string,
        opts: { dataset: string; holdout?: string; rules?: string; json?: boolean },
      ) =>
        run(async () => {
          const a = readModelFile(fileA);
          const b = readModelFile(fileB);
          const rows = evaluationRows(opts.dataset, opts.holdout);
          const comparison = compareScores(scoreRows(a, rows), scoreRows(b, rows), policiesFrom(opts.rules));
          process.stdout.write(
            opts.json
              ? `${JSON.stringify(comparison)}\n`
              : formatComparison(describe(a), describe(b), comparison),
          );
        }),
    );

  withChangeFlags(
    model
      .command("publish")
      .description(
        "Publish an artifact as a new model version: --as challenger (shadow: scored and recorded, never acting) or --as champion (active)",
      )
      .argument("<artifact>", "the artifact (JSON) to publish")
      .requiredOption("--as <role>", "challenger | champion"),
  ).action((file: string, opts: { as: string; author: string; comment?: string; expectVersion?: string }) =>
    runConfigCommand(() =>
      run(async () => {
        if (opts.as !== "challenger" && opts.as !== "champion")
          throw new CliError("--as: challenger or champion", INVALID);
        const artifact = readModelFile(file);
        const { info } = await publishModel(configStore(), artifact, opts.as, changeOptions(opts));
        say(
          `Published ${describe(artifact)} as ${opts.as}: model version ${info.version} (by ${info.author}).`,
        );
        process.stdout.write(
          `${JSON.stringify({ version: info.version, as: opts.as, model: artifact.version })}\n`,
        );
      }),
    ),
  );

  model
    .command("report")
    .description(
      "Champion against challenger on the decisions both scored since --since, with the labels known now: would promoting the challenger have caught more at the same false-positive rate?",
    )
    .option("--since <duration>", "decisions of the last ... (e.g. 7d)", "7d")
    .option("--json", "the report as JSON")
    .action((opts: { since: string; json?: boolean }) =>
      run(async () => {
        const span = parseDuration(opts.since);
        if (span === undefined) throw new CliError(`--since ${opts.since}: a duration like 7d`, INVALID);
        const now = Date.now();
        const target = resolveTarget();
        const client = createDynamoDbClient(target.env);
        const decisions: DecisionRecord[] = [];
        for await (const d of new DynamoDbDecisionScan(client, target.table("decisions")).scan({
          decidedFrom: new Date(now - span).toISOString(),
        }))
          decisions.push(d);
        const labels: Label[] = [];
        for await (const l of new DynamoDbLabelStore(client, target.table("labels")).all()) labels.push(l);
        const rules = await currentDocument(configStore(), "rules");
        const report = challengerReport(
          decisions,
          groupLabels(labels, (l) => subjectKey(l.subject)),
          policiesOf(rules.document ?? defaultDocuments().rules),
          now,
        );
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatReport(report));
      }),
    );

  model
    .command("versions")
    .description("Model document versions, newest first, marking the one in force")
    .option("--limit <n>", "at most this many", "20")
    .option("--json", "one JSON object per line")
    .action((opts: { limit: string; json?: boolean }) =>
      runConfigCommand(() => printVersions(configStore(), "model", opts)),
    );

  withChangeFlags(
    model
      .command("rollback")
      .description(
        "Restore an earlier model version exactly, as a new version (checked against the feature set in force)",
      )
      .requiredOption("--to <n>", "the version to restore"),
  ).action((opts: { to: string; author: string; comment?: string; expectVersion?: string }) =>
    runConfigCommand(async () => {
      const to = versionOption(opts.to, "--to") as number;
      const info = await rollback(configStore(), "model", to, changeOptions(opts));
      say(`Model version ${info.version} restores version ${to}.`);
    }),
  );
}
