import { describe, expect, it } from "vitest";
import { FUNCTIONS, physicalName, STREAMS, TABLES } from "#shared/resources";

describe("resource definitions", () => {
  it("gives every table and stream a distinct environment variable", () => {
    const vars = [...Object.values(TABLES), ...Object.values(STREAMS)].map((r) => r.envVar);
    expect(new Set(vars).size).toBe(vars.length);
  });

  it("wires every event source to a defined stream", () => {
    for (const fn of Object.values(FUNCTIONS)) {
      expect(Object.keys(STREAMS)).toContain(fn.eventSource.stream);
    }
  });

  it("derives physical names from prefix and id", () => {
    expect(physicalName("vigil-local", "Decisions")).toBe("vigil-local-decisions");
  });
});
