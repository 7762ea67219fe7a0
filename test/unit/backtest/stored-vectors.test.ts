import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { shippedConfiguration } from "#cli/backtest/configuration-in-force";
import { recomputeDecisions } from "#functions/backtest/recomputed-features";
import { backtestStoredVectors, engineFor, type StoredDecision } from "#functions/backtest/stored-vectors";
import { balance } from "#local/backtest/run-backtest";
import type { ArchivedRecord } from "#shared/domain/archive/archived-record";
import { compareEventTime, decodeArchivedRecords } from "#shared/domain/backtest/archived-events";
import { chooseBacktestPath, resolveCandidate } from "#shared/domain/backtest/configuration";
import { outcomesAsOf, parseOutcomeFile } from "#shared/domain/backtest/outcomes";
import { mergeTallies } from "#shared/domain/backtest/tally";
import { ConfigValidationError, compileFeatureDocument } from "#shared/domain/decision/index";
import { DEFAULT_FEATURE_SET } from "#shared/domain/features/index";
import { DEFAULT_SEED, DEFAULT_SIMULATION, simulate } from "#shared/domain/simulation/index";
import { candidateRulesYaml } from "../../support/backtest-fixtures.ts";

const START = Date.parse("2026-03-10T00:00:00.000Z");
const sim = simulate({
  ...DEFAULT_SIMULATION,
  seed: DEFAULT_SEED,
  startMs: START,
  users: 120,
  historyDays: 1,
});
const toRecord = (
  event: unknown,
  i: number,
  arrival: string,
  shard = "shardId-000000000000",
): ArchivedRecord => ({
  shardId: shard,
  sequenceNumber: String(1000 + i),
  arrivalTime: arrival,
  partitionKey: "p",
  data: Buffer.from(JSON.stringify(event)).toString("base64"),
  stream: "arn:aws:kinesis:us-east-1:000000000000:stream/e",
});
const records = sim.events.map((e, i) => toRecord(e, i, e.occurredAt));
const inForce = shippedConfiguration();
const resolved = resolveCandidate(inForce, { documents: { rules: parseYaml(candidateRulesYaml()) } });
const featureVersion = compileFeatureDocument(DEFAULT_FEATURE_SET).version;

/** Stored decisions as the pipeline would have stored them: vectors recomputed in event-time order. */
async function storedDecisions(): Promise<Map<string, StoredDecision>> {
  const { events } = decodeArchivedRecords(records);
  events.sort(compareEventTime);
  const { MemoryStateTable } = await import("#shared/adapters/memory-state-table");
  const { StateStoreEngine } = await import("#shared/adapters/state-store-engine");
  const store = new StateStoreEngine(new MemoryStateTable(), compileFeatureDocument(DEFAULT_FEATURE_SET));
  const out = new Map<string, StoredDecision>();
  const engine = engineFor(inForce.documents);
  let seq = 0;
  for (const { event, record } of events) {
    seq++;
    const pass = await store.prepare(
      [{ event, stream: "s", shardId: "shardId-000000000009", sequenceNumber: String(seq) }],
      new Map(),
    );
    const vector = pass.vectors.get(event.eventId);
    if (vector) {
      const d = engine.decide({ event, features: vector }, Date.parse(event.occurredAt));
      out.set(event.eventId, {
        eventId: event.eventId,
        action: d.action,
        decidedAt: event.occurredAt,
        features: vector,
        source: { shardId: record.shardId, sequenceNumber: record.sequenceNumber },
      });
    }
    await pass.commit();
  }
  return out;
}

describe("the stored-vector path", () => {
  it("re-decides every event from its stored vector, and slices add up to the whole", async () => {
    const stored = await storedDecisions();
    const deps = {
      decisions: {
        getMany: async (ids: readonly string[]) =>
          new Map(ids.flatMap((id) => (stored.has(id) ? [[id, stored.get(id) as StoredDecision]] : []))),
      },
      before: engineFor(resolved.inForce.documents),
      after: engineFor(resolved.candidate.documents),
      featureVersion,
      lookupBatch: 37,
    };
    const whole = await backtestStoredVectors(records, deps);
    expect(whole.compared).toBe(sim.events.length);
    expect(whole.storedDiffers).toBe(0);
    expect(whole.otherFeatureVersion).toBe(0);
    const slices = await Promise.all(
      balance(records, 5, () => 1).map((slice) => backtestStoredVectors(slice, deps)),
    );
    expect(mergeTallies(slices)).toEqual(whole);

    // The recomputed path, deciding from scratch in event-time order, agrees event by event.
    const { events } = decodeArchivedRecords(records);
    events.sort(compareEventTime);
    const before = await recomputeDecisions(events, resolved.inForce.documents);
    for (const [id, d] of stored) expect(before.get(id)?.action, id).toBe(d.action);
  });

  it("counts re-sent events, archive copies, quarantined records and events without a decision apart", async () => {
    const [first, second] = sim.events;
    if (!first || !second) throw new Error("no events");
    const original = toRecord(first, 1, first.occurredAt);
    const resent = toRecord(first, 2, first.occurredAt, "shardId-000000000001");
    const broken = {
      ...toRecord(first, 3, first.occurredAt),
      data: Buffer.from("{not json").toString("base64"),
    };
    const undecided = toRecord(second, 4, second.occurredAt);
    const decision: StoredDecision = {
      eventId: first.eventId,
      action: "pass",
      decidedAt: first.occurredAt,
      features: { version: featureVersion, values: {}, saturated: [], late: [] },
      source: { shardId: original.shardId, sequenceNumber: original.sequenceNumber },
    };
    const tally = await backtestStoredVectors([original, original, resent, broken, undecided], {
      decisions: { getMany: async () => new Map([[first.eventId, decision]]) },
      before: engineFor(resolved.inForce.documents),
      after: engineFor(resolved.candidate.documents),
      featureVersion: "another",
    });
    expect(tally.records).toEqual({
      read: 5,
      copies: 1,
      quarantined: { NOT_JSON: 1 },
      resent: 1,
      withoutDecision: 1,
    });
    expect(tally.compared).toBe(1);
    expect(tally.otherFeatureVersion).toBe(1);
  });
});

describe("the candidate", () => {
  it("takes the stored vectors only when features do not change", () => {
    expect(resolved.changed).toEqual(["rules"]);
    expect(chooseBacktestPath(resolved, true)).toBe("stored-vectors");
    expect(chooseBacktestPath(resolved, false)).toBe("recomputed-features");
    const features = {
      ...DEFAULT_FEATURE_SET,
      features: DEFAULT_FEATURE_SET.features.map((f) =>
        f.id === "payments_per_card_10m" ? { ...f, window: "15m" } : f,
      ),
    };
    const withFeatures = resolveCandidate(inForce, { documents: { features } });
    expect(withFeatures.featuresChange).toBe(true);
    expect(chooseBacktestPath(withFeatures, true)).toBe("recomputed-features");
  });

  it("replaces the policy of the rules in force, and refuses what apply would refuse", () => {
    const strict = resolveCandidate(inForce, {
      policy: { default: { bands: [{ minScore: 0.1, action: "review" }] } },
    });
    expect(strict.changed).toEqual(["rules"]);
    expect((strict.candidate.documents.rules as { policy: unknown }).policy).toEqual({
      default: { bands: [{ minScore: 0.1, action: "review" }] },
    });
    expect(() => resolveCandidate(inForce, { policy: { default: { bands: "x" } } })).toThrow(
      ConfigValidationError,
    );
    expect(() =>
      resolveCandidate(inForce, {
        documents: {
          rules: {
            rules: [
              {
                id: "r",
                description: "d",
                scenarios: ["login"],
                when: "features.nope > 1",
                action: "block",
                severity: "high",
                mode: "active",
              },
            ],
          },
        },
      }),
    ).toThrow(/unknown feature 'nope'/);
  });
});

describe("outcomes", () => {
  it("take labels known at the cutoff only, and ground truth as known from the event on", () => {
    const text = [
      JSON.stringify({
        schemaVersion: 1,
        subject: { eventId: "e1" },
        label: "legit",
        source: "review",
        observedAt: "2026-03-10T10:00:00Z",
        author: "a",
      }),
      JSON.stringify({
        schemaVersion: 1,
        subject: { eventId: "e1" },
        label: "fraud",
        category: "friendly_fraud",
        source: "chargeback",
        observedAt: "2026-03-20T10:00:00Z",
        author: "bank",
      }),
      JSON.stringify({
        schemaVersion: 1,
        subject: { entity: { type: "deviceId", value: "d" } },
        label: "fraud",
        source: "manual",
        observedAt: "2026-03-10T10:00:00Z",
        author: "a",
      }),
      JSON.stringify({
        eventId: "e2",
        type: "login",
        occurredAt: "2026-03-10T09:00:00Z",
        phase: "live",
        label: "attack",
        attack: "bot_logins",
        variant: "burst",
        actor: "x",
      }),
    ].join("\n");
    const labels = parseOutcomeFile(text);
    const early = outcomesAsOf(labels, Date.parse("2026-03-15T00:00:00Z"));
    expect(early.outcomes.get("e1")).toEqual({ label: "legit", category: "uncategorized" });
    expect(early.outcomes.get("e2")).toEqual({ label: "fraud", category: "bot_logins/burst" });
    expect(early.entityLabels).toBe(1);
    const late = outcomesAsOf(labels, Date.parse("2026-03-21T00:00:00Z"));
    expect(late.outcomes.get("e1")).toEqual({ label: "fraud", category: "friendly_fraud" });
    expect(() => parseOutcomeFile('{"eventId":"x"}\n', "f.ndjson")).toThrow(
      "f.ndjson line 1: neither a label nor a ground-truth line",
    );
  });
});
