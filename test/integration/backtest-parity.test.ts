import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapResources, resourceEnv, resourceNames } from "#local/bootstrap";
import { type LocalRuntime, localFunctionsFromEnv, startLocalRuntime } from "#local/esm/local-runtime";
import { prepareLocalSinks } from "#local/local-sinks";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { seedDefaultConfig } from "#shared/adapters/config-files";
import { DynamoDbConfigStore } from "#shared/adapters/dynamodb-config-store";
import { FileObjectStore } from "#shared/adapters/file-object-store";
import { type OutgoingRecord, putRecords } from "#shared/adapters/kinesis-producer";
import { type ArchivedRecord, decodeArchiveLines } from "#shared/domain/archive/archived-record";
import type { BacktestReport } from "#shared/domain/backtest/report";
import type { EventActions } from "#shared/domain/backtest/tally";
import {
  anchorBeforeNow,
  DEFAULT_SEED,
  DEFAULT_SIMULATION,
  scaledAttacks,
  simulate,
} from "#shared/domain/simulation/index";
import { ENV } from "#shared/resources";
import { candidateRulesYaml } from "../support/backtest-fixtures.ts";
import { entitySafeWaves, shardResolver } from "../support/ordered-sending.ts";
import { VIGIL_BIN } from "../support/processes.ts";
import { scanTable } from "../support/scan-table.ts";

/**
 * Issue 15's parity acceptance on the real engines: events go through the local stack (run A,
 * the shipped configuration), `vigil backtest` predicts from the archive and the stored decisions
 * what a candidate rule set would decide; then the candidate is applied on a second set of
 * resources on the same engines (run B) and the archived records are replayed there. The
 * predicted and the actual action agree on every event, on both backtest paths; records
 * quarantined in A are quarantined again in B.
 *
 * Both runs send in waves in which no entity is on two shards (test/support/ordered-sending.ts),
 * so the live features do not depend on how the two shards' batches interleave.
 */
const HOURS = 2;
const DAYS = 0.5;

/**
 * The functions of a stack without batching windows: each wave is read as soon as it is put
 * (batching changes how records are grouped into invocations, never what is decided).
 */
function unbatched(
  functions: ReturnType<typeof localFunctionsFromEnv>,
): ReturnType<typeof localFunctionsFromEnv> {
  return functions.map((fn) => ({
    ...fn,
    definition: {
      ...fn.definition,
      ...(fn.definition.eventSource
        ? { eventSource: { ...fn.definition.eventSource, maxBatchingWindowSeconds: 0 } }
        : {}),
    },
  }));
}

describe("a backtest predicts what the live pipeline decides after the candidate is applied", () => {
  let dir: string;
  let stack: LocalStack;
  let kinesis: KinesisClient;
  let runtimeA: LocalRuntime | undefined;
  let runtimeB: LocalRuntime | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vigil-parity-"));
    stack = await startLocalStack({ stateDir: join(dir, "a") });
    kinesis = createKinesisClient({ env: stack.env });
    runtimeA = await startLocalRuntime({
      stateDir: join(dir, "a"),
      awsEnv: stack.emulators.awsEnv,
      functions: unbatched(localFunctionsFromEnv(stack.env, ["score", "archive"])),
      timing: { idlePollMaxMs: 100 },
    });
  });
  afterAll(async () => {
    await runtimeA?.stop();
    await runtimeB?.stop();
    kinesis?.destroy();
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("agrees on every event, from stored vectors and from recomputed features", {
    timeout: 900_000,
  }, async () => {
    const sim = simulate({
      ...DEFAULT_SIMULATION,
      seed: DEFAULT_SEED,
      startMs: anchorBeforeNow(Date.now(), { liveHours: HOURS, historyDays: DAYS }),
      users: 20,
      liveHours: HOURS,
      historyDays: DAYS,
      attacks: scaledAttacks(0.2),
    });
    const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    const hostile: OutgoingRecord[] = [
      { data: new TextEncoder().encode('{"eventId": "cut'), partitionKey: "hostile-1" },
      {
        // date-safe: deliberately older than the decoder accepts: quarantined, never stored under its own date
        data: encode({ ...sim.events[0], eventId: "evt_too_old", occurredAt: "2001-01-01T00:00:00Z" }),
        partitionKey: "hostile-2",
      },
    ];
    const shardOf = await shardResolver(kinesis, stack.names.streams.events);
    const items = sim.events.map((event) => ({ event, partitionKey: event.userId, data: encode(event) }));
    const waves: OutgoingRecord[][] = [hostile, ...entitySafeWaves(items, shardOf)];

    // Run A: the shipped configuration decides; the archive keeps every record.
    const from = Date.now() - 60_000;
    const placed: { shardId: string; sequenceNumber: string }[][] = [];
    for (const wave of waves) {
      const result = await putRecords(kinesis, stack.names.streams.events, wave);
      expect(result.failed).toEqual([]);
      placed.push([...result.placed].sort((a, b) => a.index - b.index));
      await runtimeA?.waitUntilIdle({ timeoutMs: 120_000 });
    }
    await runtimeA?.stop();
    runtimeA = undefined;
    const to = Date.now() + 60_000;

    // The backtest, on the archive of run A with its decisions, both ways.
    writeFileSync(join(dir, "candidate.yaml"), candidateRulesYaml());
    const backtest = (extra: string[]) => {
      const run = spawnSync(
        process.execPath,
        [
          VIGIL_BIN,
          "backtest",
          "--rules",
          join(dir, "candidate.yaml"),
          "--from",
          new Date(from).toISOString(),
          "--to",
          new Date(to).toISOString(),
          "--threads",
          "2",
          "--json",
          ...extra,
        ],
        { cwd: dir, env: { ...process.env, ...stack.env }, encoding: "utf8", timeout: 300_000 },
      );
      expect(run.status, run.stderr).toBe(0);
      return JSON.parse(run.stdout) as BacktestReport;
    };
    const stored = backtest(["--decisions-out", join(dir, "stored.ndjson")]);
    const recomputed = backtest([
      "--recompute",
      "--warm-up",
      "0",
      "--decisions-out",
      join(dir, "recomputed.ndjson"),
    ]);
    expect(stored.path).toBe("stored-vectors");
    expect(recomputed.path).toBe("recomputed-features");
    expect(stored.records.quarantined).toEqual({ NOT_JSON: 1, EVENT_TOO_OLD: 1 });
    expect(stored.compared).toBe(sim.events.length);
    // The candidate changes what is decided: card testing blocks earlier, new devices are reviewed.
    expect(stored.changed).toBeGreaterThan(0);
    expect(
      stored.transitions.some(
        (t) => t.scenario === "login" && t.from === "challenge_sms" && t.to === "review",
      ),
    ).toBe(true);
    expect(stored.notes).toEqual([]);
    const predictions = (file: string) =>
      new Map(
        readFileSync(join(dir, file), "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as EventActions)
          .map((e) => [e.eventId, e]),
      );
    const fromStored = predictions("stored.ndjson");
    const fromRecomputed = predictions("recomputed.ndjson");

    // Run B: the same engines, fresh resources, the candidate applied, the archived records replayed.
    const namesB = resourceNames("vigil-parity-b");
    const dynamodb = createDynamoDbClient(stack.env);
    await bootstrapResources({ kinesis, dynamodb }, namesB);
    await seedDefaultConfig(new DynamoDbConfigStore(dynamodb, namesB.tables.config), {
      author: "parity test",
      now: new Date().toISOString(),
    });
    const envB = { ...stack.emulators.awsEnv, ...resourceEnv(namesB), ...prepareLocalSinks(join(dir, "b")) };
    const apply = spawnSync(process.execPath, [VIGIL_BIN, "rules", "apply", join(dir, "candidate.yaml")], {
      cwd: dir,
      env: { ...process.env, ...envB },
      encoding: "utf8",
    });
    expect(apply.status, apply.stderr).toBe(0);
    runtimeB = await startLocalRuntime({
      stateDir: join(dir, "b"),
      awsEnv: stack.emulators.awsEnv,
      functions: unbatched(localFunctionsFromEnv(envB, ["score"])),
      timing: { idlePollMaxMs: 100 },
    });
    const archive = new FileObjectStore(stack.env[ENV.archiveDir] ?? "");
    const archived = new Map<string, ArchivedRecord>();
    for await (const o of archive.list("events/"))
      for (const r of decodeArchiveLines(
        gunzipSync((await archive.get(o.key)) ?? new Uint8Array()).toString("utf8"),
        o.key,
      ))
        archived.set(`${r.shardId}/${r.sequenceNumber}`, r);
    for (const wave of placed) {
      const records = wave.map((p) => {
        const r = archived.get(`${p.shardId}/${p.sequenceNumber}`);
        if (!r) throw new Error(`record ${p.shardId}/${p.sequenceNumber} is not in the archive`);
        return { data: Buffer.from(r.data, "base64"), partitionKey: r.partitionKey };
      });
      const result = await putRecords(kinesis, namesB.streams.events, records);
      expect(result.failed).toEqual([]);
      await runtimeB.waitUntilIdle({ timeoutMs: 120_000 });
    }

    const actual = await scanTable(dynamodb, namesB.tables.decisions);
    const decided = actual.filter(
      (d) => typeof d.action === "string" && !String(d.eventId).startsWith("dup#"),
    );
    expect(decided).toHaveLength(sim.events.length);
    const disagreements: string[] = [];
    for (const d of decided) {
      const id = String(d.eventId);
      const want = fromStored.get(id);
      if (want?.after !== d.action)
        disagreements.push(`${id}: predicted ${want?.after}, live ${String(d.action)}`);
      if (fromRecomputed.get(id)?.after !== d.action)
        disagreements.push(`${id}: recomputed ${fromRecomputed.get(id)?.after}, live ${String(d.action)}`);
    }
    expect(disagreements).toEqual([]);
    expect(fromStored.size).toBe(sim.events.length);
    expect(fromRecomputed.size).toBe(sim.events.length);
    // The rule hits the candidate predicted are the ones the live decisions carry.
    for (const d of decided.slice(0, 100)) {
      const hits = (d.ruleHits as { id: string; shadow: boolean }[]).map((h) =>
        h.shadow ? `${h.id} (shadow)` : h.id,
      );
      expect(fromStored.get(String(d.eventId))?.afterRules).toEqual(hits);
    }
    expect(await scanTable(dynamodb, namesB.tables.quarantine)).toHaveLength(2);
    dynamodb.destroy();
  });
});
