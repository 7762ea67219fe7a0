import { currencyExponent } from "#shared/domain/event/currency";
import { type Checked, reject } from "#shared/domain/event/reasons";

/** An amount in canonical decimal text together with its currency. */
export interface Money {
  /** Exactly as many decimals as the currency's minor unit: "12.30" USD, "1000" JPY, "0.500" KWD. */
  readonly amount: string;
  /** Upper-case ISO-4217 code. */
  readonly currency: string;
}

const PLAIN_DECIMAL = /^(\d+)(?:\.(\d+))?$/;
const CURRENCY_CODE = /^[A-Za-z]{3}$/;

/**
 * Checks an amount and its currency and writes the amount canonically. Money never passes
 * through floating point arithmetic: a decimal string is used as written, and a JSON number is
 * used as the shortest decimal that reads back as the same double (the decoder has already
 * refused numbers JSON.parse could not read exactly).
 *
 * Zero is allowed (fully discounted orders); negative amounts, NaN and Infinity are not, nor a
 * value finer than the currency's minor unit (trailing zeros are fine: "12.340" USD is 12.34),
 * nor more than 2^53 - 1 minor units.
 */
export function normalizeMoney(amount: string | number, currency: string): Checked<Money> {
  if (!CURRENCY_CODE.test(currency)) return invalidCurrency();
  const code = currency.toUpperCase();
  const exponent = currencyExponent(code);
  if (exponent === undefined) return invalidCurrency();

  const text = typeof amount === "number" ? numberText(amount) : amount;
  if (typeof text !== "string") return text;
  if (text.startsWith("-")) return invalidAmount("must not be negative");
  const m = PLAIN_DECIMAL.exec(text);
  if (m === null) return invalidAmount("must be a plain decimal such as 12.34 (no sign, exponent or spaces)");
  const [, integerDigits = "", fractionDigits = ""] = m;
  const fraction = fractionDigits.replace(/0+$/, "");
  if (fraction.length > exponent) return tooManyDecimals(code, exponent);
  const paddedFraction = fraction.padEnd(exponent, "0");
  const minorDigits = `${integerDigits}${paddedFraction}`.replace(/^0+(?=\d)/, "");
  if (minorDigits.length > 16 || Number(minorDigits) > Number.MAX_SAFE_INTEGER) return tooLarge();
  const integer = integerDigits.replace(/^0+(?=\d)/, "");
  return {
    ok: true,
    value: { amount: exponent === 0 ? integer : `${integer}.${paddedFraction}`, currency: code },
  };
}

/**
 * The amount of a normalized event in minor units (cents for USD), an exact safe integer:
 * sums of these are exact, sums of decimals in floating point are not.
 */
export function minorUnits(money: Money): number {
  return Number(money.amount.replace(".", ""));
}

/** Decimal text of a JSON number, or the reason it has none usable as an amount. */
function numberText(value: number): string | Checked<never> {
  if (!Number.isFinite(value)) return invalidAmount("must be a finite number");
  if (value < 0) return invalidAmount("must not be negative");
  const text = String(value);
  if (!text.includes("e")) return text;
  // String() switches to exponent form below 1e-6 and from 1e21: the first has more decimals
  // than any currency allows, the second more minor units than are safe.
  return value < 1 ? invalidAmount("has more decimal places than any currency allows") : tooLarge();
}

function tooManyDecimals(code: string, exponent: number): Checked<never> {
  return invalidAmount(`has more decimal places than ${code} allows (${exponent})`);
}

function tooLarge(): Checked<never> {
  return invalidAmount("is too large (more than 2^53 - 1 minor units)");
}

function invalidAmount(what: string): Checked<never> {
  return reject("INVALID_AMOUNT", `amount: ${what}`);
}

function invalidCurrency(): Checked<never> {
  return reject("INVALID_CURRENCY", "currency: not an active ISO-4217 code with a minor unit");
}
