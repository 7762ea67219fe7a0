import { type IdFactory, personalEmail } from "#shared/domain/simulation/drafts";
import { type AddressBook, type Country, country, HOME_MARKETS } from "#shared/domain/simulation/geography";
import type { Rng } from "#shared/domain/simulation/random";

/**
 * The simulated customers and the networks they share. Sharing is what makes velocity features
 * hard to read: families share a home IP and often a tablet, colleagues share an office IP,
 * mobile customers share a carrier's NAT addresses with thousands of strangers.
 */

/** A device with a stable id. */
export interface SimDevice {
  readonly deviceId: string;
  readonly kind: "phone" | "laptop" | "tablet";
}

/** People living together: one home IP, sometimes one shared tablet. */
export interface Household {
  readonly id: number;
  readonly country: Country;
  readonly city: string;
  readonly homeIp: string;
  readonly members: SimUser[];
  tablet?: SimDevice;
  /** A card more than one member pays with (one of the first member's). */
  sharedCard?: string;
}

/** A workplace: colleagues' laptops come from its one IP on working hours. */
export interface Office {
  readonly id: number;
  readonly country: Country;
  readonly city: string;
  readonly ip: string;
}

/** An established customer. */
export interface SimUser {
  readonly userId: string;
  readonly email: string;
  readonly phone?: string;
  readonly country: Country;
  readonly household: Household;
  readonly phoneDevice: SimDevice;
  readonly laptop?: SimDevice;
  readonly office?: Office;
  /** Public NAT addresses of the user's mobile carrier. */
  readonly carrierIps: readonly string[];
  /** Card fingerprints; empty for customers who pay by wallet or transfer. */
  readonly cards: readonly string[];
}

/** Everyone, plus the shared networks. */
export interface Population {
  readonly users: readonly SimUser[];
  readonly households: readonly Household[];
  readonly offices: readonly Office[];
  /** Carrier NAT addresses by country code (two carriers a country, pooled). */
  readonly carrierIps: ReadonlyMap<string, readonly string[]>;
}

/** Mobile customers behind one carrier NAT address (real CGNAT ratios are far higher). */
const USERS_PER_NAT_IP = 40;
/** Laptop owners who work in an office. */
const OFFICE_WORKER_SHARE = 0.3;
/** Colleagues per office. */
const OFFICE_SIZE = 15;

/** Builds `size` established users with households, offices and carriers. */
export function buildPopulation(rng: Rng, size: number, ids: IdFactory, addresses: AddressBook): Population {
  const byCountry = new Map<string, number>();
  const homes: Country[] = [];
  for (let i = 0; i < size; i++) {
    const home = country(rng.weighted(HOME_MARKETS));
    homes.push(home);
    byCountry.set(home.code, (byCountry.get(home.code) ?? 0) + 1);
  }

  const carrierIps = new Map<string, string[]>();
  for (const [code, count] of byCountry) {
    const n = Math.max(4, Math.ceil(count / USERS_PER_NAT_IP));
    carrierIps.set(
      code,
      Array.from({ length: n }, () => addresses.next(country(code).residentialOctets)),
    );
  }

  const officeList: Office[] = [];
  const openOffice = new Map<string, { office: Office; staff: number }>();
  /** Colleagues fill one office of a country until it has OFFICE_SIZE, then the next opens. */
  const officeFor = (home: Country): Office => {
    let current = openOffice.get(home.code);
    if (!current || current.staff >= OFFICE_SIZE) {
      const office: Office = {
        id: officeList.length,
        country: home,
        city: rng.pick(home.cities),
        ip: addresses.next(home.residentialOctets),
      };
      officeList.push(office);
      current = { office, staff: 0 };
      openOffice.set(home.code, current);
    }
    current.staff++;
    return current.office;
  };

  const households: Household[] = [];
  const users: SimUser[] = [];
  let open: Household | undefined;
  let openSlots = 0;
  for (const home of homes) {
    // Households of 1 to 4: most people live alone or with one other person who uses the app.
    if (!open || openSlots === 0 || open.country !== home) {
      const size = rng.weighted([
        [1, 60],
        [2, 22],
        [3, 12],
        [4, 6],
      ] as const);
      open = {
        id: households.length,
        country: home,
        city: rng.pick(home.cities),
        homeIp: addresses.next(home.residentialOctets),
        members: [],
      };
      households.push(open);
      openSlots = size;
    }
    openSlots--;
    const laptop: SimDevice | undefined = rng.chance(0.55)
      ? { deviceId: ids.device(), kind: "laptop" }
      : undefined;
    const office = laptop && rng.chance(OFFICE_WORKER_SHARE) ? officeFor(home) : undefined;
    const nat = carrierIps.get(home.code) ?? [];
    // Two carriers per country: each customer's NAT pool is one half of the country's addresses.
    const half = Math.ceil(nat.length / 2);
    const carrier = rng.chance(0.5) ? nat.slice(0, half) : nat.slice(half);
    const cardCount = rng.weighted([
      [0, 10],
      [1, 65],
      [2, 25],
    ] as const);
    const user: SimUser = {
      userId: ids.user(),
      email: personalEmail(rng),
      ...(rng.chance(0.8) ? { phone: home.phone(rng) } : {}),
      country: home,
      household: open,
      phoneDevice: { deviceId: ids.device(), kind: "phone" },
      ...(laptop ? { laptop } : {}),
      ...(office ? { office } : {}),
      carrierIps: carrier.length > 0 ? carrier : nat,
      cards: Array.from({ length: cardCount }, () => ids.card()),
    };
    open.members.push(user);
    users.push(user);
  }
  // Families of three or more usually share a tablet; couples sometimes do.
  for (const h of households) {
    const share = h.members.length >= 3 ? 0.6 : h.members.length === 2 ? 0.3 : 0;
    if (rng.chance(share)) h.tablet = { deviceId: ids.device(), kind: "tablet" };
  }
  // Half the households of two or more pay with one member's card too (a joint or a parent's card).
  for (const h of households) {
    const card = h.members[0]?.cards[0];
    if (h.members.length < 2 || card === undefined || !rng.chance(0.5)) continue;
    h.sharedCard = card;
    for (const member of h.members.slice(1)) (member.cards as string[]).push(card);
  }
  return { users, households, offices: officeList, carrierIps };
}
