/**
 * Active ISO-4217 currencies and their minor-unit exponent (digits after the decimal point).
 *
 * Data, not code: update it when ISO publishes an amendment (last reviewed for amendment 179,
 * 2025: ANG replaced by XCG, ZWL by ZWG, SLL by SLE, HRK and CUC withdrawn). Fund codes
 * (BOV, CHE, CLF, ...), precious metals, SDR and test codes are left out: they have no minor
 * unit or are not used to pay for orders.
 */
const EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF";
const EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND";
const EXPONENT_2 = [
  "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD",
  "CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP",
  "GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD",
  "LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB",
  "PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC",
  "SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG",
].join(" ");

function table(): ReadonlyMap<string, number> {
  const entries: [string, number][] = [];
  for (const [codes, exponent] of [
    [EXPONENT_0, 0],
    [EXPONENT_2, 2],
    [EXPONENT_3, 3],
  ] as const) {
    for (const code of codes.split(" ")) entries.push([code, exponent]);
  }
  return new Map(entries);
}

/** Minor-unit exponent per currency code (upper case). */
export const CURRENCY_EXPONENTS: ReadonlyMap<string, number> = table();

/** The minor-unit exponent of an upper-case currency code, or undefined if it is not accepted. */
export function currencyExponent(code: string): number | undefined {
  return CURRENCY_EXPONENTS.get(code);
}
