import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { FAULT_KINDS } from "#local/fault-proxy";
import { localSinkPaths } from "#local/local-sinks";
import { compileFeatureSet, DEFAULT_FEATURE_SET } from "#shared/domain/features/index";
import { byKind, checkDecisions, checkLedger, checkQuarantine } from "../support/crash/checks.ts";
import { type FaultRun, PROXIED, runThroughProxies } from "../support/crash/fault-run.ts";
import {
  materialize,
  type OutgoingSlot,
  PRODUCTION_SHAPE,
  planTraffic,
  type Slot,
  type TrafficShape,
} from "../support/crash/traffic.ts";

/**
 * Issue 13 item 8: the same traffic through the pipeline twice, each function's every call to
 * DynamoDB, Kinesis, SNS and OpenSearch through a fault proxy (local/fault-proxy.ts): once with
 * the proxies only forwarding, once with a seeded 15% of requests answered with the service's
 * throttling error, a 5xx, a stall and a dropped connection, a reset before or after the request
 * reached the service, or a partial batch failure. Every decision, every entity's state, every
 * alert and every audit document must be the fault-free run's, and nothing may reach an
 * on-failure destination.
 *
 * Devices, IPs, cards, phones and email domains are kept on one shard each here (ids carry the shard):
 * values of an entity two shards share depend on when each shard commits, which faults change;
 * the crash test covers shared entities. Alerts are not throttled (throttle windows run on
 * wall-clock time, so which alert of an attack gets through depends on timing).
 *
 * Size: VIGIL_FAULT_EVENTS (default 2,000), VIGIL_FAULT_RATE (default 0.15); figures go to
 * VIGIL_FAULT_REPORT (default `<tmp>/vigil-fault-report.json`).
 */
const EVENTS = Number(process.env.VIGIL_FAULT_EVENTS ?? 2000);
const RATE = Number(process.env.VIGIL_FAULT_RATE ?? 0.15);
const SEED = Number(process.env.VIGIL_FAULT_SEED ?? 20_261_207);
const REPORT = process.env.VIGIL_FAULT_REPORT ?? join(tmpdir(), "vigil-fault-report.json");
const SHAPE: TrafficShape = { ...PRODUCTION_SHAPE, entitiesPerShard: true, hostileEvery: 50 };

/** Kinesis splits the hash key space evenly between a new stream's shards (two here). */
const shardOf = (key: string) =>
  BigInt(`0x${createHash("md5").update(key).digest("hex")}`) < 2n ** 127n ? 0 : 1;

/** A decision as two runs must agree on it: without the time it was made and the record's sequence number. */
function comparable(item: Record<string, unknown>): unknown {
  const { decidedAt: _at, expiresAt: _ttl, source, ...rest } = item;
  return { ...rest, shardId: (source as { shardId?: string } | undefined)?.shardId };
}

/** An SNS message as two runs must agree on it: the email body names the decision time. */
function comparableAlert(m: FaultRun["sns"][number]): string {
  return JSON.stringify({
    message: m.message.replace(/^Decided at .*$/m, ""),
    subject: m.subject,
    attributes: m.attributes,
  });
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1);
  return out;
}

describe(`fault injection (${EVENTS} events, ${RATE * 100}% of requests faulted)`, () => {
  let clean: FaultRun;
  let faulty: FaultRun;
  const features = compileFeatureSet(DEFAULT_FEATURE_SET);
  const figures: Record<string, unknown> = { events: EVENTS, rate: RATE, seed: SEED };
  const log = (message: string) => process.stderr.write(`[faults] ${message}\n`);

  beforeAll(async () => {
    const slots: Slot[] = planTraffic(EVENTS, SHAPE, SEED);
    const now = Date.now();
    const fixedSlots = slots.filter((s) => s.kind !== "hostile");
    const fixed = new Map<Slot, OutgoingSlot>(
      materialize(fixedSlots, now, 0, SHAPE, SEED, shardOf, new Map()).map((o) => [o.slot, o]),
    );
    // Both runs read their final state at the same instant, after every event's time (windowed
    // values depend on the reading time; the faulty run ends minutes after the clean one).
    const common = { slots, fixed, shape: SHAPE, seed: SEED, features, log, readStateAt: now + 1000 };
    clean = await runThroughProxies({
      ...common,
      root: mkdtempSync(join(tmpdir(), "vigil-faults-clean-")),
      rate: 0,
    });
    faulty = await runThroughProxies({
      ...common,
      root: mkdtempSync(join(tmpdir(), "vigil-faults-on-")),
      rate: RATE,
      // The same key, so that both runs name entities by the same pseudonyms.
      pseudonymKeyFile: localSinkPaths(clean.stateDir).pseudonymKeyFile,
    });
    figures.seconds = { clean: clean.seconds, faulty: faulty.seconds };
    figures.proxies = faulty.proxies;
    writeFileSync(REPORT, `${JSON.stringify(figures, null, 2)}\n`);
    log(`figures: ${JSON.stringify(figures)}`);
  }, 4 * 3_600_000);

  it("injected faults into every service's requests, every kind into DynamoDB's and Kinesis's, none in the clean run", () => {
    const total = (faults: Record<string, number> | undefined) =>
      Object.values(faults ?? {}).reduce((a, b) => a + b, 0);
    for (const service of PROXIED) {
      const on = faulty.proxies[service];
      expect(on?.requests, service).toBeGreaterThan(0);
      expect(total(clean.proxies[service]?.faults), service).toBe(0);
      expect(total(on?.faults), service).toBeGreaterThan(0);
      // Which requests are faulted is drawn (15% of them); kinds take turns among those.
      expect(total(on?.faults) / (on?.requests ?? 1), service).toBeGreaterThan(RATE / 3);
    }
    for (const service of ["dynamodb", "kinesis"] as const)
      for (const kind of FAULT_KINDS)
        expect(faulty.proxies[service]?.faults[kind], `${service} ${kind}`).toBeGreaterThan(0);
    for (const service of ["sns", "opensearch"] as const)
      expect(faulty.proxies[service]?.faults.throttle, `${service} throttle`).toBeGreaterThan(0);
  });

  it("gave nothing up: no record reached an on-failure destination", () => {
    expect(clean.failures).toEqual({ Score: [], Alert: [], Audit: [] });
    expect(faulty.failures).toEqual({ Score: [], Alert: [], Audit: [] });
  });

  it("decided, quarantined and counted every record exactly once in both runs", () => {
    for (const run of [clean, faulty]) {
      const records = byKind(run.records);
      // The test's shard arithmetic is the stream's: every event landed where its entities were put.
      expect(records.events.every((e) => e.shardId.endsWith(String(shardOf(e.event.userId))))).toBe(true);
      const decisions = checkDecisions(records, run.decisionItems);
      expect(decisions.problems).toEqual([]);
      expect(decisions.decisions.size).toBe(EVENTS);
      expect(checkQuarantine(records, run.quarantine).problems).toEqual([]);
      expect(checkLedger(records, run.ledger).problems).toEqual([]);
    }
  });

  it("made every decision the fault-free run made", () => {
    const byEvent = (run: FaultRun) =>
      new Map(
        run.decisionItems
          .filter((i) => !/^(dup|recv)#/.test(String(i.eventId)))
          .map((i) => [String(i.eventId), comparable(i)]),
      );
    const a = byEvent(clean);
    const b = byEvent(faulty);
    expect(a.size).toBe(EVENTS);
    const differing = [...a].filter(([id, d]) => !isDeepStrictEqual(b.get(id), d)).map(([id]) => id);
    figures.decisionDifferences = differing.length;
    expect(differing.slice(0, 10)).toEqual([]);
    expect(b.size).toBe(a.size);
    const quarantined = (run: FaultRun) =>
      [...countBy(run.quarantine, (q) => `${q.eventId ?? ""}|${q.reason}|${q.partitionKey}`)].sort();
    expect(quarantined(faulty)).toEqual(quarantined(clean));
  });

  it("ended every entity in the fault-free run's state", () => {
    expect(clean.state.size).toBeGreaterThan(1000);
    const differing = [...clean.state]
      .filter(([id, s]) => !isDeepStrictEqual(faulty.state.get(id), s))
      .map(([id]) => id);
    figures.stateDifferences = differing.length;
    expect(differing.slice(0, 10)).toEqual([]);
    expect(faulty.state.size).toBe(clean.state.size);
  });

  it("sent the fault-free run's alerts, and indexed its audit documents", () => {
    const delivered = (run: FaultRun) =>
      run.deliveries.map((d) => `${String(d.eventId)}:${String(d.channel)}:${String(d.state)}`).sort();
    expect(delivered(faulty)).toEqual(delivered(clean));
    expect(clean.deliveries.every((d) => d.state === "sent")).toBe(true);
    expect(clean.sns.length).toBe(clean.deliveries.length);
    expect(clean.sns.length).toBeGreaterThan(0);

    // SNS has no publish de-duplication: a Publish it accepted whose answer was lost (a reset after
    // forwarding) is sent again by the retry. Those copies are the only difference allowed.
    const want = countBy(clean.sns, comparableAlert);
    const got = countBy(faulty.sns, comparableAlert);
    const missing = [...want].filter(([k, n]) => (got.get(k) ?? 0) < n);
    const unknown = [...got.keys()].filter((k) => !want.has(k));
    const copies = [...got].reduce((sum, [k, n]) => sum + Math.max(0, n - (want.get(k) ?? 0)), 0);
    const lostAnswers = faulty.proxies.sns?.faults.resetAfterForward ?? 0;
    figures.alerts = { clean: clean.sns.length, faulty: faulty.sns.length, copiesAfterLostAnswers: copies };
    expect(missing).toEqual([]);
    expect(unknown).toEqual([]);
    // A lost answer to a PublishBatch repeats at most its 10 entries.
    expect(copies).toBeLessThanOrEqual(10 * lostAnswers);

    const documents = (run: FaultRun) =>
      new Map(
        run.auditDocuments.map((d) => {
          const { decidedAt: _at, "@timestamp": _ts, ...rest } = d;
          return [String(d.eventId), rest];
        }),
      );
    const a = documents(clean);
    const b = documents(faulty);
    expect(a.size).toBe(EVENTS);
    expect(faulty.auditDocuments.length).toBe(EVENTS);
    const differing = [...a].filter(([id, d]) => !isDeepStrictEqual(b.get(id), d)).map(([id]) => id);
    figures.auditDifferences = differing.length;
    expect(differing.slice(0, 10)).toEqual([]);
    writeFileSync(REPORT, `${JSON.stringify(figures, null, 2)}\n`);
  });
});
