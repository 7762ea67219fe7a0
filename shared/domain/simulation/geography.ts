import type { Rng } from "#shared/domain/simulation/random";

/**
 * The simulated world's places: countries with their cities, time zones, currencies, phone
 * number shapes and address blocks. Invented but shaped like the real thing: every phone number
 * is valid for its country in libphonenumber's metadata, every IP is a public unicast address
 * outside the documentation ranges (which the default block list holds), and amounts follow the
 * currency's minor unit.
 */

/** A country the simulated population lives in or attacks come from. */
export interface Country {
  readonly code: string;
  readonly cities: readonly string[];
  /** Offset of local time from UTC, in hours (daily rhythm; no daylight saving). */
  readonly utcOffsetHours: number;
  readonly currency: string;
  /** Decimal places of the currency (ISO 4217 minor unit). */
  readonly currencyDigits: number;
  /** Roughly how many minor units one US dollar is worth, to give amounts local magnitudes. */
  readonly perUsd: number;
  /** First octets of the country's residential address space (invented, plausible). */
  readonly residentialOctets: readonly number[];
  /** A mobile number valid for the country. */
  readonly phone: (rng: Rng) => string;
}

const digits = (rng: Rng, n: number) => {
  let out = "";
  for (let i = 0; i < n; i++) out += String(rng.int(0, 9));
  return out;
};

/** Countries where the population lives (with weights) and travels. */
export const COUNTRIES: Readonly<Record<string, Country>> = {
  US: {
    code: "US",
    cities: ["New York", "Chicago", "Austin", "Seattle"],
    utcOffsetHours: -5,
    currency: "USD",
    currencyDigits: 2,
    perUsd: 100,
    residentialOctets: [24, 73, 98, 174],
    phone: (rng) => `+1${rng.pick(["415", "212", "312", "512", "206"])}${rng.int(2, 9)}${digits(rng, 6)}`,
  },
  GB: {
    code: "GB",
    cities: ["London", "Manchester"],
    utcOffsetHours: 0,
    currency: "GBP",
    currencyDigits: 2,
    perUsd: 80,
    residentialOctets: [81, 86],
    phone: (rng) => `+4479${rng.pick(["0", "2", "4", "5", "6", "7", "8", "9"])}${digits(rng, 7)}`,
  },
  DE: {
    code: "DE",
    cities: ["Berlin", "Munich", "Hamburg"],
    utcOffsetHours: 1,
    currency: "EUR",
    currencyDigits: 2,
    perUsd: 92,
    residentialOctets: [79, 91],
    phone: (rng) => `+49${rng.pick(["151", "160", "176"])}${digits(rng, 8)}`,
  },
  FR: {
    code: "FR",
    cities: ["Paris", "Lyon"],
    utcOffsetHours: 1,
    currency: "EUR",
    currencyDigits: 2,
    perUsd: 92,
    residentialOctets: [90, 88],
    phone: (rng) => `+33${rng.pick(["6", "7"])}${digits(rng, 8)}`,
  },
  JP: {
    code: "JP",
    cities: ["Tokyo", "Osaka"],
    utcOffsetHours: 9,
    currency: "JPY",
    currencyDigits: 0,
    perUsd: 150,
    residentialOctets: [60, 126],
    phone: (rng) => `+81${rng.pick(["80", "90"])}${digits(rng, 8)}`,
  },
  BR: {
    code: "BR",
    cities: ["Sao Paulo", "Rio de Janeiro"],
    utcOffsetHours: -3,
    currency: "BRL",
    currencyDigits: 2,
    perUsd: 500,
    residentialOctets: [177, 189],
    phone: (rng) => `+55${rng.pick(["11", "21"])}9${digits(rng, 8)}`,
  },
  IN: {
    code: "IN",
    cities: ["Mumbai", "Bengaluru"],
    utcOffsetHours: 5.5,
    currency: "INR",
    currencyDigits: 2,
    perUsd: 8300,
    residentialOctets: [49, 117],
    phone: (rng) => `+91${rng.pick(["98", "99", "70"])}${digits(rng, 8)}`,
  },
  NL: {
    code: "NL",
    cities: ["Amsterdam"],
    utcOffsetHours: 1,
    currency: "EUR",
    currencyDigits: 2,
    perUsd: 92,
    residentialOctets: [83],
    phone: (rng) => `+316${digits(rng, 8)}`,
  },
};

/** Where the population lives: country code and share. */
export const HOME_MARKETS: ReadonlyArray<readonly [string, number]> = [
  ["US", 60],
  ["GB", 10],
  ["DE", 8],
  ["FR", 7],
  ["JP", 5],
  ["BR", 5],
  ["IN", 5],
];

/** The country of a code known to {@link COUNTRIES}. */
export function country(code: string): Country {
  const found = COUNTRIES[code];
  if (!found) throw new Error(`unknown simulated country ${code}`);
  return found;
}

/**
 * Networks of hosting providers (VPN exits, proxies, attack servers), as their first two octets:
 * real customer space of DigitalOcean, Scaleway, OVHcloud, Hetzner, AWS and Vultr, so the shipped
 * IP dataset types them `hosting` as it would the real thing (a unit test checks every one).
 */
export const HOSTING_PREFIXES: readonly string[] = [
  "159.89",
  "165.227",
  "104.131",
  "51.15",
  "51.68",
  "95.216",
  "3.80",
  "54.160",
  "45.32",
];

/**
 * Hands out distinct IPv4 addresses, so that two simulated households never share an address by
 * accident: every sharing in the simulation is deliberate (family, office, carrier NAT, hotel).
 */
export class AddressBook {
  private readonly used = new Set<string>();

  constructor(private readonly rng: Rng) {}

  /** A fresh address in one of the two-octet `prefixes` (`"159.89"`). */
  nextIn(prefixes: readonly string[]): string {
    for (;;) {
      const ip = `${this.rng.pick(prefixes)}.${this.rng.int(0, 255)}.${this.rng.int(1, 254)}`;
      if (!this.used.has(ip)) {
        this.used.add(ip);
        return ip;
      }
    }
  }

  /**
   * A fresh address in the /24 of `ip` (`a.b.c.x`): the next host of one network, as a carrier's
   * or a campus's address pool hands them out.
   */
  nextNear(ip: string): string {
    const net = ip.split(".").slice(0, 3).join(".");
    for (;;) {
      const candidate = `${net}.${this.rng.int(1, 254)}`;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return candidate;
      }
    }
  }

  /** A fresh address whose first octet is one of `octets`. */
  next(octets: readonly number[]): string {
    for (;;) {
      const ip = `${this.rng.pick(octets)}.${this.rng.int(0, 255)}.${this.rng.int(0, 255)}.${this.rng.int(1, 254)}`;
      if (!this.used.has(ip)) {
        this.used.add(ip);
        return ip;
      }
    }
  }
}

/** An amount in the country's currency: `usd` dollars converted, rounded to the minor unit. */
export function localAmount(place: Country, usd: number): { amount: string; currency: string } {
  const minor = Math.max(1, Math.round(usd * place.perUsd));
  return { amount: formatMinor(minor, place.currencyDigits), currency: place.currency };
}

/** Minor units as the canonical decimal text of a currency with `digits` decimals. */
export function formatMinor(minor: number, digits: number): string {
  if (digits === 0) return String(minor);
  const scale = 10 ** digits;
  return `${Math.floor(minor / scale)}.${String(minor % scale).padStart(digits, "0")}`;
}

/**
 * Relative activity by local hour (0-23): quiet nights, a morning rise, a lunch bump and the
 * evening peak that consumer apps see.
 */
export const DAILY_RHYTHM: readonly number[] = [
  0.25, 0.15, 0.1, 0.07, 0.07, 0.1, 0.2, 0.4, 0.6, 0.7, 0.75, 0.8, 0.9, 0.85, 0.75, 0.75, 0.8, 0.9, 1.0, 1.1,
  1.15, 1.1, 0.8, 0.5,
];

/**
 * A time in [fromMs, toMs) drawn from the daily rhythm of a place `utcOffsetHours` from UTC
 * (rejection sampling against the rhythm's peak).
 */
export function rhythmTime(rng: Rng, fromMs: number, toMs: number, utcOffsetHours: number): number {
  const peak = Math.max(...DAILY_RHYTHM);
  for (;;) {
    const t = Math.floor(rng.between(fromMs, toMs));
    const localHour = Math.floor((((t / 3_600_000 + utcOffsetHours) % 24) + 24) % 24);
    if (rng.next() * peak < (DAILY_RHYTHM[localHour] ?? 0)) return t;
  }
}

/** Local hour (0-23) of an instant at a place. */
export function localHour(t: number, utcOffsetHours: number): number {
  return Math.floor((((t / 3_600_000 + utcOffsetHours) % 24) + 24) % 24);
}
