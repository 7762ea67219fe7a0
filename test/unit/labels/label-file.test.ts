import { describe, expect, it } from "vitest";
import { importLabels } from "#cli/commands/labels";
import { CliError } from "#cli/output";
import { MemoryLabelStore } from "#shared/adapters/memory-label-store";
import { labelFileFormat, parseLabelFile, subjectKey } from "#shared/domain/labels/index";

const line = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    schemaVersion: 1,
    subject: { eventId: "evt-1" },
    label: "fraud",
    source: "chargeback",
    observedAt: "2026-03-04T10:00:00Z",
    author: "bank-feed",
    ...over,
  });

describe("label files", () => {
  it("reads NDJSON line by line, skipping blank lines, with each label's line number", () => {
    const text = `${line()}\n\n${line({ subject: { eventId: "evt-2" }, label: "legit" })}\n`;
    const parsed = parseLabelFile(text, "ndjson");
    expect(parsed.errors).toEqual([]);
    expect(parsed.labels.map((l) => [l.line, subjectKey(l.label.subject), l.label.label])).toEqual([
      [1, "event#evt-1", "fraud"],
      [3, "event#evt-2", "legit"],
    ]);
  });

  it("names every bad NDJSON line with its number and the rule it breaks", () => {
    const text = [
      line(),
      "{not json",
      line({ label: "maybe" }),
      line(),
      line({ observedAt: "yesterday" }),
    ].join("\n");
    const parsed = parseLabelFile(text, "ndjson");
    expect(parsed.errors.map((e) => e.line)).toEqual([2, 3, 5]);
    expect(parsed.errors[0]?.message).toBe("not JSON");
    expect(parsed.errors[1]?.message).toMatch(/^label: /);
    expect(parsed.errors[2]?.message).toMatch(/^observedAt: /);
  });

  it("reads CSV with a header, event or entity subjects, empty cells as absent, quoted multi-line notes", () => {
    const text = [
      "eventId,entityType,entityValue,label,category,source,observedAt,author,note",
      "evt-1,,,fraud,card_testing,chargeback,2026-03-04T10:00:00Z,bank-feed,",
      ',deviceId,dev-9,fraud,,manual,2026-03-04T11:00:00+01:00,alice,"two',
      'lines"',
      "evt-2,,,legit,,review,2026-03-05T00:00:00Z,bob,cleared",
    ].join("\n");
    const parsed = parseLabelFile(text, "csv");
    expect(parsed.errors).toEqual([]);
    expect(
      parsed.labels.map((l) => [l.line, subjectKey(l.label.subject), l.label.category, l.label.note]),
    ).toEqual([
      [2, "event#evt-1", "card_testing", undefined],
      [3, "entity#deviceId#dev-9", undefined, "two\nlines"],
      [5, "event#evt-2", undefined, "cleared"],
    ]);
    expect(parsed.labels[1]?.label.observedAt).toBe("2026-03-04T10:00:00.000Z");
  });

  it("names bad CSV rows by their line, refuses unknown columns and broken quoting", () => {
    const header = "eventId,label,source,observedAt,author";
    const bad = parseLabelFile(
      [
        header,
        "evt-1,fraud,review,2026-03-04T10:00:00Z,a",
        "evt-2,fraud,rumour,2026-03-04T10:00:00Z,a",
        ",fraud,review,2026-03-04T10:00:00Z,a",
      ].join("\n"),
      "csv",
    );
    expect(bad.errors).toEqual([
      { line: 3, message: expect.stringMatching(/^source: /) },
      { line: 4, message: expect.stringMatching(/subject/) },
    ]);
    expect(parseLabelFile("eventId,verdict\nevt-1,fraud\n", "csv").errors).toEqual([
      { line: 1, message: expect.stringMatching(/unknown column\(s\) verdict/) },
    ]);
    const unclosed = parseLabelFile(`${header}\nevt-1,fraud,review,"2026-03-04,a\n`, "csv");
    expect(unclosed.labels).toEqual([]);
    expect(unclosed.errors[0]?.message).toMatch(/not valid CSV/);
    const ragged = parseLabelFile(`${header}\nevt-1,fraud,review,2026-03-04T10:00:00Z,a,extra\n`, "csv");
    expect(ragged.errors).toEqual([{ line: 2, message: expect.stringMatching(/not valid CSV/) }]);
  });

  it("knows the format from the file name", () => {
    expect(labelFileFormat("x.CSV")).toBe("csv");
    expect(labelFileFormat("x.ndjson")).toBe("ndjson");
    expect(labelFileFormat("x.jsonl")).toBe("ndjson");
    expect(labelFileFormat("x.txt")).toBeUndefined();
  });
});

describe("importLabels", () => {
  it("writes nothing when any line is bad, and says which lines", async () => {
    const store = new MemoryLabelStore();
    const text = [line(), line({ subject: { eventId: "evt-2" } }), line({ source: "rumour" })].join("\n");
    const error = await importLabels(store, "f.ndjson", text, "ndjson").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as CliError).message).toMatch(
      /1 invalid line\(s\) in f\.ndjson; nothing was imported:\n {2}f\.ndjson:3: source: /,
    );
    const all: unknown[] = [];
    for await (const l of store.all()) all.push(l);
    expect(all).toEqual([]);
  });

  it("is idempotent: importing the same file twice stores each label once", async () => {
    const store = new MemoryLabelStore();
    const text = [line(), line(), line({ subject: { eventId: "evt-2" } })].join("\n");
    const first = await importLabels(store, "f.ndjson", text, "ndjson");
    expect(first).toMatchObject({ labels: 3, repeatedInFile: 1, stored: 2, alreadyStored: 0 });
    const second = await importLabels(store, "f.ndjson", text, "ndjson");
    expect(second).toMatchObject({ labels: 3, stored: 0, alreadyStored: 2 });
    expect(await store.forSubject("event#evt-1")).toHaveLength(1);
  });
});
