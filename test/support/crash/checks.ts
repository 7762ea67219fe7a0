import { isDeepStrictEqual } from "node:util";
import { LOCAL_ALERT_TOPIC_ARN } from "#shared/adapters/outbox-alert-publisher";
import { snsPublishInput } from "#shared/adapters/sns-publish-input";
import { buildNotification } from "#shared/domain/alerts/alert-notification";
import { type AlertPolicy, planAlert } from "#shared/domain/alerts/alert-policy";
import { toAuditDocument } from "#shared/domain/audit/audit-document";
import {
  type DecisionMessage,
  type Pseudonymizer,
  toDecisionMessage,
} from "#shared/domain/decision-message/index";
import type { CleanEvent } from "#shared/domain/event/index";
import { eventKeyValues } from "#shared/domain/features/entity-key";
import {
  type CompiledFeature,
  type CompiledFeatureSet,
  compareSequenceNumbers,
  type FeatureSnapshot,
  type LatenessAllowance,
  ReferenceFeatures,
} from "#shared/domain/features/index";
import type { DecisionRecord } from "#shared/ports/decision-store";
import type { QuarantineEntry } from "#shared/ports/quarantine-store";
import type { ShardLedger } from "#shared/ports/receipt-ledger";
import type { EntityReading } from "#shared/ports/state-store";
import type { OutboxAlert } from "./outcomes.ts";
import type { PutRecord } from "./traffic.ts";

/**
 * The crash and fault tests' checks of a finished run against what was put. Each returns the
 * differences it found (a test expects none) and the figures it counted; none of them passes on
 * an empty input where something was expected.
 */

type EventRecord = Extract<PutRecord, { kind: "event" }>;
type ResendRecord = Extract<PutRecord, { kind: "resend" }>;
type HostileRecord = Extract<PutRecord, { kind: "hostile" }>;

/** The records of a run by kind, each list in per-shard sequence order (shards in id order). */
export interface RunRecords {
  readonly events: readonly EventRecord[];
  readonly resends: readonly ResendRecord[];
  readonly hostile: readonly HostileRecord[];
  readonly all: readonly PutRecord[];
}

/** Splits and orders what was put. */
export function byKind(records: readonly PutRecord[]): RunRecords {
  const ordered = [...records].sort((a, b) =>
    a.shardId === b.shardId
      ? compareSequenceNumbers(a.sequenceNumber, b.sequenceNumber)
      : a.shardId < b.shardId
        ? -1
        : 1,
  );
  return {
    events: ordered.filter((r): r is EventRecord => r.kind === "event"),
    resends: ordered.filter((r): r is ResendRecord => r.kind === "resend"),
    hostile: ordered.filter((r): r is HostileRecord => r.kind === "hostile"),
    all: ordered,
  };
}

const sample = (list: string[], limit = 20) => list.slice(0, limit);

/**
 * Exactly one decision per eventId, decided from the event's first record; one duplicate marker
 * per re-sent record naming its eventId; no decision or marker for anything else.
 */
export function checkDecisions(run: RunRecords, items: readonly Record<string, unknown>[]) {
  const decisions = new Map<string, DecisionRecord>();
  const markers = new Map<string, Record<string, unknown>>();
  const problems: string[] = [];
  for (const item of items) {
    const key = String(item.eventId);
    if (key.startsWith("recv#")) continue;
    if (key.startsWith("dup#")) markers.set(key.slice(4), item);
    else {
      const { expiresAt: _ttl, ...decision } = item;
      decisions.set(key, decision as unknown as DecisionRecord);
    }
  }
  for (const e of run.events) {
    const d = decisions.get(e.event.eventId);
    if (!d) problems.push(`no decision for ${e.event.eventId}`);
    else if (d.source.shardId !== e.shardId || d.source.sequenceNumber !== e.sequenceNumber)
      problems.push(
        `${e.event.eventId} decided from ${d.source.shardId}:${d.source.sequenceNumber}, not its first record`,
      );
  }
  const eventIds = new Set(run.events.map((e) => e.event.eventId));
  for (const id of decisions.keys())
    if (!eventIds.has(id)) problems.push(`a decision for ${id}, which was not sent`);
  for (const r of run.resends) {
    const m = markers.get(`${r.shardId}:${r.sequenceNumber}`);
    if (!m) problems.push(`no duplicate marker for the re-sent record ${r.shardId}:${r.sequenceNumber}`);
    else if (m.duplicateOf !== r.eventId)
      problems.push(`duplicate marker ${r.sequenceNumber} names ${String(m.duplicateOf)}`);
  }
  const resent = new Set(run.resends.map((r) => `${r.shardId}:${r.sequenceNumber}`));
  for (const key of markers.keys())
    if (!resent.has(key)) problems.push(`a duplicate marker for ${key}, which is not a re-send`);
  return { problems: sample(problems), problemCount: problems.length, decisions, markers: markers.size };
}

/** Exactly one quarantine entry per hostile record, with its expected reason, and no other entry. */
export function checkQuarantine(run: RunRecords, entries: readonly QuarantineEntry[]) {
  const byId = new Map<string, QuarantineEntry[]>();
  for (const e of entries) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
  const problems: string[] = [];
  for (const h of run.hostile) {
    const id = `${h.shardId}:${h.sequenceNumber}`;
    const found = byId.get(id) ?? [];
    if (found.length !== 1) problems.push(`${h.kindName} (${id}): ${found.length} entries`);
    else if (found[0]?.reason !== h.expectedReason)
      problems.push(`${h.kindName} (${id}): ${found[0]?.reason}, expected ${h.expectedReason}`);
    else if (found[0]?.data !== Buffer.from(h.data).toString("base64"))
      problems.push(`${h.kindName} (${id}): stored bytes differ`);
  }
  const hostileIds = new Set(run.hostile.map((h) => `${h.shardId}:${h.sequenceNumber}`));
  for (const e of entries)
    if (!hostileIds.has(e.id)) problems.push(`an entry for ${e.id} (${e.reason}), which is not hostile`);
  return { problems: sample(problems), problemCount: problems.length, entries: entries.length };
}

/**
 * The receipt ledger of each shard counts exactly the records put on it, each once as what it
 * ended as: received = decided + quarantined + duplicates, each term equal to the records put.
 */
export function checkLedger(run: RunRecords, ledger: ReadonlyMap<string, ShardLedger | undefined>) {
  const problems: string[] = [];
  const totals = { received: 0, decided: 0, quarantined: 0, duplicates: 0 };
  for (const [shardId, tally] of ledger) {
    const on = (list: readonly PutRecord[]) => list.filter((r) => r.shardId === shardId).length;
    const expected = {
      received: on(run.all),
      decided: on(run.events),
      quarantined: on(run.hostile),
      duplicates: on(run.resends),
    };
    const actual = {
      received: tally?.received ?? 0,
      decided: tally?.decided ?? 0,
      quarantined: tally?.quarantined ?? 0,
      duplicates: tally?.duplicates ?? 0,
    };
    if (!isDeepStrictEqual(actual, expected))
      problems.push(`${shardId}: ledger ${JSON.stringify(actual)}, records put ${JSON.stringify(expected)}`);
    if (actual.received !== actual.decided + actual.quarantined + actual.duplicates)
      problems.push(`${shardId}: received ${actual.received} is not decided + quarantined + duplicates`);
    for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += actual[k];
  }
  return { problems, totals };
}

/**
 * Whether a feature's values do not depend on timing: its entity is keyed by the partition key
 * (userId), and so is every step of a link count (a link whose last step is a shared entity, such
 * as accounts through the user's number blocks, reads what other shards have committed).
 */
function timingFree(f: CompiledFeature, set: CompiledFeatureSet): boolean {
  const userKeyed = (g: CompiledFeature) => g.entity.fields.includes("userId");
  const link = set.linked.find((l) => l.feature.id === f.id);
  return userKeyed(f) && (!link || link.steps.every(userKeyed));
}

/** An allowance under which no reader is late: the horizon minus an infinite reach is before every bucket. */
const NEVER_LATE: LatenessAllowance = { processingLagMs: Number.POSITIVE_INFINITY, maxFutureSkewMs: 0 };

/** The feature set with every distinct count's cap lifted (link steps included). */
function uncapped(set: CompiledFeatureSet): CompiledFeatureSet {
  const lift = (f: CompiledFeature): CompiledFeature =>
    f.aggregation === "distinct" ? { ...f, maxDistinct: Number.POSITIVE_INFINITY } : f;
  const features = set.features.map(lift);
  const byId = new Map(features.map((f) => [f.id, f]));
  const same = (f: CompiledFeature) => byId.get(f.id) ?? f;
  return {
    ...set,
    features,
    groups: set.groups.map((g) => ({ ...g, features: g.features.map(same) })),
    linked: set.linked.map((l) => ({ ...l, feature: same(l.feature), steps: l.steps.map(same) })),
  };
}

/**
 * The key values of `f`'s entity in `event` as the feature engine reads them (derived keys such
 * as `phone.block` included), or undefined when the event lacks one.
 */
function keyOf(f: CompiledFeature, set: CompiledFeatureSet, event: CleanEvent): string[] | undefined {
  const group = set.groups.find((g) => g.entity.name === f.entity.name);
  if (group) return eventKeyValues(group, event);
  const link = set.linked.find((l) => l.feature.id === f.id);
  if (!link) throw new Error(`no key readers for ${f.id}'s entity ${f.entity.name}`);
  const values: string[] = [];
  for (const read of link.keys) {
    const value = read(event);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return values;
}

/**
 * Per-event feature values against the reference (docs/features.md section 5):
 * - features keyed by the partition key (userId, userId+deviceId), and link counts all of whose
 *   steps are: exactly the reference's value, fed every event in its shard's order (a user's
 *   events are all on one shard);
 * - features of entities shared across shards (device, IP, card, phone block, ...) and link counts
 *   through one, whose values depend on when the other shard's batches were committed: at least
 *   what the event's own shard had counted before it (a reference fed only that shard, in order)
 *   and at most what every event of the run that can lie in its window adds up to (a reference
 *   fed all events in time order, read at the event's time once every event up to the end of its
 *   buckets is in, distinct counts uncapped, no reader late); first-seen times the other way round. A distinct
 *   value the store reports saturated is bounded below by 0 only: the cap keeps the latest
 *   sightings, so another shard's events of a later bucket can displace the own shard's.
 * No event may be late (the traffic is sent within seconds of its event time).
 */
export function checkEventValues(
  run: RunRecords,
  decisions: ReadonlyMap<string, DecisionRecord>,
  features: CompiledFeatureSet,
) {
  const full = new ReferenceFeatures(features);
  const exactFeatures = features.features.filter((f) => timingFree(f, features));
  const shared = features.features.filter((f) => !timingFree(f, features));
  const perShard = new Map<string, ReferenceFeatures>();
  const lower = new Map<string, Record<string, number | null>>();
  const problems: string[] = [];
  let exact = 0;
  let bounded = 0;
  for (const e of run.events) {
    const vector = full.process(e.event);
    let shardRef = perShard.get(e.shardId);
    if (!shardRef) {
      shardRef = new ReferenceFeatures(features);
      perShard.set(e.shardId, shardRef);
    }
    const own = shardRef.process(e.event);
    if (own) lower.set(e.event.eventId, own.values);
    const stored = decisions.get(e.event.eventId)?.features;
    if (!vector || !stored) continue;
    if (stored.late.length > 0) problems.push(`${e.event.eventId}: late ${stored.late.join(",")}`);
    for (const f of exactFeatures) {
      exact++;
      if (stored.values[f.id] !== vector.values[f.id])
        problems.push(`${e.event.eventId} ${f.id}: ${stored.values[f.id]}, reference ${vector.values[f.id]}`);
      if (stored.saturated.includes(f.id) !== vector.saturated.includes(f.id))
        problems.push(`${e.event.eventId} ${f.id}: saturated differs`);
    }
  }

  // Upper bounds: every event in time order, read once all events up to the end of the reader's
  // bucket are in (the longest bucket of a windowed shared feature or link step; first and last
  // seen do not need later events). That is far less than any feature's reach, so no reader is late.
  const time = (e: EventRecord) => Date.parse(e.event.occurredAt);
  const ahead = Math.max(
    0,
    ...features.features
      .filter((f) => f.stateKind !== "none" && f.aggregation !== "firstSeen" && f.aggregation !== "lastSeen")
      .map((f) => f.bucketMs),
  );
  const inTime = [...run.events].sort((a, b) => time(a) - time(b));
  // Uncapped: a capped distinct set keeps the latest sightings, so once events of later buckets
  // are in, it may have forgotten values an earlier reader counted (an upper bound read from it
  // can be 0). The store's kept values in a window are always among those sighted there.
  // And with no lateness: fed events up to the longest bucket ahead, an entity's horizon can lie
  // beyond a short window's reach behind the reader, which would read nothing (late). The bound is
  // what the window holds, so the reader is never late to it.
  const upper = new ReferenceFeatures(uncapped(features), NEVER_LATE);
  let fed = 0;
  for (const e of inTime) {
    const t = time(e);
    for (let next = inTime[fed]; next && time(next) <= t + ahead; next = inTime[++fed])
      upper.process(next.event);
    const stored = decisions.get(e.event.eventId)?.features;
    const own = lower.get(e.event.eventId);
    if (!stored || !own) continue;
    const reads = new Map<string, FeatureSnapshot[]>();
    for (const f of shared) {
      const key = keyOf(f, features, e.event);
      const value = stored.values[f.id] ?? null;
      const least = own[f.id] ?? null;
      if (!key) {
        if (value !== null) problems.push(`${e.event.eventId} ${f.id}: ${value} without the entity's key`);
        continue;
      }
      let most: number | null;
      let late = false;
      if (f.stateKind === "none") {
        const link = upper.readLink(f.id, e.event, t);
        most = link.value;
        late = link.late;
      } else {
        let read = reads.get(f.entity.name);
        if (!read) {
          read = upper.read(f.entity.name, key, t);
          reads.set(f.entity.name, read);
        }
        const snap = read.find((s) => s.id === f.id);
        late = snap?.late ?? false;
        if (f.aggregation === "sum") {
          const series = f.series?.(e.event);
          const totals = (snap?.value ?? {}) as Record<string, number>;
          most = series === undefined ? null : (totals[series] ?? 0);
        } else most = (snap?.value as number | null | undefined) ?? null;
      }
      bounded++;
      if (value === null || least === null || most === null) {
        if (value !== least || late)
          problems.push(`${e.event.eventId} ${f.id}: ${value}, own shard ${least}, at most ${most}`);
        continue;
      }
      // First seen is a minimum: more events can only make it earlier. A saturated distinct value
      // (a sighting in its window was forgotten by the cap) may lie below the own shard's count:
      // other shards' later sightings can have displaced the own shard's; then 0 is the least.
      const floor = stored.saturated.includes(f.id) ? 0 : least;
      const ok =
        f.aggregation === "firstSeen" ? most <= value && value <= least : floor <= value && value <= most;
      if (!ok) problems.push(`${e.event.eventId} ${f.id}: ${value} outside [${least}, ${most}]`);
    }
  }
  return { problems: sample(problems), problemCount: problems.length, exact, bounded, reference: full };
}

/**
 * Every entity's final state equals the reference's (read at one instant by both), and its
 * high-water marks name records that were applied (an event's first record on that shard).
 */
export async function checkFinalState(
  run: RunRecords,
  features: CompiledFeatureSet,
  reference: ReferenceFeatures,
  read: (entityType: string, keyValues: readonly string[]) => Promise<EntityReading>,
  at: number,
) {
  const entities = new Map<string, { type: string; values: string[] }>();
  const applied = new Map<string, Set<string>>();
  for (const e of run.events) {
    for (const f of features.features) {
      if (f.stateKind === "none") continue; // link counts keep no state of their own
      const key = keyOf(f, features, e.event);
      if (!key) continue;
      const id = `${f.entity.name}\u0000${key.join("\u0000")}`;
      entities.set(id, { type: f.entity.name, values: key });
      const seqs = applied.get(id) ?? new Set<string>();
      seqs.add(`${e.shardId}/${e.sequenceNumber}`);
      applied.set(id, seqs);
    }
  }
  const problems: string[] = [];
  const byId = (snapshots: readonly FeatureSnapshot[]) =>
    [...snapshots].sort((a, b) => (a.id < b.id ? -1 : 1));
  const list = [...entities];
  let next = 0;
  const worker = async () => {
    for (;;) {
      const item = list[next++];
      if (!item) return;
      const [id, { type, values }] = item;
      const reading = await read(type, values);
      const want = byId(reference.read(type, values, at));
      const got = byId(reading.features);
      if (!isDeepStrictEqual(JSON.parse(JSON.stringify(got)), JSON.parse(JSON.stringify(want))))
        problems.push(
          `${type} ${values.join(",")}: stored ${JSON.stringify(got)} reference ${JSON.stringify(want)}`,
        );
      for (const [mark, sequenceNumber] of Object.entries(reading.highWater)) {
        const shardId = mark.slice(mark.indexOf("/") + 1);
        if (!applied.get(id)?.has(`${shardId}/${sequenceNumber}`))
          problems.push(
            `${type} ${values.join(",")}: high-water mark ${mark}=${sequenceNumber} is not a record it applied`,
          );
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { problems: sample(problems, 5), problemCount: problems.length, entities: entities.size };
}

/** The decision message each stored decision must be published as. */
export function expectedMessages(
  run: RunRecords,
  decisions: ReadonlyMap<string, DecisionRecord>,
  pseudonymizer: Pseudonymizer,
): Map<string, DecisionMessage> {
  const out = new Map<string, DecisionMessage>();
  for (const e of run.events) {
    const d = decisions.get(e.event.eventId);
    if (!d) continue;
    const message = toDecisionMessage(e.event, d, d.features?.values ?? {}, pseudonymizer, d.decidedAt);
    out.set(e.event.eventId, JSON.parse(JSON.stringify(message)) as DecisionMessage);
  }
  return out;
}

/**
 * Every stored decision is on the decisions stream, every copy of it exactly the message of the
 * decision as stored; nothing else is.
 */
export function checkPublished(
  expected: ReadonlyMap<string, DecisionMessage>,
  stream: readonly Uint8Array[],
) {
  const copies = new Map<string, number>();
  const problems: string[] = [];
  for (const data of stream) {
    const message = JSON.parse(Buffer.from(data).toString("utf8")) as DecisionMessage;
    const want = expected.get(message.eventId);
    copies.set(message.eventId, (copies.get(message.eventId) ?? 0) + 1);
    if (!want) problems.push(`published ${message.eventId}, which has no stored decision`);
    else if (!isDeepStrictEqual(message, want))
      problems.push(`${message.eventId}: a published copy differs from the stored decision`);
  }
  for (const id of expected.keys()) if (!copies.has(id)) problems.push(`${id} was never published`);
  const republished = [...copies.values()].filter((n) => n > 1).length;
  return { problems: sample(problems), problemCount: problems.length, messages: stream.length, republished };
}

/** Exactly one audit document per decision, equal to the document of its message; no other document. */
export function checkAudit(
  expected: ReadonlyMap<string, DecisionMessage>,
  documents: ReadonlyMap<string, ReadonlyArray<{ index: string; document: unknown }>>,
) {
  const problems: string[] = [];
  for (const [id, message] of expected) {
    const docs = documents.get(id) ?? [];
    if (docs.length !== 1) problems.push(`${id}: ${docs.length} audit documents`);
    else if (!isDeepStrictEqual(docs[0]?.document, JSON.parse(JSON.stringify(toAuditDocument(message)))))
      problems.push(`${id}: the audit document differs from the decision's`);
  }
  for (const id of documents.keys())
    if (!expected.has(id)) problems.push(`an audit document for ${id}, which has no decision`);
  return { problems: sample(problems), problemCount: problems.length, documents: documents.size };
}

/** An alert delivery item of the alerts table. */
export interface DeliveryItem {
  readonly eventId: string;
  readonly channel: "sms" | "email";
  readonly state: string;
  readonly messageId?: string;
  readonly suppressedBefore?: number;
}

/** A span of time a runtime process lived and was killed at the end of. */
export interface KilledProcess {
  readonly startedAt: number;
  readonly killedAt: number;
}

/**
 * Alerts: every decision the policy selects has a settled delivery (`sent` or `suppressed`) per
 * channel, and nothing else has one; every `sent` delivery has exactly its one outbox file, whose
 * content is the notification of the decision; and no other file exists, except duplicates at
 * the alert function's one documented at-least-once edge (docs/alerts.md: a crash after the publish and before
 * the delivery is marked `sent` publishes it again): such a file must be a copy of a sent
 * delivery's notification, not marked sent itself, and written by a process that was then killed
 * within `edgeMs` of writing it.
 */
export function checkAlerts(
  expected: ReadonlyMap<string, DecisionMessage>,
  policy: AlertPolicy,
  deliveries: readonly DeliveryItem[],
  outbox: readonly OutboxAlert[],
  killed: readonly KilledProcess[],
  edgeMs = 10_000,
) {
  const problems: string[] = [];
  const byKey = new Map(deliveries.map((d) => [`${d.eventId}:${d.channel}`, d]));
  const wanted = new Map<string, { message: DecisionMessage; severity: ReturnType<typeof planAlert> }>();
  for (const message of expected.values()) {
    const plan = planAlert(message, policy, new Date(message.decidedAt));
    if (!plan.alert) continue;
    for (const channel of plan.channels)
      wanted.set(`${message.eventId}:${channel}`, { message, severity: plan });
  }
  const files = new Map(outbox.map((f) => [f.messageId, f]));
  const expectedInputs = new Map<string, string>();
  let sent = 0;
  let suppressed = 0;
  for (const [key, { message, severity: plan }] of wanted) {
    const d = byKey.get(key);
    if (!d) {
      problems.push(`${key}: selected by the policy, no delivery`);
      continue;
    }
    if (d.state === "suppressed") {
      suppressed++;
      continue;
    }
    if (d.state !== "sent" || !d.messageId || !plan.alert) {
      problems.push(`${key}: delivery left ${d.state}`);
      continue;
    }
    sent++;
    const input = snsPublishInput(
      LOCAL_ALERT_TOPIC_ARN,
      buildNotification(message, d.channel, plan.severity, d.suppressedBefore ?? 0),
    );
    const text = JSON.stringify(input);
    expectedInputs.set(text, key);
    const file = files.get(d.messageId);
    if (!file) problems.push(`${key}: sent as ${d.messageId}, no such outbox file`);
    else if (!isDeepStrictEqual(file.input, JSON.parse(text)))
      problems.push(`${key}: the outbox file differs from the notification`);
  }
  for (const key of byKey.keys())
    if (!wanted.has(key)) problems.push(`${key}: a delivery the policy does not select`);
  const marked = new Set(deliveries.map((d) => d.messageId).filter((m): m is string => m !== undefined));
  let edgeDuplicates = 0;
  for (const f of outbox) {
    if (marked.has(f.messageId)) continue;
    const copyOf = expectedInputs.get(JSON.stringify(f.input));
    const byKilled = killed.some(
      (k) => k.startedAt <= f.writtenAt && f.writtenAt <= k.killedAt && k.killedAt - f.writtenAt <= edgeMs,
    );
    if (copyOf && byKilled) edgeDuplicates++;
    else
      problems.push(
        `outbox file ${f.file} is no sent delivery${copyOf ? ` (a copy of ${copyOf}, not written just before a kill)` : ""}`,
      );
  }
  return {
    problems: sample(problems),
    problemCount: problems.length,
    sent,
    suppressed,
    files: outbox.length,
    edgeDuplicates,
  };
}
