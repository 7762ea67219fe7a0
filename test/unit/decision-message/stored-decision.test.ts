import { describe, expect, it } from "vitest";
import {
  createPseudonymizer,
  storedRuleErrorMessage,
  toDecisionMessage,
  toStoredDecisionContent,
} from "#shared/domain/decision-message/index";
import {
  blockDecision,
  CANARIES,
  CANARY_VALUES,
  canaryEvent,
  SAMPLE_FEATURES,
  TEST_KEY,
} from "../../fixtures/decision-messages.ts";

const p = createPseudonymizer(TEST_KEY);

describe("the stored form of a decision", () => {
  it("replaces list entries by their pseudonyms and keeps no raw identifier in list hits or rule errors", () => {
    const stored = toStoredDecisionContent(blockDecision(), p);
    expect(stored.listHits).toEqual([
      { list: "block", kind: "phone", entryPseudonym: p("phone", CANARIES.phone) },
    ]);
    expect(stored.ruleErrors).toEqual([
      { id: "broken_rule", version: 2, shadow: false, message: "no such key", line: 1, column: 7 },
    ]);
    const text = JSON.stringify({ listHits: stored.listHits, ruleErrors: stored.ruleErrors });
    for (const canary of CANARY_VALUES) expect(text).not.toContain(canary);
  });

  it("gives the same decision message as the engine's decision it came from", () => {
    const event = canaryEvent("stored-1");
    const decision = blockDecision();
    const at = new Date().toISOString();
    expect(toDecisionMessage(event, toStoredDecisionContent(decision, p), SAMPLE_FEATURES, p, at)).toEqual(
      toDecisionMessage(event, decision, SAMPLE_FEATURES, p, at),
    );
  });

  it("asks for the pseudonymizer only when there are list hits", () => {
    const refusing = () => {
      throw new Error("no key needed");
    };
    expect(toStoredDecisionContent(blockDecision({ listHits: [] }), refusing).listHits).toEqual([]);
  });

  it("keeps rule error messages made of type names, the kind of known errors, and nothing else", () => {
    const overload = "found no matching overload for '_>=_' applied to '(null_type, double)'";
    expect(storedRuleErrorMessage(overload)).toBe(overload);
    expect(storedRuleErrorMessage("type mismatch: expected bool, got string")).toBe(
      "type mismatch: expected bool, got string",
    );
    expect(storedRuleErrorMessage("map key conflict: alice@example.com")).toBe("map key conflict");
    expect(storedRuleErrorMessage("field not found: +12015550199")).toBe("field not found");
    expect(storedRuleErrorMessage("int divide by zero")).toBe("divide by zero");
    expect(storedRuleErrorMessage("cannot parse '203.0.113.77' as a timestamp")).toBe("evaluation error");
  });
});
