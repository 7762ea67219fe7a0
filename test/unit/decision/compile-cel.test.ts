import { type CelInput, isCelError, parse, plan } from "@bufbuild/cel";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ListKind } from "#shared/domain/decision/lists/list-schema";
import { ruleCelEnv } from "#shared/domain/decision/rules/cel-env";
import { eventInput, featuresInput } from "#shared/domain/decision/rules/cel-input";
import { compileCondition, DEFER, type RuleView } from "#shared/domain/decision/rules/compile-cel";
import { type CleanEvent, minorUnits } from "#shared/domain/event/index";
import { cleanEvent } from "./helpers.ts";

/**
 * The compiled conditions against Buf's CEL interpreter, on random expressions of the compiled
 * subset (and a little outside it) over random events, features, lists and scores: whenever a
 * closure answers true or false, the interpreter gives exactly that answer; otherwise it defers.
 */
const FEATURES = ["f_a", "f_b", "f_c"];
const LIST_PAIRS: [string, ListKind][] = [
  ["block", "ip"],
  ["allow", "user"],
  ["watch", "device"],
];

const lit = {
  int: fc.integer({ min: -3, max: 12 }).map(String),
  double: fc.constantFrom("0.0", "1.5", "2.0", "-1.0", "5000.0", "1e300"),
  string: fc.constantFrom('"web"', '"login"', '"payment"', '"US"', '"Rome"', '""', '"u-1"', '"example.com"'),
};

const { bool } = fc.letrec<{ bool: string; num: string; str: string }>((tie) => ({
  num: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...FEATURES.map((f) => `features.${f}`)),
    fc.constantFrom(
      "event.amountMinor",
      "event.occurredAtMs",
      "score",
      "event.attributes.tier",
      'features["f_a"]',
    ),
    lit.double,
    lit.int,
    fc
      .tuple(tie("num"), fc.constantFrom("+", "-", "*", "/"), tie("num"))
      .map(([a, op, b]) => `(${a} ${op} ${b})`),
    tie("num").map((a) => `-${a}`),
    fc.tuple(tie("bool"), tie("num"), tie("num")).map(([c, a, b]) => `(${c} ? ${a} : ${b})`),
  ),
  str: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom(
      "event.type",
      "event.userId",
      "event.emailDomain",
      "event.geo.country",
      "event.geo.city",
      "event.attributes.channel",
      "event.email",
      "event.currency",
    ),
    lit.string,
  ),
  bool: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(
      ...FEATURES.map((f) => `has(features.${f})`),
      "has(event.email)",
      "has(event.geo.city)",
      "has(event.attributes.channel)",
      "has(event.amountMinor)",
      "lists.block.ip",
      "lists.allow.user",
      "lists.watch.device",
      "true",
      "false",
      "event.attributes.flag",
    ),
    fc
      .tuple(tie("num"), fc.constantFrom("<", "<=", ">", ">=", "==", "!="), tie("num"))
      .map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(tie("str"), fc.constantFrom("==", "!="), tie("str")).map(([a, op, b]) => `${a} ${op} ${b}`),
    tie("str").map((s) => `${s} in ["web", "login", "US", "u-1"]`),
    fc
      .tuple(tie("str"), fc.constantFrom("startsWith", "endsWith", "contains"), tie("str"))
      .map(([a, f, b]) => `${a}.${f}(${b})`),
    tie("bool").map((b) => `!(${b})`),
    fc.tuple(tie("bool"), fc.constantFrom("&&", "||"), tie("bool")).map(([a, op, b]) => `(${a} ${op} ${b})`),
    fc.tuple(tie("bool"), tie("bool"), tie("bool")).map(([c, a, b]) => `(${c} ? ${a} : ${b})`),
    // Outside the subset (the closure must not exist, or defer).
    tie("str").map((s) => `size(${s}) > 2`),
    tie("str").map((s) => `${s} < "m"`),
  ),
}));

const arbWorld = fc.record({
  type: fc.constantFrom("login", "payment", "order", "register", "coupon_claim" as const),
  email: fc.constantFrom(undefined, "a@example.com", "no-at", "b@sub.example.com"),
  city: fc.constantFrom(undefined, "Rome", ""),
  noGeo: fc.boolean(),
  attributes: fc.option(
    fc.dictionary(
      fc.constantFrom("channel", "tier", "flag"),
      fc.oneof(
        fc.constantFrom("web", "ios"),
        fc.integer({ min: 0, max: 5 }),
        fc.double({ noNaN: true, min: -10, max: 10 }),
        fc.boolean(),
      ),
      { maxKeys: 3 },
    ),
    { nil: undefined },
  ),
  features: fc.dictionary(
    fc.constantFrom(...FEATURES),
    fc.oneof(
      fc.constant(null),
      fc.integer({ min: -5, max: 20 }),
      fc.double({ noNaN: true, min: -100, max: 100 }),
    ),
    { maxKeys: 3 },
  ),
  lists: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
  score: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
});

type World = typeof arbWorld extends fc.Arbitrary<infer T> ? T : never;

function worldOf(w: World) {
  const over: Record<string, unknown> = { attributes: w.attributes };
  if (w.email === undefined) over.email = undefined;
  else over.email = w.email;
  if (w.noGeo) over.geo = undefined;
  else if (w.city !== undefined)
    over.geo = w.city === "" ? { country: "US" } : { country: "IT", city: w.city };
  const base = cleanEvent(w.type, over) as Record<string, unknown>;
  for (const k of Object.keys(base)) if (base[k] === undefined) delete base[k];
  const event = base as CleanEvent;
  const view: RuleView = {
    event,
    eventMs: Date.parse(event.occurredAt),
    amountMinor:
      event.type === "order" || event.type === "payment"
        ? minorUnits({ amount: event.amount, currency: event.currency })
        : undefined,
    emailDomain: event.email === undefined ? undefined : event.email.slice(event.email.lastIndexOf("@") + 1),
    features: w.features,
    lists: w.lists,
    score: w.score,
  };
  const lists = new Map<string, Map<string, CelInput>>();
  LIST_PAIRS.forEach(([name, kind], i) => {
    const kinds = lists.get(name) ?? new Map<string, CelInput>();
    kinds.set(kind, w.lists[i] ?? false);
    lists.set(name, kinds);
  });
  const activation: Record<string, CelInput> = {
    event: eventInput(event),
    features: featuresInput(w.features),
    lists,
  };
  if (w.score !== null) activation.score = w.score;
  return { view, activation };
}

const slots = {
  slot: (name: string, kind: ListKind) => LIST_PAIRS.findIndex(([n, k]) => n === name && k === kind),
};

describe("compiled CEL conditions", () => {
  it("answer exactly as the interpreter whenever they answer", () => {
    let answered = 0;
    let total = 0;
    fc.assert(
      fc.property(bool, fc.array(arbWorld, { minLength: 8, maxLength: 8 }), (source, worlds) => {
        const parsed = parse(source);
        const compiled = compileCondition(parsed, slots);
        const program = plan(ruleCelEnv(), parsed);
        for (const w of worlds) {
          const { view, activation } = worldOf(w);
          const expected = program(activation);
          total++;
          if (!compiled) continue;
          const got = compiled(view);
          if (got === DEFER) continue;
          answered++;
          expect(isCelError(expected), `${source}: the interpreter fails, the closure said ${got}`).toBe(
            false,
          );
          expect(got, source).toBe(expected);
        }
      }),
      { numRuns: 1500 },
    );
    // Most evaluations take the fast path (the test is not vacuous).
    expect(answered / total).toBeGreaterThan(0.4);
  });

  it("compile the shipped rules' forms and leave out what they do not model", () => {
    const compiles = (s: string) => compileCondition(parse(s), slots) !== undefined;
    expect(compiles("has(features.f_a) && features.f_a >= 5 && event.amountMinor <= 200")).toBe(true);
    expect(compiles("lists.block.ip || lists.allow.user")).toBe(true);
    expect(compiles('event.userId.matches("^u")')).toBe(false);
    expect(compiles("size(event.userId) > 2")).toBe(false);
    expect(compiles("features.f_a + 1 > 2")).toBe(false);
    expect(compiles("9007199254740993 > features.f_a")).toBe(false);
    expect(compiles("[1, 2].exists(x, x > features.f_a)")).toBe(false);
  });
});
