import { createWriteStream, type WriteStream } from "node:fs";
import type { Command } from "commander";
import { resolveTarget } from "#cli/env";
import { CliError, say } from "#cli/output";
import {
  describePacing,
  nonNegative,
  type PacingOptions,
  pacingFrom,
  positiveInteger,
} from "#cli/simulation-options";
import { replayDecisionRecords } from "#local/replay";
import { sendOnSchedule } from "#local/traffic-driver";
import { createKinesisClient } from "#shared/adapters/aws-clients";
import {
  ATTACK_TYPES,
  ATTACK_VARIANTS,
  type AttackPlan,
  type AttackType,
  type AttackVariant,
  anchorBeforeNow,
  DEFAULT_SEED,
  DEFAULT_SIMULATION,
  outcomeLabels,
  planSending,
  RUN_MARGIN_MS,
  type SimulationConfig,
  scaledAttacks,
  simulate,
  simulateOutcomes,
  simulationConfigSchema,
} from "#shared/domain/simulation/index";

interface SimulateOptions extends PacingOptions {
  seed: string;
  users: string;
  hours: string;
  historyDays: string;
  newUsers: string;
  attackScale: string;
  attack: string[];
  start?: string;
  out: string;
  truth?: string;
  outcomes?: string;
  to: string;
}

/** `--attack coupon_farming:slow=3`: one attack plan, replacing that attack and variant's count. */
function parseAttack(text: string): AttackPlan {
  const match = /^([a-z_]+):([a-z]+)=(\d+)$/.exec(text);
  const type = match?.[1] as AttackType | undefined;
  const variant = match?.[2] as AttackVariant | undefined;
  if (!match || !type || !variant || !ATTACK_TYPES.includes(type) || !ATTACK_VARIANTS.includes(variant)) {
    throw new CliError(
      `--attack ${text}: expected <type>:<variant>=<instances>, type one of ${ATTACK_TYPES.join(", ")}, variant burst or slow`,
    );
  }
  return { type, variant, instances: Number(match[3]) };
}

/** The simulation config the options describe (start resolved by the caller). */
export function configFromOptions(opts: SimulateOptions, startMs: number): SimulationConfig {
  let attacks = scaledAttacks(nonNegative(opts.attackScale, "--attack-scale"));
  for (const plan of opts.attack.map(parseAttack)) {
    attacks = [...attacks.filter((p) => p.type !== plan.type || p.variant !== plan.variant), plan];
  }
  const parsed = simulationConfigSchema.safeParse({
    seed: positiveInteger(opts.seed, "--seed", 0),
    startMs,
    users: positiveInteger(opts.users, "--users", 10),
    liveHours: nonNegative(opts.hours, "--hours"),
    historyDays: nonNegative(opts.historyDays, "--history-days"),
    newUsersPerDay: nonNegative(opts.newUsers, "--new-users"),
    attacks,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`invalid simulation: ${issue?.path.join(".") || "config"}: ${issue?.message}`);
  }
  return parsed.data;
}

async function writeLines(stream: NodeJS.WritableStream, rows: readonly unknown[]): Promise<void> {
  for (const row of rows) {
    // Respect back-pressure so a large simulation piped to a slow reader does not pile up in memory.
    if (!stream.write(`${JSON.stringify(row)}\n`))
      await new Promise<void>((r) => stream.once("drain", () => r()));
  }
}

async function closeFile(stream: WriteStream): Promise<void> {
  await new Promise<void>((done, fail) =>
    stream.end((error?: Error | null) => (error ? fail(error) : done())),
  );
}

/** `vigil simulate`: seeded, labelled traffic to a file or onto the events stream. */
export function registerSimulateCommand(program: Command): void {
  program
    .command("simulate")
    .description(
      "Generate seeded, realistic traffic with labelled attacks; events to NDJSON or the events stream, ground truth to a side file",
    )
    .option("--seed <n>", "seed: same seed and options, same events and labels", String(DEFAULT_SEED))
    .option("--users <n>", "established users", String(DEFAULT_SIMULATION.users))
    .option("--hours <h>", "length of the live window in hours", String(DEFAULT_SIMULATION.liveHours))
    .option(
      "--history-days <d>",
      "days of history before the live window (0: cold start)",
      String(DEFAULT_SIMULATION.historyDays),
    )
    .option(
      "--new-users <share>",
      "new accounts per established user per day",
      String(DEFAULT_SIMULATION.newUsersPerDay),
    )
    .option("--attack-scale <x>", "multiply every default attack's instance count (0: none)", "1")
    .option(
      "--attack <type:variant=n>",
      "set one attack's instance count, e.g. card_testing:slow=3 (repeatable)",
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option("--start <iso>", "start of the live window (default: so that the live window ends a minute ago)")
    .option("--out <file>", "NDJSON file for the events, - for stdout (with --to file)", "-")
    .option("--truth <file>", "NDJSON file for the ground truth (default: next to --out as *.truth.ndjson)")
    .option(
      "--outcomes <file>",
      "with --to file: decide the events with the shipped defaults in process and write the labels their outcomes give (challenges, reviews, chargebacks, investigations; docs/simulator.md) to this NDJSON label file",
    )
    .option(
      "--to <target>",
      "file or stream (the events stream of the local stack or of $VIGIL_EVENTS_STREAM)",
      "file",
    )
    .option(
      "--speedup <factor>",
      "with --to stream: event time per wall-clock time for the live window (default 1440)",
    )
    .option("--rate <events/s>", "with --to stream: a constant rate instead")
    .option("--max-rate", "with --to stream: as fast as the stream takes it")
    .action(async (opts: SimulateOptions) => {
      if (opts.to !== "file" && opts.to !== "stream") throw new CliError("--to must be file or stream");
      const now = Date.now();
      const timeline = {
        liveHours: nonNegative(opts.hours, "--hours"),
        historyDays: nonNegative(opts.historyDays, "--history-days"),
      };
      let startMs: number;
      if (opts.start !== undefined) {
        startMs = Date.parse(opts.start);
        if (!Number.isFinite(startMs)) throw new CliError("--start must be an ISO-8601 date-time");
        if (opts.to === "stream") {
          // The pipeline quarantines events more than 5 min ahead of or 7 days behind arrival.
          const end = startMs + timeline.liveHours * 3_600_000;
          const oldest = startMs - timeline.historyDays * 86_400_000;
          if (end > now || oldest < now - 7 * 86_400_000 + RUN_MARGIN_MS) {
            throw new CliError(
              "--start puts events outside the pipeline's event-time bounds (at most 7 days old, never ahead of arrival); leave --start out to anchor the timeline before now",
            );
          }
        }
      } else {
        try {
          startMs = anchorBeforeNow(now, timeline);
        } catch (error) {
          throw new CliError((error as Error).message);
        }
      }
      const config = configFromOptions(opts, startMs);
      const sim = simulate(config);
      const attacks = sim.truth.filter((t) => t.label === "attack").length;
      say(
        `Simulated ${sim.events.length} events (${attacks} from attacks), live window from ${new Date(sim.timeline.liveStart).toISOString()} (pass --start ${new Date(sim.timeline.liveStart).toISOString()} to reproduce it exactly).`,
      );

      const truthPath =
        opts.truth ??
        (opts.to === "file" && opts.out !== "-"
          ? opts.out.replace(/(\.ndjson)?$/, ".truth.ndjson")
          : undefined);
      if (!truthPath)
        throw new CliError("--truth <file> is needed: the ground truth never goes inside the events");
      const truthFile = createWriteStream(truthPath);
      await writeLines(truthFile, sim.truth);
      await closeFile(truthFile);
      say(`Ground truth: ${truthPath}`);

      if (opts.outcomes !== undefined) {
        if (opts.to !== "file")
          throw new CliError("--outcomes needs --to file (on a stack, npm start simulates them)");
        const decided = await replayDecisionRecords(sim.events);
        const outcomes = simulateOutcomes({
          seed: config.seed,
          events: sim.events,
          truth: sim.truth,
          decisions: new Map(decided.map((d) => [d.eventId, d])),
        });
        const labels = outcomeLabels(outcomes);
        const labelFile = createWriteStream(opts.outcomes);
        await writeLines(labelFile, labels);
        await closeFile(labelFile);
        say(
          `Outcome labels: ${opts.outcomes} (${labels.length}: ${outcomes.challengeOutcomes.length} challenge results, ${outcomes.reviews.length} reviews, ${outcomes.labels.length} chargebacks and investigations)`,
        );
      }

      if (opts.to === "file") {
        if (opts.out === "-") {
          await writeLines(process.stdout, sim.events);
        } else {
          const out = createWriteStream(opts.out);
          await writeLines(out, sim.events);
          await closeFile(out);
          say(`Events: ${opts.out}`);
        }
        return;
      }

      const pacing = pacingFrom(opts, { kind: "speedup", factor: 1440 });
      const target = resolveTarget();
      const kinesis = createKinesisClient({ env: target.env });
      const schedule = planSending(
        sim.events.map((e) => Date.parse(e.occurredAt)),
        sim.truth.map((t) => t.phase),
        sim.timeline.liveStart,
        pacing,
      );
      say(
        `Putting ${schedule.backfill.length} history events as fast as possible, then ${schedule.live.length} live events at ${describePacing(pacing)}...`,
      );
      let lastSaid = 0;
      const result = await sendOnSchedule({
        kinesis,
        streamName: target.stream("events"),
        events: sim.events,
        schedule,
        onProgress: (p) => {
          if (Date.now() - lastSaid < 5000 && p.sent < p.total) return;
          lastSaid = Date.now();
          say(`  [${p.phase}] put ${p.sent}/${p.total}`);
        },
      }).finally(() => kinesis.destroy());
      for (const r of result.rejected) say(`  ${r.eventId}: rejected, ${r.reason}: ${r.message}`);
      for (const f of result.failed)
        say(`  ${f.eventId}: not accepted by Kinesis, ${f.errorCode}: ${f.errorMessage}`);
      process.stdout.write(
        `${JSON.stringify({
          events: sim.events.length,
          sent: result.sent,
          rejected: result.rejected.length,
          failed: result.failed.length,
          backfillSeconds: (result.backfill.endedAt - result.backfill.startedAt) / 1000,
          liveSeconds: (result.live.endedAt - result.live.startedAt) / 1000,
          truth: truthPath,
        })}\n`,
      );
      if (result.rejected.length > 0 || result.failed.length > 0) {
        throw new CliError(`${result.rejected.length} rejected and ${result.failed.length} not accepted`);
      }
    });
}
