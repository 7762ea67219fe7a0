import { describe, expect, it } from "vitest";
import { interpretBatchResponse } from "#local/esm/batch-response";

const batch = ["100", "200", "300", "400"];

describe("interpretBatchResponse (ReportBatchItemFailures on)", () => {
  it.each([
    ["null response", null],
    ["undefined response", undefined],
    ["empty response object", {}],
    ["null batchItemFailures", { batchItemFailures: null }],
    ["empty batchItemFailures", { batchItemFailures: [] }],
  ])("treats a %s as complete success", (_, response) => {
    expect(interpretBatchResponse(response, batch, true)).toEqual({ kind: "success" });
  });

  it("retries from the lowest failed sequence number, whatever the order of the items", () => {
    const response = { batchItemFailures: [{ itemIdentifier: "400" }, { itemIdentifier: "200" }] };
    expect(interpretBatchResponse(response, batch, true)).toEqual({ kind: "partial", firstFailedIndex: 1 });
  });

  it("reports a failure of the first record as a partial failure at index 0", () => {
    const response = { batchItemFailures: [{ itemIdentifier: "100" }] };
    expect(interpretBatchResponse(response, batch, true)).toEqual({ kind: "partial", firstFailedIndex: 0 });
  });

  it.each([
    ["an empty string itemIdentifier", { batchItemFailures: [{ itemIdentifier: "" }] }, /empty string/],
    ["a null itemIdentifier", { batchItemFailures: [{ itemIdentifier: null }] }, /null/],
    ["a bad key name", { batchItemFailures: [{ itemId: "200" }] }, /missing/],
    [
      "an unknown sequence number",
      { batchItemFailures: [{ itemIdentifier: "999" }] },
      /not a sequence number/,
    ],
    ["a numeric identifier", { batchItemFailures: [{ itemIdentifier: 200 }] }, /a number/],
    ["a non-object item", { batchItemFailures: ["200"] }, /not an object/],
    ["a non-list batchItemFailures", { batchItemFailures: "200" }, /malformed/],
    ["a string response", "done", /malformed/],
    ["an array response", [{ itemIdentifier: "200" }], /malformed/],
  ])("fails the whole batch for %s", (_, response, reason) => {
    const verdict = interpretBatchResponse(response, batch, true);
    expect(verdict.kind).toBe("failure");
    expect(verdict.kind === "failure" && verdict.reason).toMatch(reason);
  });

  it("fails the whole batch when one valid and one invalid item are reported", () => {
    const response = { batchItemFailures: [{ itemIdentifier: "200" }, { itemIdentifier: "" }] };
    expect(interpretBatchResponse(response, batch, true).kind).toBe("failure");
  });
});

describe("interpretBatchResponse (ReportBatchItemFailures off)", () => {
  it("ignores the response, as Lambda does without the function response type", () => {
    for (const response of [
      { batchItemFailures: [{ itemIdentifier: "200" }] },
      "done",
      { batchItemFailures: 1 },
    ]) {
      expect(interpretBatchResponse(response, batch, false)).toEqual({ kind: "success" });
    }
  });
});
