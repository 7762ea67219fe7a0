import type { FeatureDefinition } from "#shared/domain/features/definition";

/**
 * Example definitions of the feature kinds added for issue 16, one or two per kind, each for the
 * attack it catches (docs/features.md, "Examples"). Not in force: the default set is
 * DEFAULT_FEATURE_SET; a pack that wants them adds them (and applies a `rates` table for the
 * converted ones). Examples the default set took over (account_age_30d, referees_7d) are defined
 * there only; referral_tree_7d walks the default set's referees_7d. `npm run bench:features -- --examples` measures their cost on top of the
 * default set.
 */
export const EXAMPLE_FEATURES: readonly FeatureDefinition[] = [
  {
    id: "accounts_per_email_24h",
    description: "Accounts behind one mailbox however its dots and +tags are written (multi-accounting).",
    entity: ["email.canonical"],
    aggregation: { type: "distinct", field: "userId", maxDistinct: 20 },
    window: "24h",
  },
  {
    id: "accounts_per_phone_block_24h",
    description: "Accounts registered with numbers of one 10,000-number block (SMS-activation farms).",
    entity: ["phone.block"],
    aggregation: { type: "distinct", field: "userId", maxDistinct: 50 },
    window: "24h",
    filter: { eventTypes: ["register"] },
  },
  {
    id: "registrations_per_prefix_1h",
    description: "Registrations from one /24 (IPv6: /48) network in the last hour (distributed bursts).",
    entity: ["ip.prefix"],
    aggregation: { type: "count" },
    window: "1h",
    filter: { eventTypes: ["register"] },
  },
  {
    id: "hosting_logins_per_user_24h",
    description:
      "Sign-ins of the account from hosting, VPN, proxy or Tor networks (credential stuffing, takeover).",
    entity: ["userId"],
    aggregation: { type: "count" },
    window: "24h",
    filter: { eventTypes: ["login"], match: { "ip.type": ["hosting", "vpn", "proxy", "tor"] } },
  },
  {
    id: "accounts_per_asn_1h",
    description: "Accounts signing in from one autonomous system in the last hour.",
    entity: ["ip.asn"],
    aggregation: { type: "distinct", field: "userId", maxDistinct: 200 },
    window: "1h",
    filter: { eventTypes: ["login"] },
  },
  {
    id: "bin_payments_10m",
    description: "Payment attempts with cards of one BIN in the last 10 minutes (BIN attacks, card testing).",
    entity: ["cardBin"],
    aggregation: { type: "count" },
    window: "10m",
    filter: { eventTypes: ["payment"] },
  },
  {
    id: "card_spend_eur_24h",
    description: "Amount paid with the card in the last 24 hours in EUR, whatever currencies it was paid in.",
    entity: ["cardFingerprint"],
    aggregation: { type: "sum", field: "amount", currency: "EUR" },
    window: "24h",
    filter: { eventTypes: ["payment"] },
  },
  {
    id: "order_vs_mean_7d",
    description: "This order's amount against the mean of the account's other orders of the last 7 days.",
    entity: ["userId"],
    aggregation: { type: "valueRatio", field: "amount", baseline: "mean", currency: "EUR", minEvents: 3 },
    window: "7d",
    filter: { eventTypes: ["order"] },
  },
  {
    id: "claims_rate_1h_vs_7d",
    description: "The campaign's claims this hour against its hourly rate over the week before (surges).",
    entity: ["campaignId"],
    aggregation: { type: "rateRatio", baseline: "7d", minBaseline: 24 },
    window: "1h",
    filter: { eventTypes: ["coupon_claim"] },
  },
  {
    id: "since_otp_login_30d",
    description: "Milliseconds since the account's last one-time-code sign-in (SIM swap, then spend).",
    entity: ["userId"],
    aggregation: { type: "timeSince" },
    window: "30d",
    filter: { eventTypes: ["login"], match: { "attributes.method": ["otp"] } },
  },
  {
    id: "devices_of_user_24h",
    description: "Link step: the account's devices (at most 10).",
    entity: ["userId"],
    aggregation: { type: "distinct", field: "deviceId", maxDistinct: 10 },
    window: "24h",
  },
  {
    id: "accounts_of_device_24h",
    description: "Link step: the device's accounts (at most 10).",
    entity: ["deviceId"],
    aggregation: { type: "distinct", field: "userId", maxDistinct: 10 },
    window: "24h",
  },
  {
    id: "cards_of_device_24h",
    description: "Link step: the cards paid with on the device (at most 5).",
    entity: ["deviceId"],
    aggregation: { type: "distinct", field: "cardFingerprint", maxDistinct: 5 },
    window: "24h",
    filter: { eventTypes: ["payment"] },
  },
  {
    id: "accounts_of_card_24h",
    description: "Link step: the accounts that paid with the card (at most 10).",
    entity: ["cardFingerprint"],
    aggregation: { type: "distinct", field: "userId", maxDistinct: 10 },
    window: "24h",
    filter: { eventTypes: ["payment"] },
  },
  {
    id: "accounts_via_devices_24h",
    description: "Other accounts on the account's devices (one hop through a device; reads ≤ 10 items).",
    entity: ["userId"],
    aggregation: { type: "linked", path: ["devices_of_user_24h", "accounts_of_device_24h"] },
  },
  {
    id: "accounts_via_device_cards_24h",
    description:
      "Accounts that paid with a card used on one of the account's devices (two hops; reads ≤ 10 + 50 items).",
    entity: ["userId"],
    aggregation: {
      type: "linked",
      path: ["devices_of_user_24h", "cards_of_device_24h", "accounts_of_card_24h"],
    },
  },
  {
    id: "referral_tree_7d",
    description: "The referrer's referees' referees (referral chains; reads ≤ 10 items).",
    entity: ["attributes.referrerId"],
    aggregation: { type: "linked", path: ["referees_7d", "referees_7d"] },
  },
];
