import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultDocuments } from "#shared/adapters/config-files";
import {
  type CompiledModel,
  DecisionEngine,
  DecisionEngineFactory,
  type DecisionInput,
  type EngineParts,
  topContributions,
} from "#shared/domain/decision/index";
import type { CleanEvent } from "#shared/domain/event/index";
import { ReferenceEngine } from "../../support/reference-engine.ts";
import { PRODUCTION_MIX, simulateTraffic } from "../../support/simulated-traffic.ts";

/**
 * The optimized engine (compiled conditions, list matchers, the model's fast path, shared scratch)
 * decides exactly as the engine did before it (test/support/reference-engine.ts: every rule on
 * Buf's CEL interpreter, every term through `score()`): deeply equal decisions on random events,
 * feature vectors (absent, null, late), list memberships, attributes, with rules that hit, miss,
 * fail and defer, shadow rules, a challenger model and late-event floors.
 */
const documents = defaultDocuments();
const shipped = documents.rules as { policy: unknown; rules: unknown[] };
const extraRules = [
  // Unguarded reads: fail when the feature is absent (onError review / hit / miss).
  {
    id: "unguarded_review",
    when: "features.accounts_per_phone_24h >= 2",
    action: "block",
    onError: "review",
  },
  {
    id: "unguarded_hit",
    when: "features.cards_per_device_24h > 1.5",
    action: "challenge_sms",
    onError: "hit",
  },
  { id: "unguarded_miss", when: "features.ips_per_user_1h * 2.0 > 3.0", action: "review", onError: "miss" },
  // Attributes of any type, string functions, ternaries, in, negation.
  {
    id: "attr_channel",
    when: 'has(event.attributes.channel) && event.attributes.channel in ["web", "ios"]',
    action: "review",
  },
  { id: "attr_number", when: "event.attributes.tier > 2", action: "review", onError: "miss" },
  {
    id: "email_domain",
    when: 'has(event.email) && event.emailDomain.endsWith(".test")',
    action: "challenge_sms",
  },
  {
    id: "ternary",
    when: '(event.type == "payment" ? event.amountMinor : 0.0) > 5000.0',
    action: "review",
    onError: "miss",
  },
  { id: "not_list", when: "!lists.allow.ip && lists.watch.device", action: "challenge_face" },
  {
    id: "score_high",
    when: "score > 0.3 || -features.user_last_seen_30d < -1.0",
    action: "review",
    onError: "miss",
  },
  // Outside the compiled subset: always on the interpreter.
  { id: "regex_user", when: 'event.userId.matches("^u[0-9]+7$")', action: "review" },
  {
    id: "size_city",
    when: "has(event.geo.city) && size(event.geo.city) > 6",
    action: "review",
    mode: "shadow",
  },
  {
    id: "shadow_block",
    when: "has(features.devices_per_user_1h) && features.devices_per_user_1h >= 2",
    action: "block",
    mode: "shadow",
  },
].map((r) => ({
  description: "equivalence test rule",
  scenarios: ["register", "login", "order", "payment", "coupon_claim"],
  severity: "high",
  mode: "active",
  ...r,
}));

const rulesDocument = {
  policy: {
    ...(shipped.policy as object),
    scenarios: {
      ...((shipped.policy as { scenarios?: object }).scenarios ?? {}),
      payment: { lateEventAction: "challenge_sms", allowList: ["user", "card"] },
      coupon_claim: { lateEventAction: "pass" },
    },
  },
  rules: [...shipped.rules, ...extraRules],
};
const listsDocument = {
  lists: {
    block: [
      { kind: "ip", value: "192.0.2.0/24", addedBy: "t", addedAt: "2026-01-01T00:00:00Z" },
      { kind: "emailDomain", value: "mailinator.com", addedBy: "t", addedAt: "2026-01-01T00:00:00Z" },
      {
        kind: "device",
        value: "dev-blocked",
        addedBy: "t",
        addedAt: "2026-01-01T00:00:00Z",
        expiresAt: "2030-01-01T00:00:00Z",
      },
    ],
    allow: [
      { kind: "user", value: "u-vip", addedBy: "t", addedAt: "2026-01-01T00:00:00Z" },
      { kind: "ip", value: "203.0.113.9", addedBy: "t", addedAt: "2026-01-01T00:00:00Z" },
      { kind: "card", value: "card-vip", addedBy: "t", addedAt: "2026-01-01T00:00:00Z" },
    ],
    watch: [{ kind: "device", value: "dev-watch", addedBy: "t", addedAt: "2026-01-01T00:00:00Z" }],
  },
};
const model = documents.model as { active: object };
const challenger = {
  ...model.active,
  id: "challenger",
  version: "c1",
  intercept: -2,
};

function parts(withChallenger: boolean): EngineParts {
  const factory = new DecisionEngineFactory();
  return {
    rules: factory.rules({ version: 7, document: rulesDocument }),
    lists: factory.lists({ version: 3, document: listsDocument }),
    model: factory.model({
      version: 2,
      document: withChallenger ? { active: model.active, shadow: challenger } : { active: model.active },
    }),
  };
}

const base = simulateTraffic(400, { seed: 77, mix: PRODUCTION_MIX });
const featureIds = [...new Set(base.flatMap((s) => Object.keys(s.features)))];

const arbInput = fc
  .record({
    i: fc.nat(base.length - 1),
    drop: fc.subarray(featureIds, { maxLength: 6 }),
    nulls: fc.subarray(featureIds, { maxLength: 4 }),
    late: fc.subarray(featureIds, { maxLength: 4 }),
    bump: fc.dictionary(
      fc.constantFrom(...featureIds),
      fc.oneof(fc.integer({ min: -2, max: 40 }), fc.double({ min: -5, max: 1e13, noNaN: true })),
      { maxKeys: 4 },
    ),
    ip: fc.constantFrom(undefined, "192.0.2.77", "203.0.113.9", "2001:db8::1"),
    device: fc.constantFrom(undefined, "dev-blocked", "dev-watch"),
    user: fc.constantFrom(undefined, "u-vip", "u1237"),
    card: fc.constantFrom(undefined, "card-vip"),
    email: fc.constantFrom(undefined, "x@mailinator.com", "y@corp.test", "no-at-sign"),
    attributes: fc.option(
      fc.dictionary(
        fc.constantFrom("channel", "tier", "flag"),
        fc.oneof(fc.constantFrom("web", "ios", "pos"), fc.integer({ min: 0, max: 5 }), fc.boolean()),
        { maxKeys: 3 },
      ),
      { nil: undefined },
    ),
    city: fc.constantFrom(undefined, "Springfield", "Rome"),
  })
  .map((r): DecisionInput => {
    const s = base[r.i] as (typeof base)[number];
    const values: Record<string, number | null | undefined> = { ...s.features, ...r.bump };
    for (const id of r.drop) delete values[id];
    for (const id of r.nulls) values[id] = null;
    for (const id of r.late) values[id] = null;
    let event = { ...s.event } as Record<string, unknown>;
    if (r.ip) event.ip = r.ip;
    if (r.device) event.deviceId = r.device;
    if (r.user) event.userId = r.user;
    if (r.card && event.type === "payment") event.cardFingerprint = r.card;
    if (r.email) event.email = r.email;
    if (r.attributes) event.attributes = r.attributes;
    if (r.city) event = { ...event, geo: { country: "IT", city: r.city } };
    return {
      event: event as CleanEvent,
      features: { version: "fs-eq", values, ...(r.late.length > 0 ? { late: r.late } : {}) },
    };
  });

describe("the optimized engine", () => {
  for (const withChallenger of [false, true]) {
    it(`decides exactly as the reference engine${withChallenger ? " (with a challenger model)" : ""}`, () => {
      const p = parts(withChallenger);
      const fast = new DecisionEngine(p);
      const reference = new ReferenceEngine(p);
      const now = Date.parse("2026-06-01T00:00:00Z");
      fc.assert(
        fc.property(arbInput, (input) => {
          expect(fast.decide(input, now)).toEqual(reference.decide(input, now));
        }),
        { numRuns: 600 },
      );
      // Batches too, where the engine's scratch is reused across events.
      const batch = fc.sample(arbInput, 300);
      expect(fast.decideBatch(batch, now)).toEqual(batch.map((i) => reference.decide(i, now)));
    });
  }

  it("exercises what it claims to: hits, errors, lists, late floors, deferred and interpreted rules", () => {
    const p = parts(true);
    const engine = new DecisionEngine(p);
    const decisions = fc
      .sample(arbInput, 600)
      .map((i) => engine.decide(i, Date.parse("2026-06-01T00:00:00Z")));
    expect(decisions.some((d) => d.ruleErrors.length > 0)).toBe(true);
    expect(decisions.some((d) => d.decidedBy === "block_list")).toBe(true);
    expect(decisions.some((d) => d.decidedBy === "allow_list")).toBe(true);
    expect(decisions.some((d) => d.late !== undefined)).toBe(true);
    expect(decisions.some((d) => d.ruleHits.some((h) => h.shadow))).toBe(true);
    expect(decisions.some((d) => d.ruleHits.some((h) => h.id === "regex_user"))).toBe(true);
    const compiled = p.rules?.ruleset.rules.filter((r) => r.condition !== undefined).map((r) => r.rule.id);
    expect(compiled).toContain("card_testing_small_payments");
    expect(compiled).toContain("attr_channel");
    expect(compiled).not.toContain("regex_user");
    expect(compiled).not.toContain("size_city");
  });
});

describe("the model's fast path", () => {
  it("gives exactly score() and topContributions() for every k", () => {
    const { active } = new DecisionEngineFactory().model({ version: 1, document: documents.model });
    const m = active as CompiledModel & { scoreTop: NonNullable<CompiledModel["scoreTop"]> };
    fc.assert(
      fc.property(arbInput, fc.integer({ min: 0, max: 20 }), (input, k) => {
        const modelInput = {
          event: input.event,
          eventMs: Date.parse(input.event.occurredAt),
          features: input.features.values,
        };
        const slow = m.score(modelInput);
        const fast = m.scoreTop(modelInput, k);
        expect(fast.score).toBe(slow.score);
        expect(fast.top).toEqual(topContributions(slow.contributions, k));
      }),
      { numRuns: 400 },
    );
  });
});
