import * as z from "zod";
import { currencyExponent } from "#shared/domain/event/index";
import type { CurrencyConverter } from "#shared/domain/features/definition";

/**
 * The exchange-rate table: config kind `rates` (docs/features.md, "Currency"), versioned in the
 * config table like the rules, applied with `vigil rates apply`, hot-reloaded by the score
 * function. Features that sum amounts (or compare them) in a reference currency convert each
 * currency's window total with it when they are read.
 *
 * Exact: rates are decimal strings, conversion is done in integers (BigInt) and rounded once,
 * half to even, to the target currency's minor unit.
 */

const RATE = /^(0|[1-9][0-9]{0,11})(\.[0-9]{1,12})?$/;
const CODE = /^[A-Z]{3}$/;

/** The rates document as written. */
export const ratesDocumentSchema = z.strictObject({
  /** The currency every rate is expressed in. */
  base: z.string().regex(CODE, "an ISO-4217 code in upper case, e.g. EUR"),
  /** The day the rates are from (YYYY-MM-DD), shown with every reading. */
  asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD"),
  /** Where the rates come from (e.g. "ECB euro foreign exchange reference rates"). */
  source: z.string().min(1).max(200).optional(),
  /** Currency → value of one unit of it in the base currency, as a decimal string ("0.9234"). */
  rates: z.record(
    z.string().regex(CODE, "an ISO-4217 code in upper case"),
    z.string().regex(RATE, 'a positive decimal string such as "0.9234" (at most 12 digits each side)'),
  ),
});

/** A rates document as written. */
export type RatesDocument = z.infer<typeof ratesDocumentSchema>;

/** One problem of a rates document. */
export interface RatesIssue {
  readonly path: string;
  readonly message: string;
}

/** A rates document that failed validation. */
export class RatesDocumentError extends Error {
  override readonly name = "RatesDocumentError";
  constructor(readonly issues: readonly RatesIssue[]) {
    super(`invalid rates: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
  }
}

/** A rate as a fraction numerator / 10^decimals. */
interface Rate {
  readonly numerator: bigint;
  readonly decimals: number;
}

/** A compiled rates table. */
export interface CompiledRates {
  readonly base: string;
  readonly asOf: string;
  /** Currencies with a rate (the base included), sorted. */
  readonly currencies: readonly string[];
  /** The converter features use; its label names the config version and the date. */
  readonly converter: CurrencyConverter;
}

/**
 * Validates and compiles a rates document; `version` (the config-table version) goes into the
 * converter's label. Throws RatesDocumentError naming every problem.
 */
export function compileRates(document: unknown, version?: number): CompiledRates {
  const parsed = ratesDocumentSchema.safeParse(document);
  if (!parsed.success) {
    throw new RatesDocumentError(
      parsed.error.issues.map((issue) => ({
        path: issue.path.join(".") || "(document)",
        message: issue.message,
      })),
    );
  }
  const doc = parsed.data;
  const issues: RatesIssue[] = [];
  if (currencyExponent(doc.base) === undefined)
    issues.push({ path: "base", message: "is not an active ISO-4217 currency" });
  const rates = new Map<string, Rate>([[doc.base, { numerator: 1n, decimals: 0 }]]);
  for (const [code, text] of Object.entries(doc.rates)) {
    if (currencyExponent(code) === undefined) {
      issues.push({ path: `rates.${code}`, message: "is not an active ISO-4217 currency" });
      continue;
    }
    const [whole = "0", fraction = ""] = text.split(".");
    const rate = { numerator: BigInt(whole + fraction), decimals: fraction.length };
    if (rate.numerator === 0n) issues.push({ path: `rates.${code}`, message: "must be above 0" });
    if (code === doc.base && rate.numerator !== 10n ** BigInt(rate.decimals))
      issues.push({ path: `rates.${code}`, message: "the base currency's rate is 1" });
    rates.set(code, rate);
  }
  if (issues.length > 0) throw new RatesDocumentError(issues);
  const label = `${version === undefined ? "rates" : `rates version ${version}`} (${doc.base}, ${doc.asOf})`;
  return {
    base: doc.base,
    asOf: doc.asOf,
    currencies: [...rates.keys()].sort(),
    converter: {
      label,
      convert: (minor, from, to) => {
        const a = rates.get(from);
        const b = rates.get(to);
        const ea = currencyExponent(from);
        const eb = currencyExponent(to);
        if (!a || !b || ea === undefined || eb === undefined) return undefined;
        return convertMinor(minor, a, ea, b, eb);
      },
    },
  };
}

/**
 * minor × (rate_from ÷ rate_to) × 10^(e_to − e_from), rounded half to even, in integers:
 * minor · n_from · 10^(e_to + d_to) ÷ (n_to · 10^(e_from + d_from)). Clamped to the safe-integer range.
 */
function convertMinor(minor: number, from: Rate, fromExponent: number, to: Rate, toExponent: number): number {
  const negative = minor < 0;
  const numerator = BigInt(Math.abs(minor)) * from.numerator * 10n ** BigInt(toExponent + to.decimals);
  const denominator = to.numerator * 10n ** BigInt(fromExponent + from.decimals);
  let quotient = numerator / denominator;
  const twice = (numerator % denominator) * 2n;
  if (twice > denominator || (twice === denominator && quotient % 2n === 1n)) quotient += 1n;
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  const value = Number(quotient > limit ? limit : quotient);
  return negative ? -value : value;
}
