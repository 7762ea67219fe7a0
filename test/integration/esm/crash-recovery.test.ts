/**
 * The local runtime stopped gracefully, or killed with SIGKILL as its own process, and started
 * again on the same state directory: at-least-once delivery, as on AWS. A batch in flight may be
 * delivered again; no record is ever lost or skipped, and each shard is read in order.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Emulators, startEmulators } from "#local/emulators";
import { PROJECT_ROOT } from "#local/esm/bundle";
import type { ShardCheckpoint } from "#local/esm/checkpoint-store";
import { runtimePaths, startLocalRuntime } from "#local/esm/local-runtime";
import type { RuntimeConfig } from "#local/esm/runtime-config";
import { createKinesisClient } from "#shared/adapters/aws-clients";
import {
  createStream,
  FAST_TIMING,
  put,
  readRecorder,
  readStream,
  recorderFunction,
  uniqueStreamName,
  waitFor,
} from "./harness";

const RUNTIME_MAIN = fileURLToPath(new URL("../../../local/esm/runtime-main.ts", import.meta.url));

let emulators: Emulators;
let kinesis: KinesisClient;
const children: ChildProcess[] = [];

beforeAll(async () => {
  emulators = await startEmulators({ dataDir: mkdtempSync(join(tmpdir(), "vigil-esm-engines-")) });
  kinesis = createKinesisClient({ env: emulators.awsEnv });
});

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

afterAll(async () => {
  kinesis?.destroy();
  await emulators?.stop();
});

/** The runtime as a child process, with its stdout events collected. */
function spawnRuntime(configPath: string) {
  const child = spawn(process.execPath, ["--import", "tsx", RUNTIME_MAIN, configPath], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const events: { event: string }[] = [];
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    const lines = stdout.split("\n");
    stdout = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as { event: string });
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, events, exited, stderr: () => stderr };
}

function readCheckpoints(dir: string): Map<string, ShardCheckpoint> {
  const result = new Map<string, ShardCheckpoint>();
  for (const name of readdirSync(dir)) {
    if (!name.startsWith("shardId-")) continue;
    const checkpoint = JSON.parse(readFileSync(join(dir, name), "utf8")) as ShardCheckpoint;
    result.set(checkpoint.shardId, checkpoint);
  }
  return result;
}

describe("local runtime restarts", () => {
  it("stops gracefully: the batch in flight finishes and is checkpointed, the next run goes on after it", async () => {
    const streamName = uniqueStreamName("graceful");
    await createStream(kinesis, streamName, 1);
    const records = await put(
      kinesis,
      streamName,
      Array.from({ length: 10 }, (_, i) => ({
        data: i === 0 ? { i, sleepMs: 400 } : { i },
        partitionKey: "pk",
      })),
    );
    const stateDir = mkdtempSync(join(tmpdir(), "vigil-esm-state-"));
    const recorderFile = join(stateDir, "recorder.ndjson");
    const options = {
      stateDir,
      awsEnv: emulators.awsEnv,
      functions: [
        {
          definition: recorderFunction("Graceful", { batchSize: 5 }),
          streamName,
          env: { RECORDER_FILE: recorderFile },
        },
      ],
      timing: FAST_TIMING,
    };
    const first = await startLocalRuntime(options);
    await waitFor(() => readRecorder(recorderFile).length === 1, "the first invocation to start");
    await first.stop();
    const [inFlight, ...others] = readRecorder(recorderFile);
    expect(others).toEqual([]);
    expect(inFlight?.outcome).toBe("returned");
    expect(first.stats().functions[0]?.shards[0]?.checkpoint).toBe(records[4]?.sequenceNumber);

    const second = await startLocalRuntime(options);
    await second.waitUntilIdle();
    await second.stop();
    expect(readRecorder(recorderFile).map((inv) => inv.sequenceNumbers)).toEqual([
      records.slice(0, 5).map((r) => r.sequenceNumber),
      records.slice(5).map((r) => r.sequenceNumber),
    ]);
  });

  it("killed with SIGKILL mid-stream and restarted, loses and skips nothing and keeps each shard in order", async () => {
    const streamName = uniqueStreamName("kill");
    await createStream(kinesis, streamName, 3);
    const stateDir = mkdtempSync(join(tmpdir(), "vigil-esm-state-"));
    const recorderFile = join(stateDir, "recorder.ndjson");
    const definition = recorderFunction("Crash", { batchSize: 10 });
    const config: RuntimeConfig = {
      stateDir,
      awsEnv: { ...emulators.awsEnv },
      functions: [{ definition, streamName, env: { RECORDER_FILE: recorderFile } }],
      timing: { ...FAST_TIMING },
      exitWithParent: true,
    };
    const configPath = join(stateDir, "runtime.json");
    writeFileSync(configPath, JSON.stringify(config));
    const checkpointDir = runtimePaths(stateDir, definition.id, streamName).checkpointDir;
    const slowRecord = (phase: number, i: number) => ({
      data: { phase, i, sleepMs: 4 },
      partitionKey: `user-${i % 30}`,
    });

    const putRecords = [
      ...(await put(
        kinesis,
        streamName,
        Array.from({ length: 150 }, (_, i) => slowRecord(1, i)),
      )),
    ];
    const checkpointsAtKill: Map<string, ShardCheckpoint>[] = [];
    const pids: number[] = [];
    // Kill after a few invocations of each run, at different points; more records arrive in between.
    for (const [run, killAfter] of [3, 7, 12].entries()) {
      const runtime = spawnRuntime(configPath);
      const pid = runtime.child.pid ?? 0;
      pids.push(pid);
      await waitFor(
        () => readRecorder(recorderFile).filter((inv) => inv.pid === pid).length >= killAfter,
        `run ${run} to invoke ${killAfter} times (stderr: ${runtime.stderr()})`,
        60_000,
      );
      runtime.child.kill("SIGKILL");
      expect((await runtime.exited).signal).toBe("SIGKILL");
      checkpointsAtKill.push(readCheckpoints(checkpointDir));
      if (run === 0)
        putRecords.push(
          ...(await put(
            kinesis,
            streamName,
            Array.from({ length: 150 }, (_, i) => slowRecord(2, i)),
          )),
        );
    }

    const final = spawnRuntime(configPath);
    pids.push(final.child.pid ?? 0);
    const all = new Set(putRecords.map((r) => r.sequenceNumber));
    await waitFor(
      () => {
        const delivered = new Set(readRecorder(recorderFile).flatMap((inv) => inv.sequenceNumbers));
        return [...all].every((seq) => delivered.has(seq));
      },
      `every record to be delivered (stderr: ${final.stderr()})`,
      60_000,
    );
    await waitFor(
      () => final.events.some((e) => e.event === "caughtUp"),
      "the final run to report it caught up",
    );
    final.child.kill("SIGTERM");
    expect(await final.exited).toEqual({ code: 0, signal: null });
    expect(final.events.at(-1)?.event).toBe("stopped");

    const truth = await readStream(kinesis, streamName);
    const invocations = readRecorder(recorderFile);
    for (const [shardId, shardRecords] of truth) {
      const position = new Map(shardRecords.map((seq, index) => [seq, index]));
      let resumeAt = 0;
      for (const [run, pid] of pids.entries()) {
        const delivered = invocations
          .filter((inv) => inv.pid === pid && inv.shardId === shardId)
          .flatMap((inv) => inv.sequenceNumbers)
          .map((seq) => position.get(seq) ?? -1);
        // Each run reads its shard in order without gaps, starting right after the last checkpoint.
        expect(delivered).toEqual(delivered.map((_, k) => resumeAt + k));
        if (run === pids.length - 1) {
          resumeAt += delivered.length;
          break;
        }
        const checkpoint = checkpointsAtKill[run]?.get(shardId)?.sequenceNumber;
        const next = checkpoint === undefined ? 0 : (position.get(checkpoint) ?? -2) + 1;
        // The checkpoint never moves back, and never past what this run delivered.
        expect(next).toBeGreaterThanOrEqual(resumeAt);
        expect(next).toBeLessThanOrEqual(resumeAt + delivered.length);
        resumeAt = next;
      }
      expect(resumeAt).toBe(shardRecords.length);
    }
    // The checkpoints advanced from kill to kill.
    const progress = checkpointsAtKill.map((checkpoints) => checkpoints.size);
    expect(progress.at(-1)).toBeGreaterThan(0);
    const advanced = checkpointsAtKill
      .slice(1)
      .some((checkpoints, k) =>
        [...checkpoints].some(
          ([shardId, cp]) => cp.sequenceNumber !== checkpointsAtKill[k]?.get(shardId)?.sequenceNumber,
        ),
      );
    expect(advanced).toBe(true);
    // Redelivery is bounded by what was in flight at each kill: at most one batch per shard.
    const deliveries = invocations.flatMap((inv) => inv.sequenceNumbers).length;
    expect(deliveries - all.size).toBeLessThanOrEqual(3 * truth.size * 10);
  });
});
