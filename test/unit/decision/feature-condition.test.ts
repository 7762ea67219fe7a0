import { describe, expect, it } from "vitest";
import {
  ConfigValidationError,
  compileFeatureDocument,
  DecisionConfigError,
  DecisionEngineFactory,
  featureConditions,
  formatIssue,
} from "#shared/domain/decision/index";
import type { CleanEvent } from "#shared/domain/event/index";
import { DEFAULT_FEATURE_SET } from "#shared/domain/features/index";

const at = "2026-05-01T12:00:00.000Z";
const order = (amount: string, extra: Partial<CleanEvent> = {}): CleanEvent =>
  ({
    schemaVersion: 1,
    eventId: `o-${amount}`,
    type: "order",
    occurredAt: at,
    userId: "u1",
    ip: "198.51.100.1",
    amount,
    currency: "USD",
    ...extra,
  }) as CleanEvent;
const login = (attributes?: Record<string, string | number | boolean>, email?: string): CleanEvent =>
  ({
    schemaVersion: 1,
    eventId: "l1",
    type: "login",
    occurredAt: at,
    userId: "u1",
    ip: "198.51.100.1",
    ...(attributes ? { attributes } : {}),
    ...(email ? { email } : {}),
  }) as CleanEvent;

/** The predicate of a condition that must compile. */
function predicate(cel: string): (event: CleanEvent) => boolean {
  const result = featureConditions.compile(cel);
  if (!result.ok) throw new Error(`expected ${cel} to compile: ${result.message}`);
  return result.test;
}

/** The message a condition is refused with. */
function refusal(cel: string): string {
  const result = featureConditions.compile(cel);
  if (result.ok) throw new Error(`expected ${cel} to be refused`);
  return result.message;
}

describe("CEL filter conditions of features", () => {
  it("decides per event from the event's fields, derived fields and attributes", () => {
    const big = predicate("event.amountMinor >= 50000");
    expect(big(order("500.00"))).toBe(true);
    expect(big(order("499.99"))).toBe(false);

    const web = predicate('has(event.attributes.channel) && event.attributes.channel == "web"');
    expect(web(login({ channel: "web" }))).toBe(true);
    expect(web(login({ channel: "app" }))).toBe(false);
    expect(web(login())).toBe(false);

    const corporate = predicate('event.emailDomain.matches("^(example|corp)\\\\.com$")');
    expect(corporate(login(undefined, "a@corp.com"))).toBe(true);
    expect(corporate(login(undefined, "a@corp.community"))).toBe(false);

    const types = predicate('event.type in ["order", "payment"] && event.geo.country == "DE"');
    expect(types(order("1.00", { geo: { country: "DE" } } as Partial<CleanEvent>))).toBe(true);
    expect(types(login())).toBe(false);
  });

  it("counts an event whose evaluation fails as not matching, the same way on every delivery", () => {
    // No has(): a login without the attribute is a missing-key error, which means "does not count".
    const web = predicate('event.attributes.channel == "web"');
    expect(web(login())).toBe(false);
    expect(web(login())).toBe(false);
    expect(web(login({ channel: "web" }))).toBe(true);
  });

  it("refuses names other than event: filters may not depend on features, lists or the model", () => {
    expect(refusal("features.devices_per_user_1h > 2")).toBe(
      "line 1, column 1: unknown name 'features'; expressions can use event",
    );
    expect(refusal("lists.block.ip")).toMatch(/unknown name 'lists'/);
    expect(refusal("score > 0.5")).toMatch(/unknown name 'score'/);
  });

  it("points at syntax errors, unknown fields and type errors by line and column", () => {
    expect(refusal('event.type == "login" &&\n  event.deviceId ==')).toMatch(
      /^line 2, column \d+: syntax error/,
    );
    expect(refusal("event.devicId == 'x'")).toBe("line 1, column 6: event has no field 'devicId'");
    // amount is a decimal string: comparing it with a number fails for every order.
    expect(refusal("event.amount > 5")).toMatch(
      /^line 1, column 14: for order events: found no matching overload for '_>_'/,
    );
    expect(refusal('event.emailDomain.matches("(?=a)")')).toMatch(/invalid RE2 regular expression/);
    expect(refusal("event.userId")).toMatch(/must give true or false/);
  });

  it("bounds the cost of a condition", () => {
    const nested = 'event.attributes.all(a, event.attributes.all(b, event.attributes.all(c, a != "")))';
    expect(refusal(nested)).toMatch(/evaluation may take up to \d+ steps; at most 2000/);
  });
});

describe("feature set documents", () => {
  const withCondition = (cel: string) => ({
    features: [
      ...DEFAULT_FEATURE_SET.features,
      {
        id: "big_orders_per_user_24h",
        entity: ["userId"],
        aggregation: { type: "count" },
        window: "24h",
        filter: { eventTypes: ["order"], condition: { cel } },
      },
    ],
  });

  it("compile with their CEL conditions, which become part of the feature's meaning", () => {
    const a = compileFeatureDocument(withCondition("event.amountMinor >= 50000"));
    const b = compileFeatureDocument(withCondition("event.amountMinor >= 60000"));
    const fa = a.features.find((f) => f.id === "big_orders_per_user_24h");
    const fb = b.features.find((f) => f.id === "big_orders_per_user_24h");
    expect(fa?.accepts(order("550.00"))).toBe(true);
    expect(fb?.accepts(order("550.00"))).toBe(false);
    expect(fa?.accepts(login())).toBe(false);
    // A changed condition is a changed feature: new state key, new set version.
    expect(fa?.stateKey).not.toBe(fb?.stateKey);
    expect(a.version).not.toBe(b.version);
  });

  it("are refused with every problem, each with its path and feature id", () => {
    const bad = withCondition("features.x > 1");
    bad.features[0] = { ...(bad.features[0] as (typeof bad.features)[0]), window: "45d" };
    let error: unknown;
    try {
      compileFeatureDocument(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as ConfigValidationError).issues.map(formatIssue)).toEqual([
      "features[0] (devices_per_user_1h).window: must be between 1m and 30d",
      "features[40] (big_orders_per_user_24h).filter.condition: line 1, column 1: unknown name 'features'; expressions can use event",
    ]);
  });

  it("are compiled once per stored version by the engine factory, and refused as that version", () => {
    const factory = new DecisionEngineFactory();
    const doc = { version: 4, document: withCondition("event.amountMinor >= 50000") };
    expect(factory.features(doc)).toBe(factory.features(doc));
    expect(() => factory.features({ version: 5, document: { features: [] } })).toThrow(DecisionConfigError);
    expect(() => factory.features({ version: 5, document: { features: [] } })).toThrow(
      /features version 5 is invalid/,
    );
  });
});
