import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimePaths } from "#local/esm/local-runtime";
import { localSinkPaths } from "#local/local-sinks";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { type PutRecordsSplitter, startPutRecordsSplitter } from "#local/put-records-splitter";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { DynamoDbQuarantineStore } from "#shared/adapters/dynamodb-quarantine-store";
import { DynamoDbStateStore } from "#shared/adapters/dynamodb-state-store";
import { FilePseudonymKeySource } from "#shared/adapters/file-pseudonym-key";
import { DEFAULT_ALERT_POLICY } from "#shared/domain/alerts/alert-policy";
import { createPseudonymizer } from "#shared/domain/decision-message/index";
import { compileFeatureSet, DEFAULT_FEATURE_SET } from "#shared/domain/features/index";
import type { Stage } from "#shared/ports/stage-probe";
import { ENV, FUNCTIONS } from "#shared/resources";
import {
  byKind,
  checkAlerts,
  checkAudit,
  checkDecisions,
  checkEventValues,
  checkFinalState,
  checkLedger,
  checkPublished,
  checkQuarantine,
  type DeliveryItem,
  expectedMessages,
} from "../support/crash/checks.ts";
import { type CrashRun, runCrashScenario } from "../support/crash/crash-run.ts";
import {
  classifyKill,
  KILL_WINDOWS,
  type KillWindow,
  readStageMarkers,
} from "../support/crash/kill-windows.ts";
import { readAuditFiles, readFailures, readOutbox, readWholeStream } from "../support/crash/outcomes.ts";
import { PRODUCTION_SHAPE } from "../support/crash/traffic.ts";
import { scanTable } from "../support/scan-table.ts";

/**
 * Issue 13 item 7: the crash test at production shape (docs/crash-test.md). Events from users on
 * both shards sharing devices, IPs, cards and phones, a tenth re-sent with the same eventId and
 * hostile records mixed in, go through score, alert and audit in one local runtime process that is
 * killed with SIGKILL `KILLS` times, each kill armed on a stage marker or sent at a random moment,
 * and started again. Then every outcome is checked against what was put and against the
 * reference, and the markers of each killed process say where its kill landed.
 *
 * Size: VIGIL_CRASH_EVENTS and VIGIL_CRASH_KILLS (CI: the defaults below; the full run is
 * `VIGIL_CRASH_EVENTS=100000 VIGIL_CRASH_KILLS=50 npm run test:crash`). The figures are written to
 * VIGIL_CRASH_REPORT (default `<tmp>/vigil-crash-report.json`) and printed.
 */
const EVENTS = Number(process.env.VIGIL_CRASH_EVENTS ?? 20_000);
const KILLS = Number(process.env.VIGIL_CRASH_KILLS ?? 12);
const SEED = Number(process.env.VIGIL_CRASH_SEED ?? 20_261_206);
const REPORT = process.env.VIGIL_CRASH_REPORT ?? join(tmpdir(), "vigil-crash-report.json");

/**
 * The window a kill armed on a stage's marker lands in (the arm fires only on a stage that did
 * something: stored decisions, wrote entity items, published decisions). A kill armed on
 * `returned` lands after the function returned and before the checkpoint, in the publish window
 * when that batch published anything (a batch of re-sent copies only publishes nothing).
 */
const ARMED_WINDOW: Partial<Record<Stage, KillWindow>> = {
  stored: "storedNotCommitted",
  committed: "committedNotCheckpointed",
  published: "publishedNotCheckpointed",
};

describe(`SIGKILL crash test at production shape (${EVENTS} events, ${KILLS} kills)`, () => {
  let stack: LocalStack;
  let splitter: PutRecordsSplitter | undefined;
  let run: CrashRun;
  let runtimeDir: string;
  const figures: Record<string, unknown> = { events: EVENTS, kills: KILLS, seed: SEED };
  const log = (message: string) => process.stderr.write(`[crash] ${message}\n`);
  /** The decisions table, scanned once (a hundred thousand items take a while on DynamoDB Local). */
  let decisionItems: Promise<Record<string, unknown>[]> | undefined;
  const scanDecisions = () => {
    decisionItems ??= scanTable(createDynamoDbClient(stack.env), stack.names.tables.decisions);
    return decisionItems;
  };

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), "vigil-crash-"));
    stack = await startLocalStack({ stateDir: root });
    runtimeDir = join(root, "runtime");
    mkdirSync(runtimeDir, { recursive: true });
    // Kinesis Mock's PutRecords costs time in proportion to the records on the shard; PutRecord
    // does not (local/put-records-splitter.ts). Every other call passes through unchanged.
    splitter = await startPutRecordsSplitter({ target: stack.emulators.kinesisEndpoint });
    run = await runCrashScenario({
      stack,
      runtimeDir,
      kinesisEndpoint: splitter.endpoint,
      events: EVENTS,
      kills: KILLS,
      seed: SEED,
      shape: PRODUCTION_SHAPE,
      log,
    });
    figures.runSeconds = Math.round((run.finishedAt - run.startedAt) / 1000);
    figures.putRecordsSplit = splitter.stats();
  }, 4 * 3_600_000);
  afterAll(async () => {
    if (Object.keys(figures).length > 3) {
      writeFileSync(REPORT, `${JSON.stringify(figures, null, 2)}\n`);
      log(`figures: ${JSON.stringify(figures)}`);
    }
    await splitter?.close();
    await stack?.stop();
  });

  it("killed the runtime every time with SIGKILL, and in each window that matters", () => {
    const markers = readStageMarkers(run.markersFile);
    const hits = Object.fromEntries(KILL_WINDOWS.map((w) => [w, 0])) as Record<KillWindow, number>;
    const missed: string[] = [];
    expect(run.kills).toHaveLength(KILLS);
    for (const kill of run.kills) {
      expect(kill.exit.signal, `pid ${kill.pid}`).toBe("SIGKILL");
      const where = classifyKill(markers, kill.pid, FUNCTIONS.score.id);
      expect(where.markers, `pid ${kill.pid} left no markers`).toBeGreaterThan(0);
      for (const w of where.windows) hits[w]++;
      if (kill.plan.kind === "armed") {
        // An armed kill lands right after its stage's marker, in that stage's window.
        const target = ARMED_WINDOW[kill.plan.stage];
        if (where.crashedAfter !== kill.plan.stage || (target && !where.windows.includes(target)))
          missed.push(
            `pid ${kill.pid} armed on ${kill.plan.stage}: crashed after ${where.crashedAfter}, windows ${where.windows.join(",")}`,
          );
      }
    }
    figures.windowsHit = hits;
    figures.killsByPlan = run.kills.reduce<Record<string, number>>((acc, k) => {
      const name = k.plan.kind === "armed" ? `armed:${k.plan.stage}` : "random";
      acc[name] = (acc[name] ?? 0) + 1;
      return acc;
    }, {});
    expect(missed).toEqual([]);
    for (const w of KILL_WINDOWS) expect(hits[w], `kills in window ${w}`).toBeGreaterThan(0);
  });

  it("decided every event exactly once from its first record, and marked every re-send", async () => {
    const records = byKind(run.records);
    expect(records.events.length).toBe(EVENTS);
    expect(records.resends.length).toBe(Math.round(EVENTS * PRODUCTION_SHAPE.resendRate));
    expect(records.hostile.length).toBeGreaterThan(0);
    const decisions = checkDecisions(records, await scanDecisions());
    figures.records = {
      put: records.all.length,
      events: records.events.length,
      resends: records.resends.length,
      hostile: records.hostile.length,
    };
    expect(decisions.problems, `${decisions.problemCount} problems`).toEqual([]);
    expect(decisions.decisions.size).toBe(EVENTS);
  });

  it("quarantined each hostile record once with its reason, and the ledger's totals add up", async () => {
    const records = byKind(run.records);
    const entries = await new DynamoDbQuarantineStore(
      createDynamoDbClient(stack.env),
      stack.names.tables.quarantine,
      0,
    ).list();
    const quarantine = checkQuarantine(records, entries);
    expect(quarantine.problems, `${quarantine.problemCount} problems`).toEqual([]);
    const ledger = checkLedger(records, run.ledger);
    figures.ledger = ledger.totals;
    expect(ledger.problems).toEqual([]);
    expect(ledger.totals.received).toBe(records.all.length);
    // Nothing reached an on-failure destination: no record was given up on.
    const streams = stack.names.streams;
    for (const [fn, stream] of [
      [FUNCTIONS.score.id, streams.events],
      [FUNCTIONS.alert.id, streams.decisions],
      [FUNCTIONS.audit.id, streams.decisions],
    ] as const) {
      expect(readFailures(runtimePaths(runtimeDir, fn, stream).failureFile), fn).toEqual([]);
    }
  });

  it("decided with the reference's values and ended in the reference's state", async () => {
    const records = byKind(run.records);
    const client = createDynamoDbClient(stack.env);
    const decisions = checkDecisions(records, await scanDecisions()).decisions;
    const features = compileFeatureSet(DEFAULT_FEATURE_SET);
    const values = checkEventValues(records, decisions, features);
    figures.featureValues = {
      exact: values.exact,
      bounded: values.bounded,
      differences: values.problemCount,
    };
    expect(values.problems, `${values.problemCount} problems`).toEqual([]);
    expect(values.exact).toBeGreaterThan(EVENTS);
    expect(values.bounded).toBeGreaterThan(EVENTS);

    const at = Date.now();
    const store = new DynamoDbStateStore({
      client,
      tableName: stack.names.tables.state,
      features,
      clock: () => at,
    });
    const state = await checkFinalState(
      records,
      features,
      values.reference,
      (type, key) => store.read(type, key),
      at,
    );
    figures.finalState = { entities: state.entities, differences: state.problemCount };
    expect(state.problems, `${state.problemCount} problems`).toEqual([]);
    expect(state.entities).toBeGreaterThan(1000);
  });

  it("published every stored decision as stored; audited each once; alerted at most once per channel", async () => {
    const records = byKind(run.records);
    const client = createDynamoDbClient(stack.env);
    const decisions = checkDecisions(records, await scanDecisions()).decisions;
    const keyFile = stack.env[ENV.pseudonymKeyFile] ?? "";
    const pseudonymizer = createPseudonymizer(await new FilePseudonymKeySource(keyFile).load());
    const expected = expectedMessages(records, decisions, pseudonymizer);
    expect(expected.size).toBe(EVENTS);

    const kinesis = createKinesisClient({ env: stack.env });
    const stream = await readWholeStream(kinesis, stack.names.streams.decisions);
    kinesis.destroy();
    const published = checkPublished(
      expected,
      stream.map((r) => r.data),
    );
    figures.published = { messages: published.messages, republishedDecisions: published.republished };
    expect(published.problems, `${published.problemCount} problems`).toEqual([]);

    const sinks = localSinkPaths(stack.stateDir);
    const audit = checkAudit(expected, readAuditFiles(sinks.auditDir));
    figures.audit = { documents: audit.documents };
    expect(audit.problems, `${audit.problemCount} problems`).toEqual([]);

    const deliveries = (await scanTable(client, stack.names.tables.alerts))
      .filter((i) => String(i.pk).startsWith("delivery#"))
      .map((i) => i as unknown as DeliveryItem);
    const alerts = checkAlerts(
      expected,
      DEFAULT_ALERT_POLICY,
      deliveries,
      readOutbox(sinks.alertOutboxDir),
      run.kills.map((k) => ({ startedAt: k.startedAt, killedAt: k.exit.at })),
    );
    figures.alerts = {
      sent: alerts.sent,
      suppressed: alerts.suppressed,
      outboxFiles: alerts.files,
      duplicatesAtTheDocumentedCrashEdge: alerts.edgeDuplicates,
    };
    expect(alerts.problems, `${alerts.problemCount} problems`).toEqual([]);
    expect(alerts.sent).toBeGreaterThan(0);
  });
});
