/**
 * Decision-engine benchmark: decisions per second on one core for the default rules, model,
 * lists and policy, side by side in one run with
 *
 *   (a) json-rules-engine evaluating the same rules (a popular rules-as-JSON engine), and
 *   (b) the same rules hand-written in TypeScript (the practical limit),
 *
 * all three on the same simulated events with their feature values (test/support/
 * simulated-traffic.ts, production mix, about 2% fraud), with the same model scoring (the model's
 * fast path, as the engine uses it), list lookups and policy, so the differences are the rule
 * engines. Before timing, the three must agree on every event's rule hits and action. Rounds are
 * interleaved (each round times every contender once) and the best round counts, so a burst of
 * load on a shared machine does not favour whoever ran while it was quiet.
 *
 * Then the stored-vector backtest (functions/backtest/stored-vectors.ts) on the same events as
 * archived records with stored decisions: decode with the pipeline's decoder, decide with the
 * configuration in force and with a candidate, tally; events per second on one core.
 *
 *   npm run bench:engine            (tsx bench/engine.ts)
 *   npx tsx bench/engine.ts --events 50000 --rounds 5
 */
import { parseArgs } from "node:util";
import { Engine as JsonRulesEngine, type RuleProperties, type TopLevelCondition } from "json-rules-engine";
import { parse as parseYaml } from "yaml";
import { backtestStoredVectors } from "#functions/backtest/stored-vectors";
import { defaultDocuments } from "#shared/adapters/config-files";
import { MapDecisionLookup } from "#shared/adapters/decisions-file";
import type { ArchivedRecord } from "#shared/domain/archive/archived-record";
import { decodeArchivedRecords } from "#shared/domain/backtest/archived-events";
import {
  type Action,
  ALLOW_LIST,
  BLOCK_LIST,
  type CompiledModel,
  type CompiledRuleset,
  DecisionEngineFactory,
  type DecisionInput,
  type ListIndex,
  type ListKind,
  type ListSubject,
  listSubject,
  resolveAction,
} from "#shared/domain/decision/index";
import { storedEventFields } from "#shared/domain/decision/model/model-event-fields";
import { createPseudonymizer, toStoredDecisionContent } from "#shared/domain/decision-message/index";
import type { CleanEvent, EventType } from "#shared/domain/event/index";
import { minorUnits } from "#shared/domain/event/index";
import type { DatasetRow } from "#shared/domain/training/dataset";
import { trainModel } from "#shared/domain/training/train";
import type { DecisionRecord } from "#shared/ports/decision-store";
import { PRODUCTION_MIX, simulateTraffic } from "../test/support/simulated-traffic.ts";

const { values: args } = parseArgs({
  options: { events: { type: "string", default: "20000" }, rounds: { type: "string", default: "3" } },
});
const EVENTS = Number(args.events);
const ROUNDS = Number(args.rounds);

// --- The configuration under test: the shipped defaults -------------------------------------

const documents = defaultDocuments();
const factory = new DecisionEngineFactory();
const rulesPart = factory.rules({ version: 1, document: documents.rules });
const listsPart = factory.lists({ version: 1, document: documents.lists });
const modelPart = factory.model({ version: 1, document: documents.model });
const vigil = factory.engine({ rules: rulesPart, lists: listsPart, model: modelPart });
const ruleset: CompiledRuleset = rulesPart.ruleset;
const lists: ListIndex = listsPart.index;
const model: CompiledModel = modelPart.active;

const simulated = simulateTraffic(EVENTS, { seed: 4242, mix: PRODUCTION_MIX });
// A few events come from block-listed entities (the default lists block 192.0.2.0/24 and
// mailinator.com), so the list paths are exercised and compared too.
const inputs: DecisionInput[] = simulated.map((s, i) => {
  let event = s.event;
  if (i % 400 === 7) event = { ...event, ip: `192.0.2.${i % 250}` };
  if (i % 700 === 11) event = { ...event, email: `u${i}@mailinator.com` };
  return { event, features: { version: "bench", values: s.features } };
});
const NOW = Date.parse(inputs[0]?.event.occurredAt ?? "2026-03-01T00:00:00.000Z");

/** What every contender produces per event: the hits (active and shadow) and the action. */
interface Outcome {
  readonly hits: readonly string[];
  readonly action: Action;
}

// --- Shared by (a) and (b): lists, model, policy, exactly as the engine does them ------------

interface Prepared {
  readonly subject: ListSubject;
  readonly score: number;
  readonly blockListed: boolean;
  readonly allowListed: boolean;
  readonly list: (name: string, kind: ListKind) => boolean;
}

function prepare(input: DecisionInput): Prepared {
  const { event } = input;
  const policy = ruleset.policies[event.type];
  const subject = listSubject(event);
  const list = (name: string, kind: ListKind) => lists.match(name, kind, subject, NOW) !== undefined;
  const modelInput = { event, eventMs: Date.parse(event.occurredAt), features: input.features.values };
  const score = model.scoreTop ? model.scoreTop(modelInput, 0).score : model.score(modelInput).score;
  return {
    subject,
    score,
    blockListed: policy.blockList.some((k) => list(BLOCK_LIST, k)),
    allowListed: policy.allowList.some((k) => list(ALLOW_LIST, k)),
    list,
  };
}

const ruleById = new Map(ruleset.rules.map((r) => [r.rule.id, r.rule]));

function finish(input: DecisionInput, p: Prepared, hits: string[]): Outcome {
  const active = hits.filter((id) => ruleById.get(id)?.mode === "active");
  const verdict = resolveAction(ruleset.policies[input.event.type], {
    blockListed: p.blockListed,
    allowListed: p.allowListed,
    ruleActions: active.map((id) => ruleById.get(id)?.action ?? "pass"),
    score: p.score,
  });
  return { hits: hits.sort(), action: verdict.action };
}

// --- (b) The same rules, hand-written ------------------------------------------------------

type Features = Readonly<Record<string, number | null | undefined>>;
type HandRule = (e: CleanEvent, f: Features, p: Prepared) => boolean;

const n = (f: Features, id: string): number | undefined => {
  const v = f[id];
  return typeof v === "number" ? v : undefined;
};
const ge = (f: Features, id: string, min: number) => (n(f, id) ?? Number.NEGATIVE_INFINITY) >= min;
const amountMinor = (e: CleanEvent) =>
  e.type === "order" || e.type === "payment"
    ? minorUnits({ amount: e.amount, currency: e.currency })
    : Number.NaN;

const HAND_RULES: Readonly<Record<string, HandRule>> = {
  block_listed_entity: (_e, _f, p) =>
    p.list("block", "user") ||
    p.list("block", "device") ||
    p.list("block", "ip") ||
    p.list("block", "card") ||
    p.list("block", "phone") ||
    p.list("block", "emailDomain"),
  register_device_farm: (_e, f) => ge(f, "registrations_per_device_24h", 5),
  register_shared_device: (_e, f) => ge(f, "accounts_per_device_1h", 3),
  register_ip_burst: (_e, f, p) => ge(f, "registrations_per_ip_1h", 10) && !p.list("allow", "ip"),
  register_shared_phone: (_e, f) => ge(f, "accounts_per_phone_24h", 3),
  coupon_farming_device: (_e, f) =>
    ge(f, "coupon_claims_per_device_campaign_24h", 2) && ge(f, "accounts_per_device_24h", 2),
  coupon_farming_ip: (_e, f, p) =>
    ge(f, "coupon_claims_per_ip_campaign_24h", 10) &&
    ge(f, "accounts_per_ip_24h", 5) &&
    !p.list("allow", "ip"),
  order_brushing: (e, f) =>
    amountMinor(e) <= 1000 && (ge(f, "accounts_per_device_24h", 4) || ge(f, "accounts_per_ip_1h", 8)),
  card_testing_small_payments: (e, f) => ge(f, "payments_per_card_10m", 5) && amountMinor(e) <= 200,
  card_testing_many_cards: (_e, f) => ge(f, "cards_per_device_24h", 4),
  card_shared_by_accounts: (_e, f) => ge(f, "accounts_per_card_24h", 3),
  impossible_travel: (_e, f) => ge(f, "countries_per_user_1h", 2),
  new_device_login: (e, f) =>
    n(f, "user_last_seen_30d") !== undefined &&
    n(f, "user_device_first_seen_30d") === Date.parse(e.occurredAt),
  login_device_hopping: (_e, f) =>
    ge(f, "devices_per_user_1h", 3) || ge(f, "ips_per_user_1h", 5) || ge(f, "logins_per_user_10m", 10),
  high_score_new_account: (_e, f, p) => p.score >= 0.6 && n(f, "user_last_seen_30d") === undefined,
};

const handByScenario = new Map<EventType, [string, HandRule][]>();
for (const [scenario, compiled] of Object.entries(ruleset.byScenario) as [
  EventType,
  typeof ruleset.rules,
][]) {
  handByScenario.set(
    scenario,
    compiled.map((c) => {
      const fn = HAND_RULES[c.rule.id];
      if (!fn) throw new Error(`no hand-written version of rule ${c.rule.id}`);
      return [c.rule.id, fn];
    }),
  );
}

function decideByHand(input: DecisionInput): Outcome {
  const p = prepare(input);
  const hits: string[] = [];
  for (const [id, fn] of handByScenario.get(input.event.type) ?? []) {
    if (fn(input.event, input.features.values, p)) hits.push(id);
  }
  return finish(input, p, hits);
}

// --- (a) The same rules for json-rules-engine ----------------------------------------------

const fact = (path: string, operator: string, value: unknown) => {
  const [name, ...rest] = path.split(".");
  return { fact: name ?? path, ...(rest.length > 0 ? { path: `$.${rest.join(".")}` } : {}), operator, value };
};
const JSON_RULES: Readonly<Record<string, TopLevelCondition>> = {
  block_listed_entity: {
    any: (["user", "device", "ip", "card", "phone", "emailDomain"] as const).map((k) =>
      fact(`lists.block.${k}`, "equal", true),
    ),
  },
  register_device_farm: { all: [fact("features.registrations_per_device_24h", "greaterThanInclusive", 5)] },
  register_shared_device: { all: [fact("features.accounts_per_device_1h", "greaterThanInclusive", 3)] },
  register_ip_burst: {
    all: [
      fact("features.registrations_per_ip_1h", "greaterThanInclusive", 10),
      fact("lists.allow.ip", "equal", false),
    ],
  },
  register_shared_phone: { all: [fact("features.accounts_per_phone_24h", "greaterThanInclusive", 3)] },
  coupon_farming_device: {
    all: [
      fact("features.coupon_claims_per_device_campaign_24h", "greaterThanInclusive", 2),
      fact("features.accounts_per_device_24h", "greaterThanInclusive", 2),
    ],
  },
  coupon_farming_ip: {
    all: [
      fact("features.coupon_claims_per_ip_campaign_24h", "greaterThanInclusive", 10),
      fact("features.accounts_per_ip_24h", "greaterThanInclusive", 5),
      fact("lists.allow.ip", "equal", false),
    ],
  },
  order_brushing: {
    all: [
      fact("event.amountMinor", "lessThanInclusive", 1000),
      {
        any: [
          fact("features.accounts_per_device_24h", "greaterThanInclusive", 4),
          fact("features.accounts_per_ip_1h", "greaterThanInclusive", 8),
        ],
      },
    ],
  },
  card_testing_small_payments: {
    all: [
      fact("features.payments_per_card_10m", "greaterThanInclusive", 5),
      fact("event.amountMinor", "lessThanInclusive", 200),
    ],
  },
  card_testing_many_cards: { all: [fact("features.cards_per_device_24h", "greaterThanInclusive", 4)] },
  card_shared_by_accounts: { all: [fact("features.accounts_per_card_24h", "greaterThanInclusive", 3)] },
  impossible_travel: { all: [fact("features.countries_per_user_1h", "greaterThanInclusive", 2)] },
  new_device_login: {
    all: [
      fact("features.user_last_seen_30d", "present", true),
      {
        ...fact("features.user_device_first_seen_30d", "equal", null),
        value: { fact: "event", path: "$.occurredAtMs" },
      },
    ],
  },
  login_device_hopping: {
    any: [
      fact("features.devices_per_user_1h", "greaterThanInclusive", 3),
      fact("features.ips_per_user_1h", "greaterThanInclusive", 5),
      fact("features.logins_per_user_10m", "greaterThanInclusive", 10),
    ],
  },
  high_score_new_account: {
    all: [fact("score", "greaterThanInclusive", 0.6), fact("features.user_last_seen_30d", "present", false)],
  },
};

/** One json-rules-engine per scenario, as the Vigil engine groups rules by scenario. */
const jsonEngines = new Map<EventType, JsonRulesEngine>();
for (const [scenario, compiled] of Object.entries(ruleset.byScenario) as [
  EventType,
  typeof ruleset.rules,
][]) {
  const engine = new JsonRulesEngine([], { allowUndefinedFacts: true });
  // `present`: the feature has a value (the CEL rules' has()).
  engine.addOperator(
    "present",
    (value: unknown, expected: unknown) => (typeof value === "number") === expected,
  );
  for (const c of compiled) {
    const conditions = JSON_RULES[c.rule.id];
    if (!conditions) throw new Error(`no json-rules-engine version of rule ${c.rule.id}`);
    const rule: RuleProperties = { name: c.rule.id, conditions, event: { type: c.rule.id } };
    engine.addRule(rule);
  }
  jsonEngines.set(scenario, engine);
}

async function decideWithJsonRules(input: DecisionInput): Promise<Outcome> {
  const p = prepare(input);
  const { event } = input;
  const listFacts = {
    block: Object.fromEntries(
      (["user", "device", "ip", "card", "phone", "emailDomain"] as const).map((k) => [k, p.list("block", k)]),
    ),
    allow: { ip: p.list("allow", "ip") },
  };
  const engine = jsonEngines.get(event.type);
  if (!engine) return finish(input, p, []);
  const result = await engine.run({
    event: {
      ...event,
      occurredAtMs: Date.parse(event.occurredAt),
      ...(event.type === "order" || event.type === "payment" ? { amountMinor: amountMinor(event) } : {}),
    },
    features: input.features.values,
    lists: listFacts,
    score: p.score,
  });
  return finish(
    input,
    p,
    result.events.map((e) => e.type),
  );
}

function decideWithVigil(input: DecisionInput): Outcome {
  const d = vigil.decide(input, NOW);
  return { hits: d.ruleHits.map((h) => h.id).sort(), action: d.action };
}

// --- Parity, then timing -----------------------------------------------------------------

let disagreements = 0;
const hitsByRule = new Map<string, number>();
for (const input of inputs) {
  const a = decideWithVigil(input);
  const b = decideByHand(input);
  const c = await decideWithJsonRules(input);
  for (const id of a.hits) hitsByRule.set(id, (hitsByRule.get(id) ?? 0) + 1);
  const same = (x: Outcome, y: Outcome) => x.action === y.action && x.hits.join() === y.hits.join();
  if (!same(a, b) || !same(a, c)) {
    disagreements++;
    if (disagreements <= 3) {
      console.error("disagreement", input.event.eventId, { vigil: a, handWritten: b, jsonRulesEngine: c });
    }
  }
}
if (disagreements > 0) {
  console.error(`${disagreements} event(s) decided differently: the contenders do not run the same rules`);
  process.exit(1);
}

// The stored-vector backtest's inputs: the events as archived records (arriving when they
// occurred), their stored decisions with the exact vectors, and a candidate rule change.
const STREAM = "arn:aws:kinesis:us-east-1:000000000000:stream/bench";
const records: ArchivedRecord[] = inputs.map((input, i) => ({
  shardId: `shardId-00000000000${i % 2}`,
  sequenceNumber: String(1_000_000 + i),
  arrivalTime: input.event.occurredAt,
  partitionKey: input.event.userId,
  data: Buffer.from(JSON.stringify(input.event)).toString("base64"),
  stream: STREAM,
}));
const benchPseudonymizer = createPseudonymizer({ id: "bench", secret: Buffer.alloc(32, 7) });
const storedDecisions = new Map(
  inputs.map((input, i) => {
    const d = vigil.decide(input, NOW);
    const record = records[i] as ArchivedRecord;
    return [
      input.event.eventId,
      {
        ...toStoredDecisionContent(d, benchPseudonymizer),
        eventId: input.event.eventId,
        type: input.event.type,
        decidedAt: new Date(NOW).toISOString(),
        features: {
          version: "bench",
          values: input.features.values as Record<string, number | null>,
          saturated: [],
          late: [],
        },
        source: { shardId: record.shardId, sequenceNumber: record.sequenceNumber },
      },
    ] as [string, DecisionRecord];
  }),
);
const candidateRules = parseYaml(
  (await import("node:fs"))
    .readFileSync(new URL("../config/defaults/rules.yaml", import.meta.url), "utf8")
    .replace("features.payments_per_card_10m >= 5", "features.payments_per_card_10m >= 3"),
);
const candidate = new DecisionEngineFactory().engine({
  rules: new DecisionEngineFactory().rules({ version: 2, document: candidateRules }),
  lists: listsPart,
  model: modelPart,
});
const lookup = new MapDecisionLookup(storedDecisions);
const backtestDeps = { decisions: lookup, before: vigil, after: candidate, featureVersion: "bench" };
const checked = await backtestStoredVectors(records, backtestDeps);
if (checked.compared !== inputs.length) {
  console.error(`backtest compared ${checked.compared} of ${inputs.length} events`);
  process.exit(1);
}

/**
 * Interleaved rounds: each round times every contender once; the best round of each counts, by
 * wall-clock time and by the process's CPU time (user + system): on a machine shared with other
 * work the wall clock also counts the time spent waiting for a core, the CPU time does not.
 */
async function timeAll<K extends string>(
  contenders: Record<K, { readonly items: number; readonly run: () => Promise<void> | void }>,
): Promise<{ wall: Record<K, number>; cpu: Record<K, number> }> {
  const wall = {} as Record<K, number>;
  const cpu = {} as Record<K, number>;
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, c] of Object.entries(contenders) as [K, (typeof contenders)[K]][]) {
      const cpuStart = process.cpuUsage();
      const started = process.hrtime.bigint();
      await c.run();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const used = process.cpuUsage(cpuStart);
      wall[name] = Math.max(wall[name] ?? 0, c.items / seconds);
      cpu[name] = Math.max(cpu[name] ?? 0, c.items / ((used.user + used.system) / 1e6));
    }
  }
  return { wall, cpu };
}

/** Events per Kinesis batch of the score function: how it calls decideBatch. */
const BATCH = 100;

const timed = await timeAll({
  vigil: {
    items: inputs.length,
    run: () => {
      for (let i = 0; i < inputs.length; i += BATCH) vigil.decideBatch(inputs.slice(i, i + BATCH), NOW);
    },
  },
  jsonRules: {
    items: inputs.length,
    run: async () => {
      for (const input of inputs) await decideWithJsonRules(input);
    },
  },
  hand: {
    items: inputs.length,
    run: () => {
      for (const input of inputs) decideByHand(input);
    },
  },
  modelOnly: {
    items: inputs.length,
    run: () => {
      for (const input of inputs) prepare(input);
    },
  },
  backtest: {
    items: records.length,
    run: async () => {
      for (let i = 0; i < records.length; i += 1000)
        await backtestStoredVectors(records.slice(i, i + 1000), backtestDeps);
    },
  },
  decodeOnly: {
    items: records.length,
    run: () => {
      for (let i = 0; i < records.length; i += 1000) decodeArchivedRecords(records.slice(i, i + 1000));
    },
  },
});
const results = timed.wall;
const cpu = timed.cpu;

// The same engine with a tree ensemble instead of the logistic regression: 64 trees trained
// (vigil model train's algorithm) on other simulated events of the same generator.
const trainingRows: DatasetRow[] = simulateTraffic(4_000, { seed: 99, mix: PRODUCTION_MIX }).map((s, i) => ({
  eventId: s.event.eventId,
  type: s.event.type,
  occurredAt: new Date(Date.parse(s.event.occurredAt) + i).toISOString(),
  decidedAt: s.event.occurredAt,
  label: s.label,
  labelSource: "import",
  labelCategory: s.pattern,
  labelObservedAt: s.event.occurredAt,
  action: "pass",
  score: null,
  modelVersion: null,
  featureVersion: "bench",
  features: s.features,
  eventFields: storedEventFields(s.event),
}));
const forest = trainModel(
  trainingRows,
  [...new Set(trainingRows.flatMap((r) => Object.keys(r.features)))].sort(),
  {
    algorithm: "tree-ensemble",
    id: "bench-forest",
    version: "bench-64",
    createdAt: "2026-03-01T00:00:00.000Z",
    data: "bench: 4,000 simulated events (seed 99)",
    trees: 64,
    depths: [8],
    seed: 1,
  },
);
const forestEngine = factory.engine({
  rules: rulesPart,
  lists: listsPart,
  model: factory.model({ version: 2, document: { active: forest.artifact } }),
});
const forestModel = factory.model({ version: 2, document: { active: forest.artifact } }).active;
const forestNodes =
  "trees" in forest.artifact ? forest.artifact.trees.reduce((n, t) => n + t.nodes.length, 0) : 0;
const treeResults = (
  await timeAll({
    vigilTrees: {
      items: inputs.length,
      run: () => {
        for (let i = 0; i < inputs.length; i += BATCH)
          forestEngine.decideBatch(inputs.slice(i, i + BATCH), NOW);
      },
    },
    treesOnly: {
      items: inputs.length,
      run: () => {
        for (const input of inputs)
          forestModel.score({ event: input.event, eventMs: NOW, features: input.features.values });
      },
    },
    lrOnly: {
      items: inputs.length,
      run: () => {
        for (const input of inputs)
          model.score({ event: input.event, eventMs: NOW, features: input.features.values });
      },
    },
  })
).wall;

const fmt = (x: number) => Math.round(x).toLocaleString("en-US").padStart(11);
const us = (x: number) => (1e6 / x).toFixed(1).padStart(8);
const row = (label: string, key: keyof typeof results) =>
  console.log(`${label.padEnd(53)}${fmt(results[key])}   ${us(results[key])}   ${fmt(cpu[key])}`);
const active = ruleset.document.rules.filter((r) => r.mode === "active").length;
const shadow = ruleset.document.rules.filter((r) => r.mode === "shadow").length;
const fraud = simulated.filter((s) => s.label === 1).length;

console.log(
  `Vigil decision engine benchmark: Node ${process.version}, one core, ${inputs.length} events (${fraud} labelled fraud), best of ${ROUNDS} interleaved rounds`,
);
console.log(
  `rules: ${active} active + ${shadow} shadow (default rules.yaml); model: ${model.id} ${model.version} (${"terms" in model.artifact ? `${model.artifact.terms.length} terms` : `${model.artifact.trees.length} trees`}); lists: default`,
);
console.log(
  `parity: identical rule hits and actions from all three on ${inputs.length}/${inputs.length} events`,
);
console.log(
  `hits: ${[...hitsByRule.entries()]
    .sort()
    .map(([id, count]) => `${id} ${count}`)
    .join(", ")}`,
);
console.log("");
console.log("                                                      decisions/s   µs/decision   per CPU s");
row("Vigil engine (CEL rules + model + lists + policy)", "vigil");
row("(a) json-rules-engine, same rules, model, lists", "jsonRules");
row("(b) hand-written TypeScript, same rules, model, lists", "hand");
row("    of which model + lists + policy alone", "modelOnly");
console.log("");
console.log("                                                         events/s      µs/event   per CPU s");
row("Stored-vector backtest (decode + 2 decisions + tally)", "backtest");
row("    of which decoding the archived records alone", "decodeOnly");
console.log(
  `    candidate: card testing from 3 payments; ${checked.changed} of ${checked.compared} events change action`,
);
console.log(
  `Vigil engine with a tree ensemble instead of the LR  ${fmt(treeResults.vigilTrees)}   ${us(treeResults.vigilTrees)}`,
);
console.log(
  `    model alone: logistic regression (${"terms" in model.artifact ? model.artifact.terms.length : 0} terms)      ${fmt(treeResults.lrOnly)}   ${us(treeResults.lrOnly)}`,
);
console.log(
  `    model alone: tree ensemble (64 trees, ${forestNodes} nodes) ${fmt(treeResults.treesOnly)}   ${us(treeResults.treesOnly)}`,
);
console.log("");
console.log(
  `Vigil decides in batches of ${BATCH} (the score function's Kinesis batch); "per CPU s" divides by the process's CPU time instead of the wall clock.`,
);
console.log(`Vigil / json-rules-engine: ${(results.vigil / results.jsonRules).toFixed(2)}x`);
console.log(
  `Vigil / hand-written:      ${(results.vigil / results.hand).toFixed(3)}x (${results.vigil >= results.hand ? "the engine is faster" : `hand-written is ${(results.hand / results.vigil).toFixed(1)}x faster`}; per CPU s ${(cpu.vigil / cpu.hand).toFixed(3)}x)`,
);
