import { featureConditions } from "#shared/domain/decision/index";
import type { IpEnrichment, IpType } from "#shared/domain/enrichment/ip-enrichment";
import { compileRates } from "#shared/domain/enrichment/rates";
import type { CleanEvent } from "#shared/domain/event/index";
import {
  type CompiledFeatureSet,
  compileFeatureSet,
  type FeatureRecord,
  type FeatureSetDefinition,
  withCurrencyConverter,
} from "#shared/domain/features/index";
import { buildRecords, type Scenario } from "./feature-streams";

/**
 * Streams and a feature set for the feature kinds of issue 16 (derived keys, IP enrichment,
 * converted sums, time-since, value and rate ratios, link counts), run through the same delivery
 * harness as the original kinds (feature-streams.ts): the generated scenarios are the same, and
 * each event gets, from its numbers, an email alias, a card BIN, IPv4 addresses in a few /24s,
 * a currency among USD, JPY, EUR and GBP (the last without a rate), a sign-in method and, for
 * registrations, a referrer. Every derived value holds the run id, so runs sharing one DynamoDB
 * table never meet.
 */

/**
 * An IP enrichment for tests: the ASN is a hash of the address's first three octets (so
 * addresses of one /24 share it, and runs do not; none when the third octet is 2 mod 4), the
 * type follows the third octet.
 */
export const TEST_IP_ENRICHMENT: IpEnrichment = {
  dataset: {
    source: "test",
    date: "2026-01-01",
    licence: "test",
    id: "test-ip-dataset",
    ipv4Ranges: 0,
    ipv6Ranges: 0,
    listedAsns: 0,
    listedRanges: 0,
  },
  lookup(ip: string) {
    const octets = ip.split(".");
    if (octets.length !== 4) return { asn: undefined, type: "unknown" };
    const network = octets.slice(0, 3).join(".");
    const types: IpType[] = ["hosting", "unknown", "vpn", "unknown"];
    const third = Number(octets[2]);
    return {
      asn: third % 4 === 2 ? undefined : 64_512 + (hash(network) % 1_000_000),
      type: types[third % 4] as IpType,
    };
  },
};

/** Rates with EUR as base; GBP is left out on purpose (readings flag it). */
export const TEST_RATES = compileRates(
  { base: "EUR", asOf: "2026-01-01", rates: { USD: "0.9234", JPY: "0.006123" } },
  1,
);

/** The kinds of issue 16 on small windows and caps, so that every rule is exercised in a few minutes of stream. */
export const EXTENDED_TEST_FEATURE_SET: FeatureSetDefinition = {
  derivedKeys: { phoneBlockDigits: 2 },
  features: [
    {
      id: "canon_email_accounts_2m",
      entity: ["email.canonical"],
      aggregation: { type: "distinct", field: "userId", maxDistinct: 1 },
      window: "2m",
    },
    {
      id: "device_email_domains_5m",
      entity: ["deviceId"],
      aggregation: { type: "distinct", field: "email.domain" },
      window: "5m",
    },
    {
      id: "phone_block_accounts_2m",
      entity: ["phone.block"],
      aggregation: { type: "distinct", field: "userId" },
      window: "2m",
      lateness: "30s",
    },
    {
      id: "prefix_count_1m",
      entity: ["ip.prefix"],
      aggregation: { type: "count" },
      window: "1m",
      bucket: "10s",
      lateness: "20s",
    },
    {
      id: "asn_accounts_2m",
      entity: ["ip.asn"],
      aggregation: { type: "distinct", field: "userId", maxDistinct: 3 },
      window: "2m",
    },
    {
      id: "user_hosting_logins_2m",
      entity: ["userId"],
      aggregation: { type: "count" },
      window: "2m",
      filter: { eventTypes: ["login"], match: { "ip.type": ["hosting", "vpn"] } },
    },
    {
      id: "user_ip_types_5m",
      entity: ["userId"],
      aggregation: { type: "distinct", field: "ip.type" },
      window: "5m",
    },
    {
      id: "bin_spend_eur_5m",
      entity: ["cardBin"],
      aggregation: { type: "sum", field: "amount", currency: "EUR" },
      window: "5m",
      filter: { eventTypes: ["payment"] },
    },
    {
      id: "user_spend_eur_2m",
      entity: ["userId"],
      aggregation: { type: "sum", field: "amount", currency: "EUR" },
      window: "2m",
    },
    {
      id: "user_since_otp_5m",
      entity: ["userId"],
      aggregation: { type: "timeSince" },
      window: "5m",
      filter: { eventTypes: ["login"], match: { "attributes.method": ["otp"] } },
    },
    {
      id: "user_since_any_2m",
      entity: ["userId"],
      aggregation: { type: "timeSince" },
      window: "2m",
      lateness: "1m",
    },
    {
      id: "user_amount_vs_mean_5m",
      entity: ["userId"],
      aggregation: { type: "valueRatio", field: "amount", baseline: "mean", currency: "EUR" },
      window: "5m",
    },
    {
      id: "card_amount_vs_max_2m",
      entity: ["cardFingerprint"],
      aggregation: { type: "valueRatio", field: "amount", baseline: "max", currency: "EUR" },
      window: "5m",
      filter: { eventTypes: ["payment"] },
    },
    {
      id: "device_rate_1m_vs_5m",
      entity: ["deviceId"],
      aggregation: { type: "rateRatio", baseline: "5m" },
      window: "1m",
    },
    {
      id: "prefix_rate_1m_vs_3m",
      entity: ["ip.prefix"],
      aggregation: { type: "rateRatio", baseline: "3m", minBaseline: 2 },
      window: "1m",
      bucket: "20s",
      lateness: "30s",
    },
    {
      id: "referees_2m",
      entity: ["attributes.referrerId"],
      aggregation: { type: "distinct", field: "userId", maxDistinct: 4 },
      window: "2m",
      filter: { eventTypes: ["register"] },
    },
    {
      id: "user_devices_2m",
      entity: ["userId"],
      aggregation: { type: "distinct", field: "deviceId", maxDistinct: 3 },
      window: "2m",
    },
    {
      id: "device_accounts_2m",
      entity: ["deviceId"],
      aggregation: { type: "distinct", field: "userId", maxDistinct: 2 },
      window: "2m",
      lateness: "1m",
    },
    {
      id: "device_cards_5m",
      entity: ["deviceId"],
      aggregation: { type: "distinct", field: "cardFingerprint", maxDistinct: 3 },
      window: "5m",
      filter: { eventTypes: ["payment"] },
    },
    {
      id: "card_accounts_5m",
      entity: ["cardFingerprint"],
      aggregation: { type: "distinct", field: "userId", maxDistinct: 3 },
      window: "5m",
    },
    {
      id: "accounts_via_devices",
      entity: ["userId"],
      aggregation: { type: "linked", path: ["user_devices_2m", "device_accounts_2m"] },
    },
    {
      id: "accounts_via_device_cards",
      entity: ["userId"],
      aggregation: { type: "linked", path: ["user_devices_2m", "device_cards_5m", "card_accounts_5m"] },
    },
    {
      id: "referral_grandchildren",
      entity: ["attributes.referrerId"],
      aggregation: { type: "linked", path: ["referees_2m", "referees_2m"] },
    },
    {
      id: "device_prefix_first_5m",
      entity: ["deviceId", "ip.prefix"],
      aggregation: { type: "firstSeen" },
      window: "5m",
    },
  ],
};

/** The extended set compiled with CEL, the test IP enrichment and the test rates. */
export const EXTENDED_TEST_SET: CompiledFeatureSet = withCurrencyConverter(
  compileFeatureSet(EXTENDED_TEST_FEATURE_SET, {
    conditions: featureConditions,
    ipEnrichment: () => TEST_IP_ENRICHMENT,
  }),
  TEST_RATES.converter,
);

const CURRENCIES = ["USD", "JPY", "EUR", "GBP"] as const;
const MAIL_DOMAINS = ["gmail.com", "googlemail.com", "example.org"] as const;

/**
 * The scenario's records (the original harness's ids, times, shards and sequence numbers) with
 * the extra fields of the extended kinds.
 */
export function buildExtendedRecords(s: Scenario, runId: string): FeatureRecord[][] {
  const h = hash(runId);
  // 14 bits of the run's hash in the /24, so that runs sharing a table rarely share a network.
  const second = (h >>> 8) & 255;
  const third = ((h >>> 16) & 63) * 4;
  return buildRecords(s, runId).map((records) =>
    records.map((record) => {
      const e = record.event;
      const i = Number(e.eventId.slice(e.eventId.lastIndexOf("e") + 1));
      const spec = s.events[i % s.events.length];
      if (!spec) return record;
      const user = Number(e.userId.slice(e.userId.lastIndexOf("u") + 1));
      const device = Number(e.deviceId.slice(e.deviceId.lastIndexOf("d") + 1));
      const domain = MAIL_DOMAINS[(device + i) % 3] as string;
      // Aliases: dots and +tags that the canonical form folds (only the dots of Gmail); two
      // accounts share each person's address.
      const local = `r${h.toString(36)}.u${user % 2}${device % 2 === 0 ? `+t${device}` : ""}`;
      const currency = CURRENCIES[(spec.minor + i) % 4] as string;
      const extra: Record<string, unknown> = {
        email: `${local}@${domain}`,
        ip: `10.${second}.${third + spec.ip}.${user + 1}`,
        ...(spec.phone > 0
          ? { phone: `+1${String(h % 1_000_000_000).padStart(9, "0")}${spec.phone}${device}` }
          : {}),
      };
      const attributes: Record<string, string | number | boolean> = { ...(e.attributes ?? {}) };
      if (e.type === "login") attributes.method = device % 2 === 0 ? "otp" : "password";
      if (e.type === "register") attributes.referrerId = `${runId}-u${(user + (i % 3) + 1) % 5}`;
      if (Object.keys(attributes).length > 0) extra.attributes = attributes;
      if (e.type === "order" || e.type === "payment") {
        extra.currency = currency;
        extra.amount = amountIn(currency, spec.minor);
      }
      if (e.type === "payment") {
        const card = Number(e.cardFingerprint?.slice(e.cardFingerprint.lastIndexOf("c") + 1) ?? 0);
        extra.cardBin = `${100_000 + (h % 800_000)}${card % 2}${card % 2}`;
      }
      return { ...record, event: { ...e, ...extra } as CleanEvent };
    }),
  );
}

function amountIn(currency: string, minor: number): string {
  if (currency === "JPY") return String(minor);
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, "0")}`;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}
