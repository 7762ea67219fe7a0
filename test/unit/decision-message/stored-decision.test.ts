import { describe, expect, it } from "vitest";
import {
  createPseudonymizer,
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
  it("replaces list entries by their pseudonyms and keeps no raw identifier in list hits", () => {
    const stored = toStoredDecisionContent(blockDecision(), p);
    expect(stored.listHits).toEqual([
      { list: "block", kind: "phone", entryPseudonym: p("phone", CANARIES.phone) },
    ]);
    // Rule errors are stored as the engine recorded them: the engine's messages quote no event
    // content (safeEvaluationMessage; test/unit/decision/rule-errors.test.ts).
    expect(stored.ruleErrors).toEqual(blockDecision().ruleErrors);
    const text = JSON.stringify(stored.listHits);
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
});
