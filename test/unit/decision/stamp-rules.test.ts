import { describe, expect, it } from "vitest";
import { prepareDocument, type RulesDocument, stampRules } from "#shared/domain/decision/index";
import { oneRule } from "./helpers.ts";

const first = { author: "ann", now: "2026-05-01T00:00:00.000Z" };
const second = { author: "bob", now: "2026-05-02T00:00:00.000Z" };

describe("rule lifecycle stamps", () => {
  const v1 = stampRules(undefined, oneRule("features.x >= 1.0") as RulesDocument, first);

  it("starts new rules at version 1 with author and time", () => {
    expect(v1.rules[0]).toMatchObject({
      id: "r1",
      version: 1,
      author: "ann",
      createdAt: first.now,
      updatedAt: first.now,
    });
  });

  it("keeps the stamps of unchanged rules, whatever metadata or key order the file carries", () => {
    const { version: _v, author: _a, ...content } = v1.rules[0] as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(content).reverse());
    const again = stampRules(
      v1,
      { rules: [{ ...(reordered as RulesDocument["rules"][number]), version: 99, author: "eve" }] },
      second,
    );
    expect(again.rules[0]).toEqual(v1.rules[0]);
  });

  it("bumps the version of a changed rule, its mode included, keeping createdAt", () => {
    const changed = stampRules(v1, oneRule("features.x >= 2.0") as RulesDocument, second);
    expect(changed.rules[0]).toMatchObject({
      version: 2,
      author: "bob",
      createdAt: first.now,
      updatedAt: second.now,
    });
    const shadowed = stampRules(
      changed,
      { rules: [{ ...(changed.rules[0] as RulesDocument["rules"][number]), mode: "shadow" }] },
      first,
    );
    expect(shadowed.rules[0]).toMatchObject({ version: 3, mode: "shadow", author: "ann" });
  });

  it("prepares rules for storage only after they compile", () => {
    expect(() => prepareDocument("rules", undefined, oneRule("features.x >="), first)).toThrow(
      /syntax error/,
    );
    expect(prepareDocument("rules", v1, oneRule("features.x >= 1.0"), second)).toEqual(v1);
  });
});
