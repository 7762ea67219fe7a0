import { relative } from "node:path";
import type { Command } from "commander";
import { CliError, say } from "#cli/output";
import {
  describePacing,
  formatMs,
  nonNegative,
  type PacingOptions,
  pacingFrom,
  positiveInteger,
} from "#cli/simulation-options";
import { DEMO_PACING, type DemoProgress, type DemoSummary, type LatencySummary, runDemo } from "#local/demo";
import {
  DEFAULT_SEED,
  DEFAULT_SIMULATION,
  formatActionsByType,
  formatFrictionTable,
  formatQualityTable,
  formatTopRules,
  type QualityReport,
} from "#shared/domain/simulation/index";

const indent = (text: string, by = "  ") =>
  text
    .split("\n")
    .map((l) => (l === "" ? l : `${by}${l}`))
    .join("\n");

const latencyLine = (l: LatencySummary) =>
  `p50 ${formatMs(l.p50).padStart(8)}  p95 ${formatMs(l.p95).padStart(8)}  p99 ${formatMs(l.p99).padStart(8)}  max ${formatMs(l.max).padStart(8)}  (${l.count} events)`;

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`;
const allAttacks = (q: QualityReport) => q.attacks.find((r) => r.attack === "all")?.recall.combined;
const allLegit = (q: QualityReport) => q.legit.find((r) => r.kind === "all")?.rate.combined;

const perSecond = (events: number, seconds: number) => (seconds > 0 ? (events / seconds).toFixed(0) : "–");

const shown = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") ? path : rel;
};

/** The learning loop's lines of the summary. */
function formatLearning(l: DemoSummary["learning"]): string[] {
  const d = l.dataset;
  return [
    `The learning loop (after the live day, ${l.seconds.toFixed(1)} s)`,
    `  challenge results         ${l.outcomes.challengeResults} put on the events stream, ${l.outcomes.challengeResultsDecided} decided; ${l.outcomes.challengeLabels} challenged events labelled (passed: legit, failed: fraud, abandoned: none)`,
    `  review queue              ${l.outcomes.reviewsResolved} cases resolved into review labels`,
    `  chargebacks, rings        ${l.outcomes.importedLabels} labels imported`,
    `  training set              ${d.rows} rows (${d.fraud} fraud, ${d.legit} legit of which ${d.assumedLegit} let through and never disputed) with the labels known ${l.labelsAsOf.slice(0, 10)}; ${d.unlabelledExcluded} unlabelled left out, ${d.outcomeReports} outcome reports skipped`,
    ...(l.model && l.holdout
      ? [
          `  trained                   ${l.model.version} (logistic regression, ${l.model.inputs.length} inputs chosen by cross-validation, CV AUC ${l.model.cvAuc.toFixed(3)}, ${l.model.seconds.toFixed(1)} s): ${l.model.inputs.join(", ")}`,
          `  published                 as challenger, model version ${l.published} (scored in shadow, never acting)`,
          `  holdout day               seed ${l.holdout.seed}: ${l.holdout.events} events, ${l.holdout.fraud} from attacks; champion AUC ${l.holdout.championAuc.toFixed(3)}, challenger AUC ${l.holdout.challengerAuc.toFixed(3)}`,
          `                            champion at its score bands: recall ${pct(l.holdout.champion.recall)}, false positives ${pct(l.holdout.champion.fpr)}`,
          `                            challenger at the same false-positive rate: recall ${pct(l.holdout.challenger.recall)} (false positives ${pct(l.holdout.challenger.fpr)})`,
        ]
      : ["  trained                   nothing: too few fraud or legit labels"]),
  ];
}

/** The summary `npm start` prints on stdout. */
export function formatDemoSummary(s: DemoSummary, totalSeconds: number): string {
  const lines = [
    "",
    `Vigil demo summary: seed ${s.seed}, ${s.users} users, live day sent at ${describePacing(s.pacing)}`,
    `  events put                ${s.put.sent} (${s.put.rejected} rejected by the producer, ${s.put.failed} refused by Kinesis)`,
    `                            ${s.events.history} history backfill, ${s.events.live} live day (${s.events.liveAttacks} from attacks)`,
    `  decisions stored          ${s.decided} of ${s.put.sent}`,
    `  quarantined               ${s.quarantined}`,
    `  backfill                  ${s.backfill.events} events put at once, all decided ${s.backfill.seconds.toFixed(1)} s after the first put (${perSecond(s.backfill.events, s.backfill.seconds)} events/s through the pipeline)`,
    `  live day                  ${s.live.events} events put over ${s.live.putSeconds.toFixed(1)} s (${perSecond(s.live.events, s.live.putSeconds)} events/s offered); last decision ${(s.live.seconds - s.live.putSeconds).toFixed(1)} s after the last put`,
    `  latency, live day         put -> decidedAt     ${latencyLine(s.latencyDecided)}`,
    `                            put -> readable      ${latencyLine(s.latencyReadable)}`,
    `  stack start-up            ${s.stackStartSeconds.toFixed(1)} s (engines, tables, config, bundling)`,
    `  invocations               ${Object.entries(s.invocations)
      .map(([f, n]) => `${f}=${n}`)
      .join(" ")}`,
    "",
    "Actions by scenario (live day, combined decision)",
    indent(formatActionsByType(s.quality)),
    "",
    "Detection quality (live day; flagged = any action but pass; % of events)",
    indent(formatQualityTable(s.quality)),
    "",
    "Friction and stopping power (live day, combined decision): customers challenged or blocked per kind of",
    "legitimate traffic; attacks caught by block, review, a challenge they cannot pass, and challenges they pass",
    indent(formatFrictionTable(s.quality)),
    "",
    "Top rules by hits (live day)",
    indent(formatTopRules(s.quality, 8)),
    "",
    "Live pipeline vs sequential replay (the same events decided in process one at a time, each seeing every earlier one)",
    `  same action               ${s.replay.identical} of ${s.replay.identical + s.replay.differing} events; ${s.replay.differing} differ (${s.replay.differingOnAttacks} on attack events)`,
    `  all attacks, recall       ${pct(allAttacks(s.quality))} live, ${pct(allAttacks(s.replay.quality))} replay (combined)`,
    `  legitimate, false pos.    ${pct(allLegit(s.quality))} live, ${pct(allLegit(s.replay.quality))} replay (combined)`,
    "  (differences come from the two shards deciding a burst's events in the same second: see docs/simulator.md)",
    "",
    ...formatLearning(s.learning),
    "",
    `Alerts    ${s.alerts.files} notification(s) in ${shown(s.alerts.dir)} (the SNS Publish inputs)`,
    `Audit     ${s.audit.documents} document(s) in ${shown(s.audit.dir)} (OpenSearch _bulk NDJSON; ${s.decided} events and ${s.learning.outcomes.challengeResultsDecided} challenge results)`,
    `Report    ${shown(s.report)} (vigil report: decisions, rules, scores, risky entities, quarantine)`,
    `Files     ${shown(s.files.events)}, ${shown(s.files.truth)}, ${shown(s.files.decisions)}`,
    `Again     npx vigil evaluate --truth ${shown(s.files.truth)} --decisions ${shown(s.files.decisions)}`,
    "",
    `Total run time ${totalSeconds.toFixed(1)} s`,
  ];
  return `${lines.join("\n")}\n`;
}

/** A one-line progress display: rewritten in place on a terminal, a line every 5 s otherwise. */
function progressPrinter(): { update(p: DemoProgress): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  let drawn = false;
  return {
    update(p) {
      const clock =
        p.eventTime === undefined
          ? ""
          : ` sim clock ${new Date(p.eventTime).toISOString().slice(5, 16).replace("T", " ")}Z`;
      const line = `  [${p.phase}] put ${p.sent}/${p.total}  decided ${p.decided}/${p.expected}  ${p.decisionsPerSecond.toFixed(0)} decisions/s${clock}`;
      if (tty) {
        process.stderr.write(`\r\x1b[K${line}`);
        drawn = true;
      } else if (Date.now() - lastLine >= 5000) {
        lastLine = Date.now();
        say(line);
      }
    },
    done() {
      if (drawn) process.stderr.write("\n");
      drawn = false;
    },
  };
}

/** `vigil demo` (what `npm start` runs): the whole pipeline on simulated traffic, with a summary. */
export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description(
      "Run the pipeline end to end on a fresh local stack with simulated, labelled traffic; print throughput, latency and detection quality (npm start)",
    )
    .option("--seed <n>", "simulation seed", String(DEFAULT_SEED))
    .option(
      "--users <n>",
      "established users in the simulation (traffic grows with it)",
      String(DEFAULT_SIMULATION.users),
    )
    .option("--attack-scale <x>", "multiply every attack's instance count (0: no attacks)", "1")
    .option(
      "--speedup <factor>",
      `event time per wall-clock time for the live day (default ${DEMO_PACING.kind === "speedup" ? DEMO_PACING.factor : ""}: a day a minute)`,
    )
    .option("--rate <events/s>", "send the live day at a constant rate instead")
    .option("--max-rate", "send the live day as fast as the stream takes it")
    .option("--state-dir <dir>", "where the demo's stack keeps its files (wiped first)", ".vigil/demo")
    .option(
      "--timeout <seconds>",
      "give up when decisions are still missing this long after the last put",
      "240",
    )
    .action(
      async (
        opts: PacingOptions & {
          seed: string;
          users: string;
          attackScale: string;
          stateDir: string;
          timeout: string;
        },
      ) => {
        const seed = positiveInteger(opts.seed, "--seed", 0);
        const users = positiveInteger(opts.users, "--users", 10);
        const attackScale = nonNegative(opts.attackScale, "--attack-scale");
        const pacing = pacingFrom(opts, DEMO_PACING);
        const started = Date.now();
        const printer = progressPrinter();
        // Ctrl-C stops the run cleanly: the demo's finally blocks stop the runtime and the engines.
        const interrupt = new AbortController();
        const onSignal = () => interrupt.abort(new CliError("interrupted; the local stack was stopped", 130));
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        let summary: DemoSummary;
        try {
          summary = await runDemo({
            stateDir: opts.stateDir,
            seed,
            users,
            attackScale,
            pacing,
            timeoutSeconds: positiveInteger(opts.timeout, "--timeout"),
            log: (m) => {
              printer.done();
              say(m);
            },
            progress: (p) => printer.update(p),
            signal: interrupt.signal,
          });
        } catch (error) {
          printer.done();
          if (error instanceof CliError) throw error;
          throw new CliError((error as Error).message);
        } finally {
          process.off("SIGINT", onSignal);
          process.off("SIGTERM", onSignal);
        }
        printer.done();
        process.stdout.write(formatDemoSummary(summary, (Date.now() - started) / 1000));
      },
    );
}
