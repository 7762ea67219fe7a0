import { describe, expect, it } from "vitest";
import { ConfigValidationError, compileRatesDocument } from "#shared/domain/decision/index";
import { compileRates } from "#shared/domain/enrichment/rates";

describe("exchange rates", () => {
  const rates = compileRates(
    { base: "EUR", asOf: "2026-12-01", rates: { USD: "0.9234", JPY: "0.006123", KWD: "2.95", BHD: "2.4" } },
    7,
  );
  const { convert } = rates.converter;

  it("converts minor units exactly, rounding once, half to even", () => {
    expect(convert(100, "USD", "EUR")).toBe(92); // 92.34
    expect(convert(150, "USD", "EUR")).toBe(139); // 138.51
    expect(convert(10_000, "JPY", "EUR")).toBe(6_123); // 10,000 yen → 61.23 €
    expect(convert(92, "EUR", "USD")).toBe(100); // 99.63
    expect(convert(1_000, "KWD", "EUR")).toBe(295); // 1.000 KWD → 2.95 €
    expect(convert(295, "EUR", "KWD")).toBe(1_000);
    expect(convert(5, "EUR", "JPY")).toBe(8); // 0.05 € → 8.166 yen
    // Half to even: 1 JPY in a base of 0.5 → 0.5 → 0; 3 → 1.5 → 2.
    const half = compileRates({ base: "EUR", asOf: "2026-12-01", rates: { JPY: "0.005" } }).converter;
    expect(half.convert(1, "JPY", "EUR")).toBe(0);
    expect(half.convert(3, "JPY", "EUR")).toBe(2);
    expect(convert(100, "GBP", "EUR")).toBeUndefined();
    expect(rates.converter.label).toBe("rates version 7 (EUR, 2026-12-01)");
    expect(rates.currencies).toEqual(["BHD", "EUR", "JPY", "KWD", "USD"]);
  });

  it("refuses tables with unknown currencies, zero rates, a base rate other than 1 or loose keys", () => {
    const issues = (document: unknown) => {
      try {
        compileRatesDocument(document);
      } catch (error) {
        if (error instanceof ConfigValidationError) return error.issues.map((i) => i.path);
      }
      return [];
    };
    expect(issues({ base: "EUR", asOf: "2026-12-01", rates: { XXX: "1", USD: "0" } })).toEqual([
      "rates.XXX",
      "rates.USD",
    ]);
    expect(issues({ base: "EUR", asOf: "2026-12-01", rates: { EUR: "1.5" } })).toEqual(["rates.EUR"]);
    expect(issues({ base: "EUR", asOf: "2026-12-01", rates: { USD: "1e3" } })).toEqual(["rates.USD"]);
    expect(issues({ base: "eur", asOf: "01/12/2026", rates: {}, extra: 1 }).sort()).toEqual(
      ["(document)", "asOf", "base"].sort(),
    );
  });
});
