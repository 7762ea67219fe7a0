import { describe, expect, it } from "vitest";
import { MemoryCaseStore } from "#shared/adapters/memory-case-store";
import { MemoryLabelStore } from "#shared/adapters/memory-label-store";
import { type CaseDecision, isCase, resolveCase } from "#shared/domain/cases/cases";
import { LabelValidationError } from "#shared/domain/labels/index";
import { CaseAlreadyResolvedError } from "#shared/ports/case-store";

const decision = (over: Partial<CaseDecision> = {}): CaseDecision => ({
  eventId: "evt-1",
  type: "payment",
  action: "review",
  score: 0.55,
  reasons: ["CARD_SHARED_BY_ACCOUNTS"],
  ruleHits: [{ id: "card_shared_by_accounts", shadow: false }],
  decidedAt: "2026-05-01T10:00:00.000Z",
  ...over,
});

describe("cases", () => {
  it("are the decisions a filter selects", () => {
    const review = { actions: ["review"] } as const;
    expect(isCase(decision(), review)).toBe(true);
    expect(isCase(decision({ action: "pass" }), review)).toBe(false);
    expect(isCase(decision({ action: "challenge_sms" }), { actions: ["review", "challenge_sms"] })).toBe(
      true,
    );
    expect(isCase(decision(), { ...review, scenario: "login" })).toBe(false);
    expect(isCase(decision(), { ...review, rule: "card_shared_by_accounts" })).toBe(true);
    expect(isCase(decision(), { ...review, rule: "other" })).toBe(false);
    expect(isCase(decision(), { ...review, sinceMs: Date.parse("2026-05-01T10:00:00.001Z") })).toBe(false);
    expect(isCase(decision(), { ...review, minScore: 0.6 })).toBe(false);
    expect(isCase(decision({ score: null }), { ...review, minScore: 0 })).toBe(false);
  });

  it("resolve into a review label by the resolver, observed when resolved", () => {
    const { label, resolution } = resolveCase("evt-1", {
      label: "fraud",
      category: "card_testing",
      note: "three cards",
      resolvedBy: "alice",
      resolvedAt: "2026-05-01T12:00:00+02:00",
    });
    expect(label).toMatchObject({
      subject: { eventId: "evt-1" },
      label: "fraud",
      source: "review",
      author: "alice",
      observedAt: "2026-05-01T10:00:00.000Z",
    });
    expect(resolution).toEqual({
      caseId: "evt-1",
      label: "fraud",
      category: "card_testing",
      note: "three cards",
      resolvedBy: "alice",
      resolvedAt: "2026-05-01T10:00:00.000Z",
      labelId: label.labelId,
    });
    expect(() =>
      resolveCase("evt-1", {
        label: "fraud",
        category: "bad category!",
        resolvedBy: "a",
        resolvedAt: "2026-05-01T10:00:00Z",
      }),
    ).toThrow(LabelValidationError);
  });

  it("are resolved once unless amended (memory store, the same contract as DynamoDB's)", async () => {
    const labels = new MemoryLabelStore();
    const store = new MemoryCaseStore(labels);
    const first = resolveCase("evt-1", {
      label: "fraud",
      resolvedBy: "a",
      resolvedAt: "2026-05-01T10:00:00Z",
    });
    await store.resolve(first.resolution, first.label);
    const second = resolveCase("evt-1", {
      label: "legit",
      resolvedBy: "b",
      resolvedAt: "2026-05-01T11:00:00Z",
    });
    await expect(store.resolve(second.resolution, second.label)).rejects.toBeInstanceOf(
      CaseAlreadyResolvedError,
    );
    await store.resolve(second.resolution, second.label, first.resolution);
    expect((await store.get("evt-1"))?.resolvedBy).toBe("b");
    expect(await labels.forSubject("event#evt-1")).toHaveLength(2);
  });
});
