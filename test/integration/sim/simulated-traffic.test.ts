import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDecisions } from "#cli/commands/evaluate";
import { type DemoSummary, runDemo } from "#local/demo";
import { replaySequentially } from "#local/replay";
import type { CleanEvent } from "#shared/domain/event/index";
import {
  ATTACK_TYPES,
  DEFAULT_SEED,
  evaluateQuality,
  parseGroundTruth,
  type QualityReport,
} from "#shared/domain/simulation/index";
import { startTestPipeline, type TestPipeline } from "../../support/pipeline.ts";
import { VIGIL_BIN } from "../../support/processes.ts";

/**
 * Simulated traffic through the real pipeline (Kinesis Mock, DynamoDB Local, the bundled
 * functions on their event source mappings): what `npm start` does, on a smaller mix.
 */

describe("the demo on simulated traffic", () => {
  let summary: DemoSummary;
  const stateDir = join(mkdtempSync(join(tmpdir(), "vigil-sim-")), "demo");

  beforeAll(async () => {
    summary = await runDemo({
      stateDir,
      seed: DEFAULT_SEED,
      users: 80,
      pacing: { kind: "rate", perSecond: 60 },
      timeoutSeconds: 150,
      log: () => {},
    });
  }, 180_000);

  it("decides every event it puts, quarantines none, and measures a latency for every live event", () => {
    const total = summary.events.history + summary.events.live;
    expect(summary.put).toEqual({ sent: total, rejected: 0, failed: 0 });
    expect(summary.decided).toBe(total);
    expect(summary.quarantined).toBe(0);
    expect(summary.latencyDecided.count).toBe(summary.events.live);
    expect(summary.latencyReadable.count).toBe(summary.events.live);
    // decidedAt is stamped before the decision is stored, so it is never after it was read back.
    expect(summary.latencyDecided.p50).toBeLessThanOrEqual(summary.latencyReadable.p50 ?? 0);
    expect(summary.latencyDecided.p50).toBeGreaterThan(0);
    // Paced at 60 events/s: sending the live day takes at least its length divided by the rate.
    expect(summary.live.putSeconds).toBeGreaterThanOrEqual((summary.events.live - 1) / 60 - 0.2);
  });

  it("writes ground truth and decisions that `vigil evaluate` turns into the same report", () => {
    const truth = parseGroundTruth(readFileSync(summary.files.truth, "utf8"));
    const decisions = parseDecisions(readFileSync(summary.files.decisions, "utf8"));
    expect(decisions.size).toBe(summary.decided);
    const again: QualityReport = evaluateQuality(truth, decisions);
    expect(again).toEqual(summary.quality);
    const run = spawnSync(
      process.execPath,
      [
        VIGIL_BIN,
        "evaluate",
        "--truth",
        summary.files.truth,
        "--decisions",
        summary.files.decisions,
        "--json",
      ],
      { encoding: "utf8" },
    );
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(JSON.parse(JSON.stringify(summary.quality)));
  });

  it("catches every attack family in both variants, and challenges or blocks little legitimate traffic", () => {
    // The issue-16 pack reads what the slow variants leave behind (number blocks, new shops,
    // unfamiliar BINs and networks), so slow is no longer a way past it (docs/decision-engine.md).
    const row = (attack: string) =>
      summary.quality.attacks.find((r) => r.attack === attack && r.variant === "all");
    // This run has 80 customers: some families have only a couple of dozen events (paid brushing:
    // 20, of which the sequential replay itself catches 60%), and two events decided differently
    // by the two shards' interleaving move such a family by ten points. Families that small must be
    // caught at all; the others more than half the time. Per-family quality at full size is
    // asserted on the default mix (test/unit/sim/acceptance.test.ts).
    for (const attack of ATTACK_TYPES) {
      const both = row(attack);
      if (!both) continue;
      const recall = both.recall.combined ?? 0;
      const caught = both.events >= 30 ? recall > 0.5 : recall > 0;
      expect({ attack, events: both.events, caught }).toEqual({ attack, events: both.events, caught: true });
    }
    expect(summary.quality.attacks.find((r) => r.attack === "all")?.recall.combined).toBeGreaterThan(0.8);
    const legit = summary.quality.legit.find((r) => r.kind === "all");
    expect(legit?.rate.combined).toBeLessThan(0.1);
    const friction =
      ((legit?.strength.challenged ?? 0) + (legit?.strength.blocked ?? 0)) / (legit?.events ?? 1);
    expect(friction).toBeLessThan(0.02);
  });

  it("differs from the sequential replay only where two accounts share a device, IP, card or phone", async () => {
    expect(summary.replay.identical + summary.replay.differing).toBe(summary.decided);
    // Features keyed by userId live on the user's shard and are decided in order. Only features of
    // entities several accounts share can be read by two shards at once (docs/simulator.md), so a
    // difference anywhere else would be a pipeline bug.
    const events: CleanEvent[] = readFileSync(summary.files.events, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as CleanEvent);
    const live = parseDecisions(readFileSync(summary.files.decisions, "utf8"));
    const reference = await replaySequentially(events);
    const usersOf = new Map<string, Set<string>>();
    // Shared entities of the default set: the velocity features' and the issue-16 pack's (number
    // blocks, mail domains, merchants, BINs, referrers, hosting addresses; link counts read them).
    const keys = (e: CleanEvent) => [
      `device:${e.deviceId}`,
      `ip:${e.ip}`,
      ...("cardFingerprint" in e && e.cardFingerprint ? [`card:${e.cardFingerprint}`] : []),
      ...("cardBin" in e && e.cardBin ? [`bin:${e.cardBin}`] : []),
      ...("phone" in e && e.phone ? [`phone:${e.phone}`, `block:${e.phone.slice(0, -4)}`] : []),
      ...("email" in e && e.email ? [`domain:${e.email.split("@")[1]}`] : []),
      ...(e.attributes?.merchantId !== undefined ? [`merchant:${e.attributes.merchantId}`] : []),
      ...(e.attributes?.referrerId !== undefined ? [`referrer:${e.attributes.referrerId}`] : []),
    ];
    for (const e of events)
      for (const k of keys(e)) usersOf.set(k, (usersOf.get(k) ?? new Set()).add(e.userId));
    // Link counts read, on any event of an account, the number block and referrer its sign-up named.
    const linkedKeys = new Map<string, string[]>();
    for (const e of events)
      if (e.type === "register")
        linkedKeys.set(e.userId, [
          ...(e.phone ? [`block:${e.phone.slice(0, -4)}`] : []),
          ...(e.attributes?.referrerId !== undefined ? [`referrer:${e.attributes.referrerId}`] : []),
        ]);
    const differing = events.filter((e) => live.get(e.eventId)?.action !== reference.get(e.eventId)?.action);
    expect(differing.length).toBe(summary.replay.differing);
    const unexplained = differing.filter(
      (e) => ![...keys(e), ...(linkedKeys.get(e.userId) ?? [])].some((k) => (usersOf.get(k)?.size ?? 0) > 1),
    );
    expect(unexplained).toEqual([]);
  });

  it("delivers every decision to the audit trail and raises alerts for high-risk ones", () => {
    // The simulated events' decisions and those of the challenge results the learning loop sent.
    expect(summary.learning.outcomes.challengeResultsDecided).toBe(
      summary.learning.outcomes.challengeResults,
    );
    expect(summary.audit.documents).toBe(summary.decided + summary.learning.outcomes.challengeResultsDecided);
    expect(summary.alerts.files).toBeGreaterThan(0);
  });
});

describe("vigil simulate --to stream, then vigil evaluate from the decisions table", () => {
  let pipeline: TestPipeline;
  beforeAll(async () => {
    pipeline = await startTestPipeline();
  }, 180_000);
  afterAll(async () => {
    await pipeline?.stop();
  });

  it("puts the simulation on the stream and evaluates what the pipeline decided", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-simulate-"));
    const truthFile = join(dir, "truth.ndjson");
    const env = { ...process.env, ...pipeline.stack.env };
    const put = spawnSync(
      process.execPath,
      [
        VIGIL_BIN,
        "simulate",
        "--to",
        "stream",
        "--users",
        "40",
        "--attack-scale",
        "0.3",
        "--max-rate",
        "--truth",
        truthFile,
      ],
      { encoding: "utf8", env, timeout: 120_000 },
    );
    expect(put.stderr).not.toMatch(/vigil: /);
    expect(put.status).toBe(0);
    const truth = parseGroundTruth(readFileSync(truthFile, "utf8"));
    expect(JSON.parse(put.stdout)).toMatchObject({
      events: truth.length,
      sent: truth.length,
      rejected: 0,
      failed: 0,
    });

    await pipeline.idle();
    const evaluated = spawnSync(
      process.execPath,
      [VIGIL_BIN, "evaluate", "--truth", truthFile, "--phase", "all"],
      {
        encoding: "utf8",
        env,
      },
    );
    expect(evaluated.status).toBe(0);
    expect(evaluated.stdout).toContain(
      `Events evaluated: ${truth.length} of ${truth.length} (history + live)`,
    );
    expect(evaluated.stdout).toMatch(/all attacks\s+\d+/);
  });
});
