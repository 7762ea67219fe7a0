import type { EventAttributes } from "#shared/domain/event/index";
import type { AttackType, AttackVariant, LegitKind, Phase } from "#shared/domain/simulation/ground-truth";
import type { Rng } from "#shared/domain/simulation/random";

/**
 * Events as the generators write them: the event's fields, its time and its truth, before the
 * simulation sorts everything by time and gives each event its id.
 */

/** The truth of a draft, without what the simulation adds (id, time, type). */
export type DraftTruth =
  | { readonly label: "legit"; readonly kind: LegitKind }
  | {
      readonly label: "attack";
      readonly attack: AttackType;
      readonly variant: AttackVariant;
      readonly actor: string;
    };

/** Where an event comes from: the actor's device, network and the place the network is in. */
export interface Origin {
  readonly userId: string;
  readonly deviceId: string;
  readonly ip: string;
  readonly country: string;
  readonly city: string;
}

/** Type-specific fields. */
export type Body =
  | { readonly type: "register"; readonly email?: string; readonly phone?: string }
  | { readonly type: "login" }
  | { readonly type: "order"; readonly amount: string; readonly currency: string }
  | {
      readonly type: "payment";
      readonly amount: string;
      readonly currency: string;
      readonly cardFingerprint?: string;
      readonly cardBin?: string;
    }
  | { readonly type: "coupon_claim"; readonly campaignId: string; readonly couponId: string };

/** One event before ordering and naming. */
export interface Draft {
  /** Event time, epoch ms. */
  readonly t: number;
  readonly phase: Phase;
  readonly origin: Origin;
  readonly body: Body;
  readonly attributes?: EventAttributes;
  readonly truth: DraftTruth;
}

/** Collects drafts; generators only append. */
export class DraftSink {
  readonly drafts: Draft[] = [];

  add(draft: Draft): void {
    this.drafts.push(draft);
  }
}

/**
 * Hands out identifiers that look the same whoever they are for (a fraudster's account id looks
 * like a customer's), and never twice.
 */
export class IdFactory {
  private readonly used = new Set<string>();
  private readonly bins = new Map<string, string>();
  private readonly usedRareBins = new Set<string>();

  constructor(private readonly rng: Rng) {}

  private fresh(prefix: string, length: number): string {
    for (;;) {
      const id = `${prefix}${this.rng.hex(length)}`;
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
  }

  user(): string {
    return this.fresh("u_", 12);
  }

  device(): string {
    return this.fresh("d_", 14);
  }

  /**
   * A new card. Its BIN is `bin` (a batch of stolen cards shares its issuer's) or one of the
   * common issuers' BINs drawn for it; {@link binOf} gives it back.
   */
  card(bin?: string): string {
    const card = this.fresh("card_", 16);
    this.bins.set(card, bin ?? (ISSUER_BINS[this.rng.int(0, ISSUER_BINS.length - 1)] as string));
    return card;
  }

  /** The BIN of a card this factory made. */
  binOf(card: string): string {
    const bin = this.bins.get(card);
    if (bin === undefined) throw new Error(`unknown simulated card ${card}`);
    return bin;
  }

  /** A BIN no other card of the simulation has yet: an issuer whose cards a breach exposed. */
  rareBin(): string {
    for (;;) {
      const bin = String(this.rng.int(400_000, 559_999));
      if (!ISSUER_BINS.includes(bin) && !this.usedRareBins.has(bin)) {
        this.usedRareBins.add(bin);
        return bin;
      }
    }
  }

  coupon(): string {
    return this.fresh("CPN-", 10).toUpperCase();
  }

  merchant(): string {
    return this.fresh("m_", 6);
  }
}

/** BINs of the big issuers most customers' cards come from (invented, Visa and Mastercard ranges). */
const ISSUER_BINS: readonly string[] = Array.from({ length: 40 }, (_, i) =>
  String(i % 2 === 0 ? 411_000 + i * 137 : 521_000 + i * 113),
);

const FIRST = [
  "alex",
  "maria",
  "john",
  "yuki",
  "li",
  "ana",
  "sam",
  "noah",
  "emma",
  "lucas",
  "mia",
  "omar",
  "sofia",
  "raj",
  "lena",
  "paul",
  "chloe",
  "ivan",
  "nina",
  "leo",
] as const;
const LAST = [
  "smith",
  "garcia",
  "tanaka",
  "mueller",
  "martin",
  "silva",
  "patel",
  "brown",
  "rossi",
  "kim",
  "dubois",
  "schmidt",
  "sato",
  "jones",
  "costa",
  "singh",
] as const;
const MAIL_PROVIDERS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me"] as const;

/** An address a person would pick: name, sometimes digits, at a big provider. */
export function personalEmail(rng: Rng): string {
  const sep = rng.pick([".", "_", ""]);
  const tail = rng.chance(0.6) ? String(rng.int(1, 9999)) : "";
  return `${rng.pick(FIRST)}${sep}${rng.pick(LAST)}${tail}@${rng.pick(MAIL_PROVIDERS)}`;
}

/** An address a bot makes: random letters and digits, often at a throwaway domain. */
export function botEmail(rng: Rng, domains: readonly string[]): string {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  let local = "";
  const n = rng.int(7, 11);
  for (let i = 0; i < n; i++) local += letters[rng.int(0, 25)];
  return `${local}${rng.int(10, 999)}@${rng.pick(domains)}`;
}
