import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { putEvents, type RejectedEvent } from "#shared/adapters/event-producer";
import type { PutResult } from "#shared/adapters/kinesis-producer";
import type { CleanEvent } from "#shared/domain/event/index";
import type { SendSchedule } from "#shared/domain/simulation/index";
import type { DecisionRecord, DecisionStore } from "#shared/ports/decision-store";

/**
 * Drives simulated traffic into a running pipeline: puts events on the stream on a schedule,
 * remembers when each was sent, and watches the decisions table for their decisions. Used by
 * `npm start`, `vigil simulate --to stream` and `npm run bench:e2e`.
 */

/** What the sender reports while it runs. */
export interface SendProgress {
  readonly phase: "backfill" | "live";
  readonly sent: number;
  readonly total: number;
  /** Event time of the last event sent (epoch ms), for a simulated clock. */
  readonly eventTime: number | undefined;
}

export interface SendOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly events: readonly CleanEvent[];
  readonly schedule: SendSchedule;
  /** Called between the backfill and the live phase (e.g. to wait for the pipeline to drain). */
  readonly afterBackfill?: () => Promise<void>;
  readonly onProgress?: (progress: SendProgress) => void;
  /** Called with the ids of the events each request placed on the stream, right after it. */
  readonly onSent?: (eventIds: readonly string[]) => void;
  /** Wall clock in epoch ms; injectable for tests. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Stops sending between requests (the rejection is the signal's reason). */
  readonly signal?: AbortSignal;
}

/** What sending did. */
export interface SendResult {
  /** Epoch ms at which each event's PutRecords request was issued; NaN if it was not sent. */
  readonly sentAt: Float64Array;
  readonly sent: number;
  /** Events the producer refused (same reasons the pipeline would quarantine for). */
  readonly rejected: ReadonlyArray<RejectedEvent & { readonly eventId: string }>;
  /** Events Kinesis still refused after every retry. */
  readonly failed: ReadonlyArray<PutResult["failed"][number] & { readonly eventId: string }>;
  readonly backfill: { readonly events: number; readonly startedAt: number; readonly endedAt: number };
  readonly live: { readonly events: number; readonly startedAt: number; readonly endedAt: number };
}

const encoder = new TextEncoder();
/** Largest PutRecords request the driver makes: Kinesis's own limit. */
const MAX_BATCH = 500;

/**
 * Sends `events` following `schedule`: the backfill as fast as the stream takes it, then the live
 * events each no earlier than its offset from the start of the live phase. Events that fall due
 * together go in one PutRecords request (at most 500), so a slow request makes the next batch
 * bigger rather than the schedule later.
 */
export async function sendOnSchedule(options: SendOptions): Promise<SendResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const sentAt = new Float64Array(options.events.length).fill(Number.NaN);
  const rejected: Array<SendResult["rejected"][number]> = [];
  const failed: Array<SendResult["failed"][number]> = [];
  let sent = 0;

  const put = async (
    indices: readonly number[],
    phase: SendProgress["phase"],
    total: number,
    done: number,
  ) => {
    const at = now();
    const result = await putEvents(
      options.kinesis,
      options.streamName,
      indices.map((i) => encoder.encode(JSON.stringify(options.events[i]))),
      { now: () => new Date(at) },
    );
    const eventIdOf = (k: number) => options.events[indices[k] ?? -1]?.eventId ?? "?";
    for (const r of result.rejected) rejected.push({ ...r, eventId: eventIdOf(r.index) });
    for (const f of result.failed) failed.push({ ...f, eventId: eventIdOf(f.index) });
    const placed: string[] = [];
    for (const p of result.placed) {
      const index = indices[p.index] ?? -1;
      sentAt[index] = at;
      placed.push(options.events[index]?.eventId ?? "?");
    }
    options.onSent?.(placed);
    sent += result.sent;
    const last = options.events[indices[indices.length - 1] ?? -1];
    options.onProgress?.({
      phase,
      sent: done + indices.length,
      total,
      eventTime: last ? Date.parse(last.occurredAt) : undefined,
    });
  };

  const backfillStart = now();
  const { backfill, live } = options.schedule;
  for (let i = 0; i < backfill.length; i += MAX_BATCH) {
    options.signal?.throwIfAborted();
    await put(backfill.slice(i, i + MAX_BATCH), "backfill", backfill.length, i);
  }
  const backfillEnd = now();
  if (backfill.length > 0) await options.afterBackfill?.();

  const liveStart = now();
  let next = 0;
  while (next < live.length) {
    options.signal?.throwIfAborted();
    const elapsed = now() - liveStart;
    const due: number[] = [];
    while (next < live.length && due.length < MAX_BATCH && (live[next]?.atMs ?? 0) <= elapsed) {
      due.push(live[next]?.index ?? -1);
      next++;
    }
    if (due.length === 0) {
      // Sleep until the next event falls due, but wake at least every 100 ms to stay on time.
      await sleep(Math.min(100, Math.max(1, (live[next]?.atMs ?? 0) - elapsed)));
      continue;
    }
    await put(due, "live", live.length, next - due.length);
  }
  return {
    sentAt,
    sent,
    rejected,
    failed,
    backfill: { events: backfill.length, startedAt: backfillStart, endedAt: backfillEnd },
    live: { events: live.length, startedAt: liveStart, endedAt: now() },
  };
}

/** A decision and the first time the watcher saw it stored. */
export interface SeenDecision {
  readonly decision: DecisionRecord;
  /** Epoch ms of the poll that first found it: at most one poll interval after it was stored. */
  readonly seenAt: number;
}

/**
 * Polls the decisions table for the decisions of events sent so far, oldest first. `seenAt` is
 * an upper bound on when a decision became readable (late by at most the poll interval plus the
 * poll itself); `decidedAt` inside the decision is the lower bound.
 */
export class DecisionWatcher {
  private readonly waiting: string[] = [];
  private readonly seen = new Map<string, SeenDecision>();
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<DecisionStore, "getMany">,
    private readonly options: {
      readonly pollMs?: number;
      /** Ids asked per poll at most (oldest first), to bound the load on the table. */
      readonly maxPerPoll?: number;
      readonly now?: () => number;
    } = {},
  ) {}

  /** Adds event ids to wait for. */
  expect(eventIds: Iterable<string>): void {
    for (const id of eventIds) if (!this.seen.has(id)) this.waiting.push(id);
  }

  /** Decisions seen so far. */
  get decided(): number {
    return this.seen.size;
  }

  /** Ids expected and not seen yet. */
  get pending(): number {
    return this.waiting.length;
  }

  /** One poll: asks for the oldest waiting ids and records what it finds. */
  async pollOnce(): Promise<number> {
    const now = this.options.now ?? Date.now;
    const batch = this.waiting.slice(0, this.options.maxPerPoll ?? 1000);
    if (batch.length === 0) return 0;
    const found = await this.store.getMany(batch);
    const at = now();
    for (const [id, decision] of found) this.seen.set(id, { decision, seenAt: at });
    if (found.size > 0) {
      const remaining = this.waiting.filter((id) => !found.has(id));
      this.waiting.length = 0;
      this.waiting.push(...remaining);
    }
    return found.size;
  }

  /** Starts polling in the background until {@link stop}. */
  start(): void {
    const pollMs = this.options.pollMs ?? 250;
    this.loop ??= (async () => {
      while (!this.stopped) {
        const started = Date.now();
        await this.pollOnce();
        await new Promise((r) => setTimeout(r, Math.max(0, pollMs - (Date.now() - started))));
      }
    })();
  }

  /**
   * Resolves when every expected decision is seen; rejects after `timeoutMs` with how many are
   * missing, or when `signal` aborts.
   */
  async waitForAll(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.waiting.length > 0) {
      signal?.throwIfAborted();
      if (Date.now() > deadline) {
        throw new Error(
          `${this.waiting.length} decision(s) still missing after ${Math.round(timeoutMs / 1000)} s`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
      if (!this.loop) await this.pollOnce();
    }
  }

  /** Stops background polling (waits for the poll in flight). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** Every decision seen, by eventId. */
  results(): ReadonlyMap<string, SeenDecision> {
    return this.seen;
  }
}

/** The p-th percentile (0-100) of values by nearest rank; undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}
