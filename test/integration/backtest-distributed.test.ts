import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { shippedConfiguration } from "#cli/backtest/configuration-in-force";
import {
  collectDistributedBacktest,
  createSfnClient,
  startDistributedBacktest,
  waitForExecution,
} from "#cli/backtest/distributed-run";
import { CliError } from "#cli/output";
import { engineFor } from "#functions/backtest/stored-vectors";
import { backtestDefinition } from "#infra/constructs/distributed-backtest";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient } from "#shared/adapters/aws-clients";
import { DynamoDbDecisionStore } from "#shared/adapters/dynamodb-decision-store";
import { DynamoDbLabelStore } from "#shared/adapters/dynamodb-label-store";
import { MemoryStateTable } from "#shared/adapters/memory-state-table";
import { createS3Client, S3ObjectStore } from "#shared/adapters/s3-object-store";
import { StateStoreEngine } from "#shared/adapters/state-store-engine";
import {
  type ArchivedRecord,
  archiveObjects,
  encodeArchiveLines,
} from "#shared/domain/archive/archived-record";
import { compareEventTime, decodeArchivedRecords } from "#shared/domain/backtest/archived-events";
import { resolveCandidate } from "#shared/domain/backtest/configuration";
import { planStoredVectorRun, runKeys } from "#shared/domain/backtest/distributed";
import type { BacktestReport } from "#shared/domain/backtest/report";
import { compileFeatureDocument } from "#shared/domain/decision/index";
import {
  anchorBeforeNow,
  DEFAULT_SEED,
  DEFAULT_SIMULATION,
  type GroundTruth,
  scaledAttacks,
  simulate,
  truthLabels,
} from "#shared/domain/simulation/index";
import type { DecisionRecord } from "#shared/ports/decision-store";
import { ENV, TABLES } from "#shared/resources";
import { candidateRulesYaml } from "../support/backtest-fixtures.ts";
import { type FakeS3, startFakeS3 } from "../support/fake-s3.ts";
import { type FakeStepFunctions, startFakeStepFunctions } from "../support/fake-step-functions.ts";
import { VIGIL_BIN } from "../support/processes.ts";

/**
 * The distributed stored-vector backtest end to end on this machine: an archive in a local server
 * speaking S3 (test/support/fake-s3.ts), stored decisions in DynamoDB Local, and a local server
 * speaking the Step Functions JSON protocol (test/support/fake-step-functions.ts) that runs the
 * stack's own state machine definition and invokes the real worker handler
 * (functions/backtest/handler.ts, configured by its environment as on Lambda) per batch of
 * archive objects. `vigil backtest --distributed` must print the very report `vigil backtest`
 * prints from the same archive on this machine's worker threads, text and JSON; a failed slice
 * fails the run with no report, and a run id cannot be started twice.
 */
const BUCKET = "vigil-archive-distributed";
const STATE_MACHINE_ARN = "arn:aws:states:eu-central-1:123456789012:stateMachine:VigilBacktest";
const WORKER_ARN = "arn:aws:lambda:eu-central-1:123456789012:function:VigilBacktestWorker";
const HOURS = 2;
const DAYS = 0.25;
/** Objects per Lambda invocation: small, so the archive makes several batches. */
const OBJECTS_PER_BATCH = 3;

describe("vigil backtest --distributed (Step Functions protocol, real worker, S3 protocol, DynamoDB Local)", () => {
  let stack: LocalStack;
  let s3: FakeS3;
  let sfn: FakeStepFunctions;
  let store: S3ObjectStore;
  let awsEnv: Record<string, string>;
  let fromMs: number;
  let toMs: number;
  let workDir: string;
  let invocations = 0;
  let truth: GroundTruth[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), "vigil-btdist-"));
    stack = await startLocalStack({ stateDir: join(workDir, "stack") });
    s3 = await startFakeS3();
    s3.createBucket(BUCKET);
    awsEnv = {
      AWS_REGION: "eu-central-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: stack.env.AWS_ENDPOINT_URL_DYNAMODB ?? "",
    };
    store = new S3ObjectStore(createS3Client(awsEnv), BUCKET);

    // The worker, as Lambda runs it: its handler module configured by its environment.
    Object.assign(process.env, awsEnv, {
      [ENV.archiveBucket]: BUCKET,
      [TABLES.decisions.envVar]: stack.names.tables.decisions,
    });
    const { handler } = await import("#functions/backtest/handler");
    sfn = await startFakeStepFunctions({
      stateMachineArn: STATE_MACHINE_ARN,
      definition: backtestDefinition({
        bucketName: BUCKET,
        workerArn: WORKER_ARN,
        objectsPerBatch: OBJECTS_PER_BATCH,
        maxConcurrency: 100,
      }),
      bucket: BUCKET,
      store,
      invoke: async (functionArn, payload) => {
        if (functionArn !== WORKER_ARN) throw new Error(`no function ${functionArn}`);
        invocations++;
        // Lambda hands the handler a JSON copy of the payload and returns a JSON copy of its result.
        return JSON.parse(JSON.stringify(await handler(JSON.parse(JSON.stringify(payload)))));
      },
    });

    // The traffic, archived as the archive function writes it and decided as score stores it.
    const sim = simulate({
      ...DEFAULT_SIMULATION,
      seed: DEFAULT_SEED,
      startMs: anchorBeforeNow(Date.now(), { liveHours: HOURS, historyDays: DAYS }),
      users: 40,
      liveHours: HOURS,
      historyDays: DAYS,
      attacks: scaledAttacks(0.3),
    });
    const records: ArchivedRecord[] = sim.events.map((event, i) => ({
      shardId: `shardId-00000000000${i % 2}`,
      sequenceNumber: String(10_000 + i),
      arrivalTime: event.occurredAt,
      partitionKey: "p",
      data: Buffer.from(JSON.stringify(event)).toString("base64"),
      stream: "arn:aws:kinesis:eu-central-1:123456789012:stream/vigil-events",
    }));
    // One object per shard and 25 records, as batches of the archive function would be.
    for (const shard of ["shardId-000000000000", "shardId-000000000001"]) {
      const ofShard = records.filter((r) => r.shardId === shard);
      for (let i = 0; i < ofShard.length; i += 25)
        for (const object of archiveObjects(ofShard.slice(i, i + 25)))
          await store.put(object.key, gzipSync(encodeArchiveLines(object.records)));
    }
    // A malformed record is archived too (quarantined live), and counted by both paths.
    const broken: ArchivedRecord = {
      shardId: "shardId-000000000000",
      sequenceNumber: "99999",
      arrivalTime: sim.events[5]?.occurredAt ?? new Date().toISOString(),
      partitionKey: "p",
      data: Buffer.from('{"eventId": "cut').toString("base64"),
      stream: "arn:aws:kinesis:eu-central-1:123456789012:stream/vigil-events",
    };
    for (const object of archiveObjects([broken]))
      await store.put(object.key, gzipSync(encodeArchiveLines(object.records)));

    const inForce = shippedConfiguration();
    const engine = engineFor(inForce.documents);
    const features = new StateStoreEngine(
      new MemoryStateTable(),
      compileFeatureDocument(inForce.documents.features),
    );
    const decisions = new DynamoDbDecisionStore(
      createDynamoDbClient(stack.env),
      stack.names.tables.decisions,
      30 * 86_400,
    );
    const { events } = decodeArchivedRecords(records);
    events.sort(compareEventTime);
    let seq = 0;
    for (const { event, record } of events) {
      const pass = await features.prepare(
        [{ event, stream: "s", shardId: record.shardId, sequenceNumber: String(++seq) }],
        new Map(),
      );
      const vector = pass.vectors.get(event.eventId);
      if (!vector) throw new Error(`no vector for ${event.eventId}`);
      const { listHits: _unused, ...decided } = engine.decide(
        { event, features: vector },
        Date.parse(event.occurredAt),
      );
      const decision: DecisionRecord = {
        ...decided,
        listHits: [],
        eventId: event.eventId,
        type: event.type,
        occurredAt: event.occurredAt,
        decidedAt: event.occurredAt,
        features: vector,
        source: { shardId: record.shardId, sequenceNumber: record.sequenceNumber },
      };
      await decisions.putIfAbsent(decision);
      await pass.commit();
    }
    writeFileSync(join(workDir, "candidate.yaml"), candidateRulesYaml());
    truth = [...sim.truth];
    writeFileSync(join(workDir, "truth.ndjson"), sim.truth.map((t) => `${JSON.stringify(t)}\n`).join(""));
    fromMs = Date.parse(sim.events[0]?.occurredAt ?? "") - 1;
    toMs = Date.now() + 60_000;
  });

  afterAll(async () => {
    await sfn?.close();
    await s3?.close();
    await stack?.stop();
  });

  /** Runs the CLI with the SDK pointed at the engines and the local servers. */
  function vigil(args: string[]) {
    const env: Record<string, string | undefined> = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith("VIGIL_")),
    );
    Object.assign(env, stack.env, awsEnv, {
      AWS_ENDPOINT_URL_SFN: sfn.endpoint,
      [ENV.archiveBucket]: BUCKET,
      [ENV.backtestStateMachineArn]: STATE_MACHINE_ARN,
    });
    // Async: the fake servers answer from this process's event loop.
    return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, [VIGIL_BIN, ...args], { env, cwd: workDir });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
      });
      child.on("close", (code) => resolve({ code, out, err }));
    });
  }

  const period = () => ["--from", new Date(fromMs).toISOString(), "--to", new Date(toMs).toISOString()];
  const candidate = () => [
    "--rules",
    join(workDir, "candidate.yaml"),
    "--labels",
    join(workDir, "truth.ndjson"),
  ];

  it("prints the same report as the worker threads on this machine, JSON and text", async () => {
    const local = await vigil(["backtest", ...candidate(), ...period(), "--threads", "2", "--json"]);
    expect(local.err).not.toMatch(/error/i);
    expect(local.code).toBe(0);
    const before = invocations;
    const distributed = await vigil([
      "backtest",
      ...candidate(),
      ...period(),
      "--distributed",
      "--poll",
      "0.2",
      "--json",
    ]);
    expect(distributed.code, distributed.err).toBe(0);
    expect(distributed.err).toMatch(/Started backtest run bt-\d{14}-[a-z0-9]{6}: \d+ archive object\(s\)/);
    expect(distributed.err).toMatch(/SUCCEEDED after \d+ s/);

    const localReport = JSON.parse(local.out) as BacktestReport;
    const distributedReport = JSON.parse(distributed.out) as BacktestReport;
    expect(distributedReport).toEqual(localReport);
    // The backtest saw the whole archive and found the change, on several Lambda invocations.
    expect(localReport.path).toBe("stored-vectors");
    expect(localReport.records.withoutDecision).toBe(0);
    expect(localReport.records.quarantined).toEqual({ NOT_JSON: 1 });
    expect(localReport.changed).toBeGreaterThan(0);
    expect(localReport.quality?.rows.length).toBeGreaterThan(0);
    const objects = localReport.source.kind === "archive" ? localReport.source.objects : 0;
    expect(invocations - before).toBe(Math.ceil(objects / OBJECTS_PER_BATCH));
    expect(invocations - before).toBeGreaterThan(1);
    expect(sfn.requests).toContain("StartExecution");
    expect(sfn.requests).toContain("DescribeExecution");

    const text = await vigil(["backtest", ...candidate(), ...period(), "--threads", "2"]);
    const runId = /run (bt-[\w-]+)/.exec(distributed.err)?.[1] ?? "";
    const collected = await vigil(["backtest", "--collect", runId]);
    expect(collected.code, collected.err).toBe(0);
    expect(collected.out).toBe(text.out);
  });

  it("reads labels from the stack's labels table as of the cutoff when no --labels file is given", async () => {
    const fromFile = await vigil(["backtest", ...candidate(), ...period(), "--json"]);
    expect(fromFile.code, fromFile.err).toBe(0);
    const noTable = await vigil([
      "backtest",
      "--rules",
      join(workDir, "candidate.yaml"),
      ...period(),
      "--json",
    ]);
    expect(noTable.code, noTable.err).toBe(0);
    expect((JSON.parse(noTable.out) as BacktestReport).quality).toBeNull();

    const labels = new DynamoDbLabelStore(createDynamoDbClient(stack.env), stack.names.tables.labels);
    await labels.put(truthLabels(truth));
    const fromTable = await vigil([
      "backtest",
      "--rules",
      join(workDir, "candidate.yaml"),
      ...period(),
      "--json",
    ]);
    expect(fromTable.code, fromTable.err).toBe(0);
    expect(fromTable.err).toMatch(/\d+ label\(s\) from the labels table/);
    const expected = JSON.parse(fromFile.out) as BacktestReport;
    expect((JSON.parse(fromTable.out) as BacktestReport).quality).toEqual(expected.quality);

    // As of a cutoff before any label was observed, none counts; --no-labels-table reads none.
    const early = await vigil([
      "backtest",
      "--rules",
      join(workDir, "candidate.yaml"),
      ...period(),
      "--labels-as-of",
      new Date(fromMs - 1).toISOString(),
      "--json",
    ]);
    expect(early.err).toMatch(/\d+ label\(s\) from the labels table/);
    expect((JSON.parse(early.out) as BacktestReport).quality).toBeNull();
    const off = await vigil([
      "backtest",
      "--rules",
      join(workDir, "candidate.yaml"),
      ...period(),
      "--no-labels-table",
      "--json",
    ]);
    expect(off.err).not.toMatch(/from the labels table/);
    expect((JSON.parse(off.out) as BacktestReport).quality).toBeNull();
  });

  it("starts a detached run and collects it later; refuses to start a run id twice (ExecutionAlreadyExists)", async () => {
    const detached = await vigil(["backtest", ...candidate(), ...period(), "--distributed", "--detach"]);
    expect(detached.code, detached.err).toBe(0);
    const runId = detached.out.trim();
    expect(runId).toMatch(/^bt-\d{14}-[a-z0-9]{6}$/);
    const collected = await vigil(["backtest", "--collect", runId, "--poll", "0.2", "--json"]);
    expect(collected.code, collected.err).toBe(0);
    expect((JSON.parse(collected.out) as BacktestReport).changed).toBeGreaterThan(0);

    const client = createSfnClient({ ...awsEnv, AWS_ENDPOINT_URL_SFN: sfn.endpoint });
    try {
      const run = planStoredVectorRun({
        runId,
        resolved: resolveCandidate(shippedConfiguration(), {
          documents: { rules: parseYaml(candidateRulesYaml()) },
        }),
        fromMs,
        toMs,
        objects: 1,
        outcomes: new Map(),
      });
      const deps = { store, sfn: client, stateMachineArn: STATE_MACHINE_ARN, log: () => {} };
      await expect(
        startDistributedBacktest(deps, run, [{ Key: "events/x.ndjson.gz", Size: 1 }]),
      ).rejects.toThrow(/already exists.*ExecutionAlreadyExists/);
    } finally {
      client.destroy();
    }
  });

  it("fails the run with no report when a slice fails (an archive object gone), exit code 1", async () => {
    const client = createSfnClient({ ...awsEnv, AWS_ENDPOINT_URL_SFN: sfn.endpoint });
    try {
      const runId = `bt-gone-${Date.now()}`;
      const run = planStoredVectorRun({
        runId,
        resolved: resolveCandidate(shippedConfiguration(), {
          documents: { rules: parseYaml(candidateRulesYaml()) },
        }),
        fromMs,
        toMs,
        objects: 1,
        outcomes: new Map(),
      });
      const deps = { store, sfn: client, stateMachineArn: STATE_MACHINE_ARN, log: () => {}, pollMs: 100 };
      const arn = await startDistributedBacktest(deps, run, [
        // date-safe: a key in the fake S3 server (no object there), which expires nothing
        { Key: "events/date=2026-01-01/shardId-000000000000/1-2.ndjson.gz", Size: 10 },
      ]);
      const failure = waitForExecution(deps, arn);
      await expect(failure).rejects.toBeInstanceOf(CliError);
      await expect(failure).rejects.toThrow(/FAILED: States\.ExceedToleratedFailureThreshold/);
      // The result writer kept the failed child: collecting refuses a report that would miss it.
      await expect(collectDistributedBacktest(store, runId)).rejects.toThrow(/1 failed .* result file/);
      const failed = [...(s3.buckets.get(BUCKET)?.keys() ?? [])].find(
        (k) => k.startsWith(runKeys(runId).results) && k.endsWith("FAILED_0.json"),
      );
      const entry = JSON.parse(
        s3.buckets
          .get(BUCKET)
          ?.get(failed ?? "")
          ?.body.toString() ?? "[]",
      )[0] as { Cause: string };
      expect(entry.Cause).toMatch(/archive object .* is gone/);

      const cli = await vigil(["backtest", "--collect", runId, "--poll", "0.2"]);
      expect(cli.code).toBe(1);
      expect(cli.err).toMatch(/backtest execution FAILED/);
      expect(cli.out).toBe("");
    } finally {
      client.destroy();
    }
  });

  it("refuses a worker input that is not a map batch, or names objects outside the archive", async () => {
    const { handler } = await import("#functions/backtest/handler");
    await expect(handler({ Items: [] })).rejects.toThrow(/not a map batch/);
    await expect(
      handler({ Items: [{ Key: "backtests/other/run.json", Size: 1 }], BatchInput: { runId: "bt-x" } }),
    ).rejects.toThrow(/not a map batch/);
    await expect(handler({ Items: [], BatchInput: { runId: "bt-none" } })).rejects.toThrow(
      /has no run\.json/,
    );
  });
});
