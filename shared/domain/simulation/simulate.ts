import type { CleanEvent } from "#shared/domain/event/index";
import { stageAttack } from "#shared/domain/simulation/attacks";
import { type Draft, DraftSink, IdFactory } from "#shared/domain/simulation/drafts";
import { AddressBook } from "#shared/domain/simulation/geography";
import type { GroundTruth } from "#shared/domain/simulation/ground-truth";
import { historyTraffic, liveTraffic, type Timeline } from "#shared/domain/simulation/legit-traffic";
import { buildPopulation } from "#shared/domain/simulation/population";
import { Rng } from "#shared/domain/simulation/random";
import { type SimulationConfig, simulationConfigSchema } from "#shared/domain/simulation/simulation-config";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The calendar every simulation is generated on: the live window starts on a Tuesday at 00:00
 * UTC. Times are then shifted to `config.startMs`, so a config differing only in its start gives
 * the same events, ids and labels, each moved by the same amount: daily rhythm and working days
 * follow this calendar, not the wall clock of the run.
 */
export const SIMULATION_EPOCH_MS = Date.UTC(2026, 2, 3);

/** A simulation's output: events in event-time order and, index for index, their ground truth. */
export interface Simulation {
  readonly config: SimulationConfig;
  readonly timeline: Timeline;
  readonly events: readonly CleanEvent[];
  /** `truth[i]` is the truth of `events[i]` (same eventId). */
  readonly truth: readonly GroundTruth[];
}

/**
 * Generates simulated traffic: a population with its history, a live window of legitimate
 * traffic with its daily rhythm and look-alikes, and the configured attacks. Pure: the same
 * config gives the same events, ids and labels. Events are valid clean events (they decode to
 * themselves), sorted by `occurredAt`; none lies outside [history start, live end).
 */
export function simulate(input: SimulationConfig): Simulation {
  const config = simulationConfigSchema.parse(input);
  const generated: Timeline = {
    historyStart: SIMULATION_EPOCH_MS - Math.round(config.historyDays * DAY_MS),
    liveStart: SIMULATION_EPOCH_MS,
    liveEnd: SIMULATION_EPOCH_MS + Math.round(config.liveHours * HOUR_MS),
  };
  const shift = config.startMs - SIMULATION_EPOCH_MS;
  const timeline: Timeline = {
    historyStart: generated.historyStart + shift,
    liveStart: generated.liveStart + shift,
    liveEnd: generated.liveEnd + shift,
  };
  // Separate streams per part: adding an attack leaves the population and its traffic as they were.
  const ids = new IdFactory(Rng.derive(config.seed, "ids"));
  const addresses = new AddressBook(Rng.derive(config.seed, "addresses"));
  const sink = new DraftSink();
  const population = buildPopulation(Rng.derive(config.seed, "population"), config.users, ids, addresses);
  const merchantRng = Rng.derive(config.seed, "merchants");
  const merchants = Array.from({ length: 200 }, () => `m_${merchantRng.hex(6)}`);
  const legit = { population, timeline: generated, ids, addresses, sink, merchants };
  historyTraffic({ ...legit, rng: Rng.derive(config.seed, "history") });
  liveTraffic({ ...legit, rng: Rng.derive(config.seed, "live") }, config.newUsersPerDay);
  const victims = new Set<string>();
  for (const plan of config.attacks) {
    for (let i = 0; i < plan.instances; i++) {
      const rng = Rng.derive(config.seed, `attack/${plan.type}/${plan.variant}/${i}`);
      stageAttack(
        { rng, population, timeline: generated, ids, addresses, sink, victims, merchants },
        plan.type,
        plan.variant,
        i,
      );
    }
  }

  // Keep the timeline's bounds exactly (a session's last step can spill past the end), then order
  // by event time; ties keep generation order, so the order is a function of the config alone.
  const drafts = sink.drafts
    .map((draft, seq) => ({ draft, seq }))
    .filter(({ draft }) => draft.t >= generated.historyStart && draft.t < generated.liveEnd)
    .sort((a, b) => a.draft.t - b.draft.t || a.seq - b.seq);
  const idRng = Rng.derive(config.seed, "event-ids");
  const usedIds = new Set<string>();
  const events: CleanEvent[] = [];
  const truth: GroundTruth[] = [];
  for (const { draft } of drafts) {
    let eventId: string;
    do eventId = `evt_${idRng.hex(20)}`;
    while (usedIds.has(eventId));
    usedIds.add(eventId);
    const event = toEvent(draft, eventId, shift);
    events.push(event);
    truth.push({
      ...draft.truth,
      ...(draft.truth.label === "legit" ? { customer: event.userId } : {}),
      eventId,
      type: event.type,
      occurredAt: event.occurredAt,
      phase: draft.phase,
    });
  }
  return { config, timeline, events, truth };
}

/** A draft as the event a producer would send (already in clean form). */
function toEvent(draft: Draft, eventId: string, shift: number): CleanEvent {
  const { origin } = draft;
  const { type, ...fields } = draft.body;
  const event = {
    schemaVersion: 1,
    eventId,
    type,
    occurredAt: new Date(draft.t + shift).toISOString(),
    userId: origin.userId,
    ip: origin.ip,
    deviceId: origin.deviceId,
    geo: { country: origin.country, city: origin.city },
    ...fields,
    ...(draft.attributes ? { attributes: draft.attributes } : {}),
  };
  // The body's fields are the type's own: the union is exactly CleanEvent's (tests decode every event).
  return event as CleanEvent;
}
