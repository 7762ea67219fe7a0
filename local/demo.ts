import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type AttributeValue, type DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { generateReport } from "#cli/report/generate-report";
import { type LocalRuntime, localFunctionsFromEnv, startLocalRuntime } from "#local/esm/local-runtime";
import { type LearningSummary, runLearningLoop } from "#local/learning-loop";
import { localSinkPaths } from "#local/local-sinks";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { replaySequentially } from "#local/replay";
import { DecisionWatcher, percentile, sendOnSchedule } from "#local/traffic-driver";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import { OUTBOX_FILE_PATTERN } from "#shared/adapters/outbox-alert-publisher";
import {
  anchorBeforeNow,
  DEFAULT_SEED,
  DEFAULT_SIMULATION,
  evaluateQuality,
  type Pacing,
  planSending,
  type QualityReport,
  type Simulation,
  scaledAttacks,
  simulate,
} from "#shared/domain/simulation/index";

/** Latency percentiles in ms. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number | undefined;
  readonly p95: number | undefined;
  readonly p99: number | undefined;
  readonly max: number | undefined;
}

/** What `npm start` measured; every number here comes from the run. */
export interface DemoSummary {
  readonly seed: number;
  readonly users: number;
  readonly pacing: Pacing;
  readonly events: { readonly history: number; readonly live: number; readonly liveAttacks: number };
  readonly put: { readonly sent: number; readonly rejected: number; readonly failed: number };
  /** Every put event with a decision in the decisions table. */
  readonly decided: number;
  /** Records the score function quarantined (a simulated event never should be). */
  readonly quarantined: number;
  /** The history backfill: put as fast as possible, from first put to last decision seen. */
  readonly backfill: { readonly events: number; readonly seconds: number };
  /** The live window: from its first put to its last decision seen. */
  readonly live: { readonly events: number; readonly seconds: number; readonly putSeconds: number };
  /** Live events, put → `decidedAt` (stamped when the score batch starts deciding). */
  readonly latencyDecided: LatencySummary;
  /** Live events, put → first poll that found the decision stored (polls every 250 ms). */
  readonly latencyReadable: LatencySummary;
  readonly quality: QualityReport;
  /**
   * The same events decided in process one at a time (`replaySequentially`): how many live
   * decisions took the same action, and the replay's own quality report.
   */
  readonly replay: {
    readonly identical: number;
    readonly differing: number;
    /** Differing decisions on attack events (the rest are on legitimate ones). */
    readonly differingOnAttacks: number;
    readonly quality: QualityReport;
  };
  readonly alerts: { readonly dir: string; readonly files: number };
  readonly audit: { readonly dir: string; readonly documents: number };
  /** The risk report (self-contained HTML) written from the audit files and quarantine table. */
  readonly report: string;
  /** Where the run's events, ground truth and decisions were written. */
  readonly files: { readonly events: string; readonly truth: string; readonly decisions: string };
  readonly invocations: Readonly<Record<string, number>>;
  readonly stackStartSeconds: number;
  /** After the live day: outcomes, a training set, a challenger, and champion vs challenger on a later day. */
  readonly learning: LearningSummary;
}

/** A snapshot for the live progress display. */
export interface DemoProgress {
  readonly phase: "backfill" | "live" | "draining";
  readonly sent: number;
  readonly total: number;
  readonly decided: number;
  readonly expected: number;
  /** Event time of the last event put (epoch ms). */
  readonly eventTime: number | undefined;
  /** Decisions per second over the last few seconds. */
  readonly decisionsPerSecond: number;
}

export interface DemoOptions {
  readonly stateDir: string;
  readonly seed?: number;
  /** Established users in the simulation (traffic grows with it). Default 800. */
  readonly users?: number;
  /** Multiplies every attack's instance count (0: no attacks). Default 1. */
  readonly attackScale?: number;
  /** How fast to send the live window. Default: a simulated day a minute. */
  readonly pacing?: Pacing;
  readonly timeoutSeconds?: number;
  readonly log: (message: string) => void;
  /** Called about once a second while traffic flows. */
  readonly progress?: (progress: DemoProgress) => void;
  /** Aborts the run (Ctrl-C): sending and waiting stop, and everything started is stopped. */
  readonly signal?: AbortSignal;
}

/** A simulated day a minute. */
export const DEMO_PACING: Pacing = { kind: "speedup", factor: 1440 };

function latency(values: readonly number[]): LatencySummary {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length === 0 ? undefined : Math.max(...values),
  };
}

/** Alert notifications in the outbox (one file each) and documents in the audit NDJSON files. */
function countSinkOutput(stateDir: string) {
  const paths = localSinkPaths(stateDir);
  const files = existsSync(paths.alertOutboxDir)
    ? readdirSync(paths.alertOutboxDir).filter((f) => OUTBOX_FILE_PATTERN.test(f)).length
    : 0;
  let documents = 0;
  if (existsSync(paths.auditDir)) {
    for (const f of readdirSync(paths.auditDir).filter((name) => name.endsWith(".ndjson"))) {
      // `_bulk` format: an action line then the document line; count the actions.
      for (const line of readFileSync(join(paths.auditDir, f), "utf8").split("\n")) {
        if (line.startsWith('{"create"')) documents++;
      }
    }
  }
  return { alerts: { dir: paths.alertOutboxDir, files }, audit: { dir: paths.auditDir, documents } };
}

/** Items in a table (a counting scan: fine for a demo's few thousand items). */
async function countItems(client: DynamoDBClient, tableName: string): Promise<number> {
  let count = 0;
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: tableName, Select: "COUNT", ExclusiveStartKey }),
    );
    count += page.Count ?? 0;
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return count;
}

function writeNdjson(path: string, rows: Iterable<unknown>): void {
  const lines: string[] = [];
  for (const row of rows) lines.push(JSON.stringify(row));
  writeFileSync(path, lines.length > 0 ? `${lines.join("\n")}\n` : "");
}

/** The simulation `npm start` runs, anchored so that its last event is a minute before `nowMs`. */
export function demoSimulation(options: { seed: number; users: number; attackScale: number }, nowMs: number) {
  const timeline = { liveHours: DEFAULT_SIMULATION.liveHours, historyDays: DEFAULT_SIMULATION.historyDays };
  return simulate({
    ...DEFAULT_SIMULATION,
    seed: options.seed,
    users: options.users,
    attacks: scaledAttacks(options.attackScale),
    startMs: anchorBeforeNow(nowMs, timeline),
  });
}

/**
 * The demo behind `npm start`: a fresh local stack with the shipped rules, lists and model, every
 * function on its event source mapping, and simulated traffic with labelled attacks: the
 * population's history as a backfill, then the live day paced (a simulated day a minute by
 * default). Waits for every decision, evaluates them against the ground truth and returns what it
 * measured. Always stops what it started.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const { log } = options;
  const stateDir = resolve(options.stateDir);
  const seed = options.seed ?? DEFAULT_SEED;
  const users = options.users ?? DEFAULT_SIMULATION.users;
  const pacing = options.pacing ?? DEMO_PACING;
  const timeoutMs = (options.timeoutSeconds ?? 240) * 1000;
  rmSync(stateDir, { recursive: true, force: true });

  const sim: Simulation = demoSimulation({ seed, users, attackScale: options.attackScale ?? 1 }, Date.now());
  const simDir = join(stateDir, "simulation");
  mkdirSync(simDir, { recursive: true });
  const files = {
    events: join(simDir, "events.ndjson"),
    truth: join(simDir, "truth.ndjson"),
    decisions: join(simDir, "decisions.ndjson"),
  };
  writeNdjson(files.events, sim.events);
  writeNdjson(files.truth, sim.truth);
  const phases = sim.truth.map((t) => t.phase);
  const history = phases.filter((p) => p === "history").length;
  const liveAttacks = sim.truth.filter((t) => t.phase === "live" && t.label === "attack").length;
  log(
    `Simulated ${sim.events.length} events (seed ${seed}, ${users} users): ${history} of history, ` +
      `${sim.events.length - history} in the live day, ${liveAttacks} of them from attacks. Ground truth: ${files.truth}`,
  );

  const stackStarted = Date.now();
  log("Starting the local stack (Kinesis Mock, DynamoDB Local)...");
  const stack: LocalStack = await startLocalStack({ stateDir, log: (m) => log(`  ${m}`) });
  let runtime: LocalRuntime | undefined;
  const kinesis = createKinesisClient({ env: stack.env });
  const dynamodb = createDynamoDbClient(stack.env);
  const watcher = new DecisionWatcher(new DynamoDbDecisionStore(dynamodb, stack.names.tables.decisions, 0));
  try {
    log("Bundling the functions and starting their Kinesis event source mappings...");
    runtime = await startLocalRuntime({
      stateDir,
      awsEnv: stack.emulators.awsEnv,
      functions: localFunctionsFromEnv(stack.env),
      log: (m) => log(`  ${m}`),
    });
    options.signal?.throwIfAborted();
    const stackStartSeconds = (Date.now() - stackStarted) / 1000;
    log(`Stack and functions up in ${stackStartSeconds.toFixed(1)} s. Sending traffic...`);

    const times = sim.events.map((e) => Date.parse(e.occurredAt));
    const schedule = planSending(times, phases, sim.timeline.liveStart, pacing);
    watcher.start();

    // Progress: decisions per second over a sliding window of recent samples.
    let phase: DemoProgress["phase"] = "backfill";
    let sentNow = 0;
    let totalNow = schedule.backfill.length;
    let eventTime: number | undefined;
    const samples: Array<{ at: number; decided: number }> = [];
    const report = () => {
      const at = Date.now();
      samples.push({ at, decided: watcher.decided });
      while (samples.length > 1 && at - (samples[0]?.at ?? at) > 5000) samples.shift();
      const first = samples[0];
      const rate = first && at > first.at ? ((watcher.decided - first.decided) * 1000) / (at - first.at) : 0;
      options.progress?.({
        phase,
        sent: sentNow,
        total: totalNow,
        decided: watcher.decided,
        expected: sim.events.length,
        eventTime,
        decisionsPerSecond: rate,
      });
    };
    const ticker = setInterval(report, 1000);
    let backfillDone = 0;
    let result: Awaited<ReturnType<typeof sendOnSchedule>>;
    let liveDone = 0;
    try {
      result = await sendOnSchedule({
        kinesis,
        streamName: stack.names.streams.events,
        events: sim.events,
        schedule,
        onSent: (ids) => watcher.expect(ids),
        signal: options.signal,
        onProgress: (p) => {
          sentNow = p.sent;
          eventTime = p.eventTime ?? eventTime;
        },
        afterBackfill: async () => {
          // Live latency should measure the pipeline, not the backfill's queue: let it drain first.
          await watcher.waitForAll(timeoutMs, options.signal);
          backfillDone = Date.now();
          phase = "live";
          sentNow = 0;
          totalNow = schedule.live.length;
        },
      });
      phase = "draining";
      await watcher.waitForAll(timeoutMs, options.signal).catch((error: Error) => {
        if (options.signal?.aborted) throw error;
        throw new Error(
          `${error.message}: see ${join(stateDir, "failures")} (records the pipeline gave up on) and the quarantine table`,
        );
      });
      liveDone = Date.now();
    } finally {
      clearInterval(ticker);
      await watcher.stop();
    }
    report();
    const seen = watcher.results();
    const live = new Map([...seen].map(([id, s]) => [id, s.decision]));
    const learning = await runLearningLoop({
      seed,
      users,
      attackScale: options.attackScale ?? 1,
      sim,
      decisions: live,
      kinesis,
      dynamodb,
      names: stack.names,
      log,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // Alert and audit consume the decisions stream: let them finish before counting their output.
    await runtime.waitUntilIdle({ timeoutMs: 120_000 });
    const stats = runtime.stats();

    writeNdjson(
      files.decisions,
      sim.events.flatMap((e) => {
        const s = seen.get(e.eventId);
        return s ? [s.decision] : [];
      }),
    );
    const decidedLatency: number[] = [];
    const readableLatency: number[] = [];
    for (const { index } of schedule.live) {
      const event = sim.events[index];
      const sentAt = result.sentAt[index] ?? Number.NaN;
      const s = event ? seen.get(event.eventId) : undefined;
      if (!s || Number.isNaN(sentAt)) continue;
      decidedLatency.push(Date.parse(s.decision.decidedAt) - sentAt);
      readableLatency.push(s.seenAt - sentAt);
    }
    const quality = evaluateQuality(sim.truth, live);
    const reference = await replaySequentially(sim.events);
    let identical = 0;
    let differingOnAttacks = 0;
    sim.truth.forEach((t) => {
      const decided = live.get(t.eventId);
      if (!decided) return;
      if (reference.get(t.eventId)?.action === decided.action) identical++;
      else if (t.label === "attack") differingOnAttacks++;
    });
    const invocations = Object.fromEntries(stats.functions.map((f) => [f.functionId, f.invocations]));
    // The same report `vigil report` writes, over the whole simulated timeline (under 7 days).
    const written = await generateReport({
      env: stack.env,
      sinceMs: 8 * 86_400_000,
      out: join(stateDir, "report.html"),
    });
    return {
      seed,
      users,
      pacing,
      events: { history, live: sim.events.length - history, liveAttacks },
      put: { sent: result.sent, rejected: result.rejected.length, failed: result.failed.length },
      decided: seen.size,
      quarantined: await countItems(dynamodb, stack.names.tables.quarantine),
      backfill: {
        events: result.backfill.events,
        seconds: result.backfill.events > 0 ? (backfillDone - result.backfill.startedAt) / 1000 : 0,
      },
      live: {
        events: result.live.events,
        seconds: (liveDone - result.live.startedAt) / 1000,
        putSeconds: (result.live.endedAt - result.live.startedAt) / 1000,
      },
      latencyDecided: latency(decidedLatency),
      latencyReadable: latency(readableLatency),
      quality,
      replay: {
        identical,
        differing: live.size - identical,
        differingOnAttacks,
        quality: evaluateQuality(sim.truth, reference),
      },
      ...countSinkOutput(stateDir),
      report: written.path,
      files,
      invocations,
      stackStartSeconds,
      learning,
    };
  } finally {
    await watcher.stop();
    kinesis.destroy();
    dynamodb.destroy();
    await runtime?.stop();
    await stack.stop();
  }
}
