import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Integration tests write into tables whose items DynamoDB Local really deletes once their TTL
 * has passed, so a fixed date in one is a test that starts failing on some day. This check
 * refuses a fixed date (ISO text, `Date.UTC(2026, …)`, `new Date(2026, …)`) in the integration
 * tests and their support code unless the line, or the line above it, says why that date cannot
 * expire: `date-safe: <reason>`.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const SCANNED = ["test/integration", "test/support"];
const FIXED_DATE =
  /\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?!\d)|Date\.UTC\(\s*\d{4}|new Date\(\s*\d{4}\s*,/;
const MARKER = /date-safe:\s*\S.{8,}/;

/** `1`-based numbers and text of the lines of `source` with an unexplained fixed date. */
function unexplainedFixedDates(source: string): { line: number; text: string }[] {
  const lines = source.split("\n");
  const found: { line: number; text: string }[] = [];
  lines.forEach((text, i) => {
    if (!FIXED_DATE.test(text)) return;
    if (MARKER.test(text) || MARKER.test(lines[i - 1] ?? "")) return;
    found.push({ line: i + 1, text: text.trim() });
  });
  return found;
}

function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return typeScriptFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

describe("fixed dates in integration tests", () => {
  it("finds fixed dates of every form and accepts only those that say why they cannot expire", () => {
    expect(unexplainedFixedDates('const at = "2026-11-22T10:00:00.000Z";')).toEqual([
      { line: 1, text: 'const at = "2026-11-22T10:00:00.000Z";' },
    ]);
    expect(unexplainedFixedDates("const t = Date.UTC(2026, 10, 22);")).toHaveLength(1);
    expect(unexplainedFixedDates("const t = new Date(2026, 10, 22);")).toHaveLength(1);
    expect(
      unexplainedFixedDates('const t = "2026-11-22"; // date-safe: the config table has no TTL'),
    ).toEqual([]);
    expect(
      unexplainedFixedDates('// date-safe: the fake server deletes nothing\nconst t = "2026-11-22";'),
    ).toEqual([]);
    // A marker without a reason is no reason; a marker two lines up covers nothing.
    expect(unexplainedFixedDates('const t = "2026-11-22"; // date-safe:')).toHaveLength(1);
    expect(unexplainedFixedDates('// date-safe: far above\n\nconst t = "2026-11-22";')).toHaveLength(1);
    expect(unexplainedFixedDates("const t = new Date(Date.now() - 86_400_000);")).toEqual([]);
  });

  it("no integration test or its support code writes a date that can expire", () => {
    const offenders = SCANNED.flatMap((dir) =>
      typeScriptFiles(join(ROOT, dir)).flatMap((file) =>
        unexplainedFixedDates(readFileSync(file, "utf8")).map(
          (hit) => `${relative(ROOT, file)}:${hit.line}: ${hit.text}`,
        ),
      ),
    );
    expect(offenders, "compute the date from the clock, or add `date-safe: <why it cannot expire>`").toEqual(
      [],
    );
  });
});
