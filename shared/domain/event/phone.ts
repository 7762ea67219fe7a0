import { parsePhoneNumberFromString } from "libphonenumber-js/min";
import { type Checked, reject } from "#shared/domain/event/reasons";

// A leading "+" and then digits with the usual visual separators; no letters, extensions or
// "tel:" URIs, which the parser would otherwise read around.
const INTERNATIONAL = /^\+[0-9][0-9 ().-]{3,30}$/;

/**
 * E.164 form of a phone number (`+12015550123`).
 *
 * Numbers must be written in international format. A number without "+" is rejected rather
 * than read in a default country: guessing the country from geo (which follows the IP, not the
 * subscriber) would file one person's activity under another person's number.
 *
 * Validation uses libphonenumber's minimal metadata (length and leading digits per country):
 * it keeps the Lambda bundle small and does not reject numbers from newly allocated ranges,
 * which would quarantine a real customer's event.
 */
export function normalizePhone(input: string): Checked<string> {
  const text = input.trim();
  if (!INTERNATIONAL.test(text)) {
    return reject("INVALID_PHONE", "phone: must be in international format: '+', country code, number");
  }
  const parsed = parsePhoneNumberFromString(text, { extract: false });
  if (parsed === undefined || !parsed.isValid()) {
    return reject("INVALID_PHONE", "phone: not a valid number for its country code");
  }
  return { ok: true, value: parsed.number };
}
