import { createHash } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";
import { localFunctionsFromEnv } from "#local/esm/local-runtime";
import type { LocalStack } from "#local/local-stack";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { DynamoDbReceiptLedger } from "#shared/adapters/dynamodb-receipt-ledger";
import { putRecords } from "#shared/adapters/kinesis-producer";
import type { CrashArm } from "#shared/adapters/stage-marker-file";
import type { ShardLedger } from "#shared/ports/receipt-ledger";
import type { Stage } from "#shared/ports/stage-probe";
import { type RuntimeExit, type RuntimeProcess, spawnRuntime } from "./runtime-process.ts";
import {
  cleanEventOf,
  materialize,
  type PutRecord,
  planTraffic,
  seededRandom,
  type TrafficShape,
} from "./traffic.ts";

/**
 * How a kill is delivered: armed on a stage marker of the score function (the process kills
 * itself right after writing it) or by the test at a random moment.
 */
export type KillPlan = { readonly kind: "armed"; readonly stage: Stage } | { readonly kind: "random" };

/** The kill schedule: armed kills on each window's entry stage in turn, and random ones between. */
export const KILL_CYCLE: readonly KillPlan[] = [
  { kind: "armed", stage: "stored" },
  { kind: "armed", stage: "committed" },
  { kind: "armed", stage: "published" },
  { kind: "random" },
  { kind: "armed", stage: "returned" },
  { kind: "random" },
];

/** One SIGKILL of the runtime process, as it happened. */
export interface KillRecord {
  readonly pid: number;
  readonly plan: KillPlan;
  readonly startedAt: number;
  /** When the kill was asked for: the arm file written, or the signal sent. */
  readonly requestedAt: number;
  readonly exit: RuntimeExit;
  /** Records settled (score's receipt ledger) when the kill was asked for. */
  readonly progress: number;
}

/** Options of {@link runCrashScenario}. */
export interface CrashRunOptions {
  readonly stack: LocalStack;
  /** The runtime's own state directory (checkpoints, bundles, failures, function logs). */
  readonly runtimeDir: string;
  readonly events: number;
  readonly kills: number;
  readonly seed: number;
  readonly shape: TrafficShape;
  /** Records put per PutRecords call. Default 250. */
  readonly chunk?: number;
  /** Records put and not yet settled that the producer lets pile up. Default 2,000. */
  readonly backlog?: number;
  /**
   * The Kinesis endpoint the producer and the runtime's functions and pollers call (default: the
   * stack's Kinesis Mock). The crash test puts the PutRecords splitter here
   * (local/put-records-splitter.ts).
   */
  readonly kinesisEndpoint?: string;
  readonly log?: (message: string) => void;
}

/** What a crash run did: every record put, every kill, and where the markers are. */
export interface CrashRun {
  readonly records: readonly PutRecord[];
  readonly kills: readonly KillRecord[];
  readonly markersFile: string;
  readonly shardIds: readonly string[];
  /** The receipt ledger of each events shard at the end. */
  readonly ledger: ReadonlyMap<string, ShardLedger | undefined>;
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** The shard index a partition key hashes to (Kinesis: MD5 of the key within the shards' hash ranges). */
export async function shardMap(
  kinesis: KinesisClient,
  stream: string,
): Promise<{ shardIds: string[]; shardOf: (key: string) => number }> {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
  const ranges = Shards.map((s) => ({
    id: s.ShardId ?? "",
    low: BigInt(s.HashKeyRange?.StartingHashKey ?? "0"),
    high: BigInt(s.HashKeyRange?.EndingHashKey ?? "0"),
  }));
  return {
    shardIds: ranges.map((r) => r.id),
    shardOf: (key) => {
      const h = BigInt(`0x${createHash("md5").update(key).digest("hex")}`);
      return ranges.findIndex((r) => h >= r.low && h <= r.high);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The crash test's run: a producer puts the planned traffic on the events stream, paced so that
 * no more than `backlog` records wait, while the local runtime (score, alert and audit, as one
 * process) is killed `kills` times with SIGKILL, at evenly spread points of the run's progress,
 * each kill armed on a stage marker or sent at a random moment ({@link KILL_CYCLE}), and started
 * again; a last runtime then runs until every record is settled and every consumer has caught up,
 * and is stopped with SIGTERM.
 */
export async function runCrashScenario(options: CrashRunOptions): Promise<CrashRun> {
  const { stack, runtimeDir, shape, seed } = options;
  const log = options.log ?? (() => {});
  const chunkSize = options.chunk ?? 250;
  const backlogLimit = options.backlog ?? 2000;
  const viaKinesis: Record<string, string> = options.kinesisEndpoint
    ? { AWS_ENDPOINT_URL_KINESIS: options.kinesisEndpoint }
    : {};
  const kinesis = createKinesisClient({ env: { ...stack.env, ...viaKinesis } });
  const dynamodb = createDynamoDbClient(stack.env);
  const stream = stack.names.streams.events;
  const { shardIds, shardOf } = await shardMap(kinesis, stream);
  const ledger = new DynamoDbReceiptLedger(dynamodb, stack.names.tables.decisions, 0);
  const readLedger = async () =>
    new Map(
      await Promise.all(
        shardIds.map(async (id) => [id, await ledger.read({ stream, shardId: id })] as const),
      ),
    );
  const settled = async () => {
    let n = 0;
    for (const t of (await readLedger()).values())
      n += (t?.decided ?? 0) + (t?.quarantined ?? 0) + (t?.duplicates ?? 0);
    return n;
  };

  const markersFile = join(runtimeDir, "stage-markers.ndjson");
  const crashArmFile = join(runtimeDir, "crash-arm.json");
  const configPath = join(runtimeDir, "runtime.json");
  const config = {
    stateDir: runtimeDir,
    awsEnv: { ...stack.emulators.awsEnv, ...viaKinesis },
    functions: localFunctionsFromEnv({ ...stack.env, ...viaKinesis }),
    timing: { idlePollMinMs: 500, idlePollMaxMs: 1000 },
    exitWithParent: true,
    stageMarkers: { file: markersFile, crashArmFile },
  };
  writeFileSync(configPath, JSON.stringify(config));

  const slots = planTraffic(options.events, shape, seed);
  const total = slots.length;
  const records: PutRecord[] = [];
  const startedAt = Date.now();

  // The producer: chunks put as the runtime keeps up, whatever state the runtime is in.
  let produced = 0;
  let producerError: unknown;
  const producer = (async () => {
    const sent = new Map<number, { data: Uint8Array; partitionKey: string }>();
    const eventIds = new Map<number, string>();
    for (let start = 0, chunk = 0; start < slots.length; start += chunkSize, chunk++) {
      while (produced - (await settled()) > backlogLimit) await sleep(250);
      const now = Date.now();
      const outgoing = materialize(
        slots.slice(start, start + chunkSize),
        now,
        chunk,
        shape,
        seed,
        shardOf,
        sent,
      );
      const put = await putRecords(kinesis, stream, outgoing);
      if (put.failed.length > 0) throw new Error(`Kinesis refused ${put.failed.length} records`);
      for (const p of put.placed) {
        const o = outgoing[p.index];
        if (!o) throw new Error("a placed record that was not sent");
        const at = {
          shardId: p.shardId,
          sequenceNumber: p.sequenceNumber,
          partitionKey: o.partitionKey,
          data: o.data,
        };
        if (o.slot.kind === "event") {
          const event = cleanEventOf(o.data, new Date(now));
          eventIds.set(o.slot.index, event.eventId);
          records.push({ ...at, kind: "event", index: o.slot.index, event });
        } else if (o.slot.kind === "resend") {
          const eventId = eventIds.get(o.slot.of);
          if (eventId === undefined) throw new Error("a re-send whose original was not put");
          records.push({ ...at, kind: "resend", of: o.slot.of, eventId });
        } else if (o.hostile) {
          records.push({
            ...at,
            kind: "hostile",
            kindName: o.hostile.kindName,
            expectedReason: o.hostile.expectedReason,
          });
        }
      }
      produced += outgoing.length;
    }
  })().catch((error: unknown) => {
    producerError = error;
  });

  const rnd = seededRandom(seed ^ 0x5eed);
  const kills: KillRecord[] = [];
  const live: RuntimeProcess[] = [];
  try {
    for (let i = 0; i < options.kills; i++) {
      const plan = KILL_CYCLE[i % KILL_CYCLE.length] ?? { kind: "random" };
      rmSync(crashArmFile, { force: true });
      const runtime = spawnRuntime(configPath);
      live.push(runtime);
      await runtime.waitFor("started", 300_000);
      // Kill i comes at i/(K+1) of the run, and only after this process has settled some records
      // itself (when an earlier kill came late, the run may already be past the point).
      const atStart = await settled();
      const threshold = Math.max(
        Math.floor((total * (i + 1)) / (options.kills + 1)),
        atStart + Math.min(100, Math.floor((total - atStart) / 2)),
      );
      let progress = atStart;
      while (progress < threshold) {
        if (producerError) throw producerError;
        await sleep(300);
        progress = await settled();
      }
      const requestedAt = Date.now();
      if (plan.kind === "armed") {
        const arm: CrashArm = { fn: "Score", stage: plan.stage };
        writeFileSync(`${crashArmFile}.tmp`, JSON.stringify(arm));
        renameSync(`${crashArmFile}.tmp`, crashArmFile);
        // The next score batch that does something at that stage ends the process.
        const timeout = sleep(300_000).then(() => "timeout" as const);
        if ((await Promise.race([runtime.exited, timeout])) === "timeout") {
          throw new Error(`the runtime never reached an armed "${plan.stage}" marker`);
        }
      } else {
        await sleep(Math.floor(rnd() * 2000));
        runtime.child.kill("SIGKILL");
      }
      const exit = await runtime.exited;
      kills.push({ pid: runtime.pid, plan, startedAt: runtime.startedAt, requestedAt, exit, progress });
      log(
        `kill ${i + 1}/${options.kills} (${plan.kind === "armed" ? `armed on ${plan.stage}` : "random"}): pid ${runtime.pid} ${exit.signal ?? `exit ${exit.code}`} at ${progress}/${total} settled`,
      );
    }
    rmSync(crashArmFile, { force: true });

    // The last runtime: runs until everything is settled and the consumers have caught up.
    const final = spawnRuntime(configPath);
    live.push(final);
    await final.waitFor("started", 300_000);
    await producer;
    if (producerError) throw producerError;
    const deadline = Date.now() + 3_600_000;
    // A read that still found records unsettled started before the last settle, so the runtime's
    // next `caughtUp` after it comes after that settle (and after the consumers read its decisions).
    let beforeLastSettle = Date.now();
    while ((await settled()) < total) {
      if (Date.now() > deadline) throw new Error("the records were not all settled within an hour");
      if (final.child.exitCode !== null) throw new Error(`the last runtime exited:\n${final.stderrTail()}`);
      await sleep(500);
      beforeLastSettle = Date.now();
    }
    await final.waitFor("caughtUp", 1_800_000, beforeLastSettle);
    final.child.kill("SIGTERM");
    const stopped = await final.exited;
    if (stopped.code !== 0) throw new Error(`the last runtime did not stop cleanly:\n${final.stderrTail()}`);
    log(`all ${total} records settled; runtime stopped`);
    return {
      records,
      kills,
      markersFile,
      shardIds,
      ledger: await readLedger(),
      startedAt,
      finishedAt: Date.now(),
    };
  } finally {
    for (const r of live)
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL");
    await producer;
    kinesis.destroy();
    dynamodb.destroy();
  }
}
