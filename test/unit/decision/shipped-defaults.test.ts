import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG_DIR, defaultDocuments } from "#shared/adapters/config-files";
import { validateDecisionDocument } from "#shared/domain/decision/index";
import { SHIPPED_DEFAULTS } from "#shared/domain/decision/shipped-defaults";

describe("shipped defaults embedded in the code", () => {
  it("equal the files in config/defaults (run `npm run defaults:embed` after editing them)", () => {
    expect(SHIPPED_DEFAULTS).toEqual(defaultDocuments(DEFAULT_CONFIG_DIR));
  });

  it("are valid documents of their kinds", () => {
    for (const [kind, document] of Object.entries(SHIPPED_DEFAULTS)) {
      expect(() => validateDecisionDocument(kind as keyof typeof SHIPPED_DEFAULTS, document)).not.toThrow();
    }
  });
});
