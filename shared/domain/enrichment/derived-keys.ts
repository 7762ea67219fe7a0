import ipaddr from "ipaddr.js";
import * as z from "zod";

/**
 * Derived keys: values computed from one event field so that aliases of one thing are one key
 * (docs/features.md, "Derived keys"). Each is a pure function of the clean event and of the
 * rules below, which are data in the feature set (`derivedKeys`) and part of the meaning of every
 * feature that uses them: changing a rule starts those features from empty state.
 */

const DOMAIN = /^[a-z0-9.-]+\.[a-z0-9-]+$/;

/** How one group of mail domains folds addresses. */
const emailProvider = z.strictObject({
  /** Domains the rule applies to (lower case). */
  domains: z.array(z.string().regex(DOMAIN, "a lower-case mail domain")).min(1).max(50),
  /** The domain every address of the group is written with (e.g. googlemail.com → gmail.com). */
  canonicalDomain: z.string().regex(DOMAIN, "a lower-case mail domain").optional(),
  /** The provider ignores dots in the local part (Gmail). */
  ignoreDots: z.boolean(),
  /** Everything from this character on in the local part is a tag (`+` for most providers); null: no tags. */
  tagSeparator: z.enum(["+", "-"]).nullable(),
});

/** The rules of the derived keys, as written in a feature set's `derivedKeys`. */
export const derivedKeyRulesSchema = z.strictObject({
  email: z
    .strictObject({
      providers: z.array(emailProvider).max(50),
      /** Tag separator of every other domain; null: addresses of other domains are kept as they are. */
      otherTagSeparator: z.enum(["+", "-"]).nullable(),
    })
    .optional(),
  /** `phone.block`: the E.164 number without its last this many digits. */
  phoneBlockDigits: z.int().min(1).max(8).optional(),
  /** `ip.prefix`: the network of an IPv4 address with this many bits. */
  ipv4PrefixBits: z.int().min(8).max(32).optional(),
  /** `ip.prefix`: the network of an IPv6 address with this many bits. */
  ipv6PrefixBits: z.int().min(16).max(128).optional(),
});

/** Derived-key rules as written (every part optional). */
export type DerivedKeyRulesInput = z.infer<typeof derivedKeyRulesSchema>;

/** Derived-key rules with every default filled in. */
export interface DerivedKeyRules {
  readonly email: {
    readonly providers: readonly z.infer<typeof emailProvider>[];
    readonly otherTagSeparator: "+" | "-" | null;
  };
  readonly phoneBlockDigits: number;
  readonly ipv4PrefixBits: number;
  readonly ipv6PrefixBits: number;
}

/**
 * The default rules. Email: Gmail (gmail.com and googlemail.com, written gmail.com) ignores dots
 * and `+tags`; every other domain only `+tags` (RFC 5233 subaddressing, which Outlook, iCloud,
 * Yahoo's `+` form, Proton and Fastmail honour), because dots are significant elsewhere. Phone
 * numbers lose their last 4 digits (a block of 10,000 numbers, the unit operators and SMS farms
 * get numbers in). IPv4 /24 and IPv6 /48 (a site's allocation; /64 is one subnet).
 */
export const DEFAULT_DERIVED_KEY_RULES: DerivedKeyRules = {
  email: {
    providers: [
      {
        domains: ["gmail.com", "googlemail.com"],
        canonicalDomain: "gmail.com",
        ignoreDots: true,
        tagSeparator: "+",
      },
    ],
    otherTagSeparator: "+",
  },
  phoneBlockDigits: 4,
  ipv4PrefixBits: 24,
  ipv6PrefixBits: 48,
};

/** Fills the defaults into rules as written. */
export function resolveDerivedKeyRules(input: DerivedKeyRulesInput | undefined): DerivedKeyRules {
  return {
    email: input?.email ?? DEFAULT_DERIVED_KEY_RULES.email,
    phoneBlockDigits: input?.phoneBlockDigits ?? DEFAULT_DERIVED_KEY_RULES.phoneBlockDigits,
    ipv4PrefixBits: input?.ipv4PrefixBits ?? DEFAULT_DERIVED_KEY_RULES.ipv4PrefixBits,
    ipv6PrefixBits: input?.ipv6PrefixBits ?? DEFAULT_DERIVED_KEY_RULES.ipv6PrefixBits,
  };
}

/**
 * The canonical form of a clean (lower-case) email address: the provider's domain alias
 * replaced, the tag cut from its separator on, dots dropped where the provider ignores them.
 * A local part that would become empty (`+news@example.com`) is kept as it was.
 */
export function canonicalEmail(email: string, rules: DerivedKeyRules["email"]): string {
  const at = email.lastIndexOf("@");
  if (at <= 0) return email;
  const domain = email.slice(at + 1);
  const provider = rules.providers.find((p) => p.domains.includes(domain));
  const separator = provider ? provider.tagSeparator : rules.otherTagSeparator;
  let local = email.slice(0, at);
  if (separator !== null) {
    const cut = local.indexOf(separator);
    if (cut >= 0) local = local.slice(0, cut);
  }
  if (provider?.ignoreDots) local = local.replaceAll(".", "");
  if (local === "") local = email.slice(0, at);
  return `${local}@${provider?.canonicalDomain ?? domain}`;
}

/** The domain of a clean email address (the text after the last `@`). */
export function emailDomain(email: string): string | undefined {
  const at = email.lastIndexOf("@");
  return at < 0 ? undefined : email.slice(at + 1);
}

/** An E.164 number without its last `digits` digits (`+12015550123`, 4 → `+1201555`); undefined when too short. */
export function phoneBlock(e164: string, digits: number): string | undefined {
  return e164.length - 1 > digits ? e164.slice(0, e164.length - digits) : undefined;
}

/** The network of a canonical address with the rules' prefix length, in CIDR text (`203.0.113.0/24`, `2001:db8:1::/48`). */
export function ipPrefix(
  ip: string,
  rules: Pick<DerivedKeyRules, "ipv4PrefixBits" | "ipv6PrefixBits">,
): string | undefined {
  if (!ipaddr.isValid(ip)) return undefined;
  const address = ipaddr.parse(ip);
  const bits = address.kind() === "ipv4" ? rules.ipv4PrefixBits : rules.ipv6PrefixBits;
  const bytes = address.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] = (bytes[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  const network = ipaddr.fromByteArray(bytes);
  const text = network.kind() === "ipv6" ? (network as ipaddr.IPv6).toRFC5952String() : network.toString();
  return `${text}/${bits}`;
}
