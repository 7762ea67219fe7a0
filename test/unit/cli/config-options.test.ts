import { describe, expect, it } from "vitest";
import { expiryOption } from "#cli/commands/lists";
import { versionOption } from "#cli/config-command";
import { CliError } from "#cli/output";

const NOW = Date.parse("2026-05-01T12:00:00.000Z");

describe("config command options", () => {
  it("reads --expires as a duration from now or an ISO time in the future", () => {
    expect(expiryOption(undefined, NOW)).toBeUndefined();
    expect(expiryOption("30m", NOW)).toBe("2026-05-01T12:30:00.000Z");
    expect(expiryOption("12h", NOW)).toBe("2026-05-02T00:00:00.000Z");
    expect(expiryOption("7d", NOW)).toBe("2026-05-08T12:00:00.000Z");
    expect(expiryOption("2026-12-31T00:00:00+01:00", NOW)).toBe("2026-12-30T23:00:00.000Z");
    expect(() => expiryOption("2026-01-01T00:00:00Z", NOW)).toThrow(
      new CliError("--expires 2026-01-01T00:00:00Z is in the past", 2),
    );
    expect(() => expiryOption("tomorrow", NOW)).toThrow(CliError);
    expect(() => expiryOption("0d", NOW)).toThrow(CliError);
  });

  it("reads version numbers and refuses anything else", () => {
    expect(versionOption("42")).toBe(42);
    expect(versionOption(undefined)).toBeUndefined();
    expect(() => versionOption("4.2")).toThrow(
      new CliError("--expect-version must be a version number, got 4.2", 2),
    );
    expect(() => versionOption("-1", "--to")).toThrow(
      new CliError("--to must be a version number, got -1", 2),
    );
  });
});
