import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG_DIR, readConfigFile } from "#shared/adapters/config-files";
import {
  compileModelDocument,
  compileRuleset,
  DecisionEngine,
  ListIndex,
  MODEL_FORMAT,
  validateListsDocument,
} from "#shared/domain/decision/index";
import type { EventType } from "#shared/domain/event/index";
import { DEFAULT_FEATURE_SET } from "#shared/domain/features/index";
import { cleanEvent, input, T0 } from "./helpers.ts";

/**
 * Every default rule, table-driven: for each, events that must hit it and near misses that must
 * not (one step below a threshold, the guard's other side). Thresholds live in
 * config/defaults/rules.yaml; a changed threshold fails here until the table says so too.
 */

/** Features the default rules read that the default feature set does not have yet (issue 4). */
const REQUESTED_FEATURES = ["countries_per_user_1h"];

const document = readConfigFile(`${DEFAULT_CONFIG_DIR}rules.yaml`).document;
const known = new Set([...DEFAULT_FEATURE_SET.features.map((f) => f.id), ...REQUESTED_FEATURES]);
const ruleset = compileRuleset(document, { knownFeatures: known });

const stamp = { addedBy: "test", addedAt: "2026-05-01T00:00:00.000Z" };
const lists = new ListIndex(
  validateListsDocument({
    lists: {
      block: [
        { kind: "user", value: "bad-user", ...stamp },
        { kind: "device", value: "bad-device", ...stamp },
        { kind: "ip", value: "192.0.2.0/24", ...stamp },
        { kind: "card", value: "bad-card", ...stamp },
        { kind: "phone", value: "+12015550199", ...stamp },
        { kind: "emailDomain", value: "mailinator.com", ...stamp },
      ],
      allow: [{ kind: "ip", value: "203.0.113.0/24", ...stamp }],
      mail_providers: [{ kind: "emailDomain", value: "gmail.com", ...stamp }],
    },
  }),
);

/** An engine whose model gives the same score to every event. */
function engineWithScore(score: number): DecisionEngine {
  const model = compileModelDocument({
    active: {
      format: MODEL_FORMAT,
      id: "constant",
      version: String(score),
      createdAt: "2026-05-01T00:00:00.000Z",
      provenance: { method: "constant for tests", data: "none" },
      intercept: Math.log(score / (1 - score)),
      terms: [],
    },
  });
  return new DecisionEngine({
    rules: { version: 1, ruleset },
    lists: { version: 1, index: lists },
    model: { active: model.active },
  });
}

const engine = engineWithScore(0.01);
const DAY = 86_400_000;

/** An established, quiet account on its usual device: no default rule fires on it. */
const BENIGN: Record<string, number | null> = {
  devices_per_user_1h: 1,
  devices_per_user_24h: 1,
  ips_per_user_1h: 1,
  ips_per_user_24h: 2,
  logins_per_user_10m: 1,
  order_amount_per_user_24h: 2500,
  user_last_seen_30d: T0 - 3 * DAY,
  accounts_per_device_1h: 1,
  accounts_per_device_24h: 1,
  registrations_per_device_24h: 1,
  cards_per_device_24h: 1,
  device_first_seen_30d: T0 - 20 * DAY,
  accounts_per_ip_1h: 1,
  accounts_per_ip_24h: 2,
  registrations_per_ip_1h: 1,
  card_spend_24h: 2500,
  payments_per_card_10m: 1,
  accounts_per_card_24h: 1,
  accounts_per_phone_24h: 1,
  user_device_first_seen_30d: T0 - 20 * DAY,
  coupon_claims_per_device_campaign_24h: 1,
  coupon_claims_per_ip_campaign_24h: 1,
  countries_per_user_1h: 1,
  // The issue-16 pack: an account older than 30 days on a known network, one card, no referrer.
  account_age_30d: null,
  since_otp_login_24h: null,
  gift_card_orders_per_user_24h: 0,
  cards_per_user_24h: 1,
  hosting_accounts_per_ip_1h: 0,
  user_prefix_first_seen_30d: T0 - 20 * DAY,
  accounts_per_phone_block_7d: 1,
  phone_blocks_of_user_7d: 1,
  accounts_via_phone_block_7d: 0,
  registrations_per_email_domain_7d: 1,
  merchant_first_seen_30d: T0 - 20 * DAY,
  accounts_per_merchant_24h: 30,
  bin_first_seen_30d: T0 - 20 * DAY,
  cards_per_bin_24h: 10,
  referees_7d: null,
  referrers_of_user_7d: 0,
  referral_siblings_of_referrer_7d: 0,
};

const HOUR = 3_600_000;
const MINUTE = 60_000;

interface Case {
  readonly rule: string;
  readonly name: string;
  readonly type: EventType;
  readonly features?: Record<string, number | null>;
  readonly event?: Record<string, unknown>;
  readonly hit: boolean;
  readonly score?: number;
}

const cases: Case[] = [
  // Block-listed entities.
  {
    rule: "block_listed_entity",
    name: "blocked user",
    type: "login",
    event: { userId: "bad-user" },
    hit: true,
  },
  {
    rule: "block_listed_entity",
    name: "blocked device",
    type: "order",
    event: { deviceId: "bad-device" },
    hit: true,
  },
  {
    rule: "block_listed_entity",
    name: "IP in a blocked range",
    type: "register",
    event: { ip: "192.0.2.200" },
    hit: true,
  },
  {
    rule: "block_listed_entity",
    name: "blocked card",
    type: "payment",
    event: { cardFingerprint: "bad-card" },
    hit: true,
  },
  {
    rule: "block_listed_entity",
    name: "blocked phone",
    type: "register",
    event: { phone: "+12015550199" },
    hit: true,
  },
  {
    rule: "block_listed_entity",
    name: "blocked email domain",
    type: "register",
    event: { email: "x@mailinator.com" },
    hit: true,
  },
  {
    rule: "block_listed_entity",
    name: "IP next to the range",
    type: "register",
    event: { ip: "192.0.3.1" },
    hit: false,
  },
  {
    rule: "block_listed_entity",
    name: "look-alike domain",
    type: "register",
    event: { email: "x@mailinator.co" },
    hit: false,
  },
  // Many accounts on one device or IP at registration.
  {
    rule: "register_device_farm",
    name: "5 registrations on the device",
    type: "register",
    features: { registrations_per_device_24h: 5 },
    hit: true,
  },
  {
    rule: "register_device_farm",
    name: "4 registrations",
    type: "register",
    features: { registrations_per_device_24h: 4 },
    hit: false,
  },
  {
    rule: "register_shared_device",
    name: "2nd account in an hour",
    type: "register",
    features: { accounts_per_device_1h: 2 },
    hit: true,
  },
  {
    rule: "register_shared_device",
    name: "1st account",
    type: "register",
    features: { accounts_per_device_1h: 1 },
    hit: false,
  },
  {
    rule: "register_ip_burst",
    name: "10 registrations from the IP",
    type: "register",
    features: { registrations_per_ip_1h: 10 },
    hit: true,
  },
  {
    rule: "register_ip_burst",
    name: "9 registrations",
    type: "register",
    features: { registrations_per_ip_1h: 9 },
    hit: false,
  },
  {
    rule: "register_ip_burst",
    name: "allow-listed office IP",
    type: "register",
    event: { ip: "203.0.113.9" },
    features: { registrations_per_ip_1h: 40 },
    hit: false,
  },
  {
    rule: "register_shared_phone",
    name: "phone on 3 accounts",
    type: "register",
    features: { accounts_per_phone_24h: 3 },
    hit: true,
  },
  {
    rule: "register_shared_phone",
    name: "phone on 2 accounts",
    type: "register",
    features: { accounts_per_phone_24h: 2 },
    hit: false,
  },
  {
    rule: "register_shared_phone",
    name: "no phone given",
    type: "register",
    event: { phone: undefined },
    features: { accounts_per_phone_24h: null },
    hit: false,
  },
  // Coupon farming by linked accounts.
  {
    rule: "coupon_farming_device",
    name: "2nd claim from a shared device",
    type: "coupon_claim",
    features: { coupon_claims_per_device_campaign_24h: 2, accounts_per_device_24h: 2 },
    hit: true,
  },
  {
    rule: "coupon_farming_device",
    name: "2nd claim, one account",
    type: "coupon_claim",
    features: { coupon_claims_per_device_campaign_24h: 2, accounts_per_device_24h: 1 },
    hit: false,
  },
  {
    rule: "coupon_farming_device",
    name: "first claim, shared device",
    type: "coupon_claim",
    features: { coupon_claims_per_device_campaign_24h: 1, accounts_per_device_24h: 4 },
    hit: false,
  },
  {
    rule: "coupon_farming_ip",
    name: "10 claims from an IP of 5 accounts",
    type: "coupon_claim",
    features: { coupon_claims_per_ip_campaign_24h: 10, accounts_per_ip_24h: 5 },
    hit: true,
  },
  {
    rule: "coupon_farming_ip",
    name: "9 claims",
    type: "coupon_claim",
    features: { coupon_claims_per_ip_campaign_24h: 9, accounts_per_ip_24h: 5 },
    hit: false,
  },
  {
    rule: "coupon_farming_ip",
    name: "allow-listed IP",
    type: "coupon_claim",
    event: { ip: "203.0.113.77" },
    features: { coupon_claims_per_ip_campaign_24h: 50, accounts_per_ip_24h: 50 },
    hit: false,
  },
  // Order brushing.
  {
    rule: "order_brushing",
    name: "10.00 from a device of 4 accounts",
    type: "order",
    event: { amount: "10.00" },
    features: { accounts_per_device_24h: 4 },
    hit: true,
  },
  {
    rule: "order_brushing",
    name: "10.00 from an IP of 8 accounts",
    type: "order",
    event: { amount: "10.00" },
    features: { accounts_per_ip_1h: 8 },
    hit: true,
  },
  {
    rule: "order_brushing",
    name: "10.01",
    type: "order",
    event: { amount: "10.01" },
    features: { accounts_per_device_24h: 4 },
    hit: false,
  },
  {
    rule: "order_brushing",
    name: "3 accounts, 7 on the IP",
    type: "order",
    event: { amount: "1.00" },
    features: { accounts_per_device_24h: 3, accounts_per_ip_1h: 7 },
    hit: false,
  },
  // Card testing.
  {
    rule: "card_testing_small_payments",
    name: "5th payment in 10 min, 2.00",
    type: "payment",
    event: { amount: "2.00" },
    features: { payments_per_card_10m: 5 },
    hit: true,
  },
  {
    rule: "card_testing_small_payments",
    name: "5th payment, 2.01",
    type: "payment",
    event: { amount: "2.01" },
    features: { payments_per_card_10m: 5 },
    hit: false,
  },
  {
    rule: "card_testing_small_payments",
    name: "4th payment",
    type: "payment",
    event: { amount: "0.50" },
    features: { payments_per_card_10m: 4 },
    hit: false,
  },
  {
    rule: "card_testing_small_payments",
    name: "no card",
    type: "payment",
    event: { amount: "0.50", cardFingerprint: undefined },
    features: { payments_per_card_10m: null, accounts_per_card_24h: null, card_spend_24h: null },
    hit: false,
  },
  {
    rule: "many_cards",
    name: "4 cards on the device",
    type: "payment",
    features: { cards_per_device_24h: 4 },
    hit: true,
  },
  {
    rule: "many_cards",
    name: "4 cards on the account",
    type: "payment",
    features: { cards_per_user_24h: 4 },
    hit: true,
  },
  {
    rule: "many_cards",
    name: "2 cards on an account 23 h old",
    type: "payment",
    features: { cards_per_user_24h: 2, account_age_30d: 23 * HOUR },
    hit: true,
  },
  {
    rule: "many_cards",
    name: "3 cards (a household's shared card), 3 on the device",
    type: "payment",
    features: { cards_per_user_24h: 3, cards_per_device_24h: 3 },
    hit: false,
  },
  {
    rule: "many_cards",
    name: "2 cards on an account 25 h old",
    type: "payment",
    features: { cards_per_user_24h: 2, account_age_30d: 25 * HOUR },
    hit: false,
  },
  {
    rule: "card_shared_by_accounts",
    name: "card of 4 accounts",
    type: "payment",
    features: { accounts_per_card_24h: 4 },
    hit: true,
  },
  {
    rule: "card_shared_by_accounts",
    name: "card of 3 accounts",
    type: "payment",
    features: { accounts_per_card_24h: 3 },
    hit: false,
  },
  {
    rule: "card_shared_by_young_accounts",
    name: "card of 2 accounts, this one 6 days old",
    type: "payment",
    features: { accounts_per_card_24h: 2, account_age_30d: 6 * DAY },
    hit: true,
  },
  {
    rule: "card_shared_by_young_accounts",
    name: "card of 2 accounts, this one older than 30 days",
    type: "payment",
    features: { accounts_per_card_24h: 2 },
    hit: false,
  },
  {
    rule: "card_shared_by_young_accounts",
    name: "card of 1 account, 1 day old",
    type: "payment",
    features: { accounts_per_card_24h: 1, account_age_30d: DAY },
    hit: false,
  },
  {
    rule: "unfamiliar_bin_many_cards",
    name: "3rd card of a BIN first seen 23 h ago",
    type: "payment",
    features: { bin_first_seen_30d: T0 - 23 * HOUR, cards_per_bin_24h: 3 },
    hit: true,
  },
  {
    rule: "unfamiliar_bin_many_cards",
    name: "2nd card of a new BIN",
    type: "payment",
    features: { bin_first_seen_30d: T0, cards_per_bin_24h: 2 },
    hit: false,
  },
  {
    rule: "unfamiliar_bin_many_cards",
    name: "30 cards of a BIN first seen 25 h ago",
    type: "payment",
    features: { bin_first_seen_30d: T0 - 25 * HOUR, cards_per_bin_24h: 30 },
    hit: false,
  },
  {
    rule: "young_account_cash_out",
    name: "gift-card order of a 6-day-old account",
    type: "order",
    event: { attributes: { category: "gift_card" } },
    features: { account_age_30d: 6 * DAY },
    hit: true,
  },
  {
    rule: "young_account_cash_out",
    name: "payment after a gift-card order, 1 h old account",
    type: "payment",
    features: { account_age_30d: HOUR, gift_card_orders_per_user_24h: 1 },
    hit: true,
  },
  {
    rule: "young_account_cash_out",
    name: "200.00 USD by a 2-day-old account",
    type: "order",
    event: { amount: "200.00" },
    features: { account_age_30d: 2 * DAY },
    hit: true,
  },
  {
    rule: "young_account_cash_out",
    name: "199.99 USD by a 2-day-old account",
    type: "order",
    event: { amount: "199.99" },
    features: { account_age_30d: 2 * DAY },
    hit: false,
  },
  {
    rule: "young_account_cash_out",
    name: "gift card, account 8 days old",
    type: "order",
    event: { attributes: { category: "gift_card" } },
    features: { account_age_30d: 8 * DAY },
    hit: false,
  },
  // Registration, links, networks, shops.
  {
    rule: "register_from_hosting",
    name: "2nd account from a hosting address",
    type: "register",
    features: { hosting_accounts_per_ip_1h: 2 },
    hit: true,
  },
  {
    rule: "register_from_hosting",
    name: "1st account from a hosting address",
    type: "register",
    features: { hosting_accounts_per_ip_1h: 1 },
    hit: false,
  },
  {
    rule: "unknown_domain_burst",
    name: "3rd registration at an unlisted domain",
    type: "register",
    features: { registrations_per_email_domain_7d: 3 },
    hit: true,
  },
  {
    rule: "unknown_domain_burst",
    name: "2nd registration at an unlisted domain",
    type: "register",
    features: { registrations_per_email_domain_7d: 2 },
    hit: false,
  },
  {
    rule: "unknown_domain_burst",
    name: "500th registration at a listed mail provider",
    type: "register",
    event: { email: "ann@gmail.com" },
    features: { registrations_per_email_domain_7d: 500 },
    hit: false,
  },
  {
    rule: "phone_block_farm",
    name: "2 other accounts on the number block",
    type: "coupon_claim",
    features: { accounts_via_phone_block_7d: 2 },
    hit: true,
  },
  {
    rule: "phone_block_farm",
    name: "1 other account",
    type: "register",
    features: { accounts_via_phone_block_7d: 1 },
    hit: false,
  },
  {
    rule: "phone_block_pair",
    name: "1 other account on the number block",
    type: "login",
    features: { accounts_via_phone_block_7d: 1 },
    hit: true,
  },
  {
    rule: "phone_block_pair",
    name: "none",
    type: "login",
    features: { accounts_via_phone_block_7d: 0 },
    hit: false,
  },
  {
    rule: "referral_fan_out",
    name: "3rd referee of a referrer",
    type: "register",
    event: { attributes: { referrerId: "user-9" } },
    features: { referees_7d: 3 },
    hit: true,
  },
  {
    rule: "referral_fan_out",
    name: "the referrer's referrer has 3 referees",
    type: "coupon_claim",
    features: { referral_siblings_of_referrer_7d: 3 },
    hit: true,
  },
  {
    rule: "referral_fan_out",
    name: "2nd referee, 2 siblings of the referrer",
    type: "register",
    event: { attributes: { referrerId: "user-9" } },
    features: { referees_7d: 2, referral_siblings_of_referrer_7d: 2 },
    hit: false,
  },
  {
    rule: "hosting_ip_many_accounts",
    name: "3 accounts on a hosting address, account 6 days old",
    type: "order",
    features: { hosting_accounts_per_ip_1h: 3, account_age_30d: 6 * DAY },
    hit: true,
  },
  {
    rule: "hosting_ip_many_accounts",
    name: "3 accounts, device new to the account 59 min ago",
    type: "login",
    features: { hosting_accounts_per_ip_1h: 3, user_device_first_seen_30d: T0 - 59 * MINUTE },
    hit: true,
  },
  {
    rule: "hosting_ip_many_accounts",
    name: "3 accounts on a VPN exit, an established customer on a known device",
    type: "login",
    features: { hosting_accounts_per_ip_1h: 3 },
    hit: false,
  },
  {
    rule: "hosting_ip_many_accounts",
    name: "2 accounts, account 1 h old",
    type: "register",
    features: { hosting_accounts_per_ip_1h: 2, account_age_30d: HOUR },
    hit: false,
  },
  {
    rule: "new_merchant_surge",
    name: "3rd buyer of a merchant first seen 47 h ago",
    type: "order",
    features: { merchant_first_seen_30d: T0 - 47 * HOUR, accounts_per_merchant_24h: 3 },
    hit: true,
  },
  {
    rule: "new_merchant_surge",
    name: "2nd buyer of a new merchant",
    type: "payment",
    features: { merchant_first_seen_30d: T0, accounts_per_merchant_24h: 2 },
    hit: false,
  },
  {
    rule: "new_merchant_surge",
    name: "100 buyers of a merchant first seen 49 h ago (a flash sale)",
    type: "order",
    features: { merchant_first_seen_30d: T0 - 49 * HOUR, accounts_per_merchant_24h: 100 },
    hit: false,
  },
  // Sign-in and takeover.
  {
    rule: "impossible_travel",
    name: "2 countries in an hour on a device new within 24 h",
    type: "login",
    features: { countries_per_user_1h: 2, user_device_first_seen_30d: T0 - 23 * HOUR },
    hit: true,
  },
  {
    rule: "impossible_travel",
    name: "2 countries on a device of 20 days (a VPN at home)",
    type: "login",
    features: { countries_per_user_1h: 2 },
    hit: false,
  },
  {
    rule: "impossible_travel",
    name: "1 country, new device",
    type: "login",
    features: { countries_per_user_1h: 1, user_device_first_seen_30d: T0 },
    hit: false,
  },
  {
    rule: "impossible_travel",
    name: "feature not computed",
    type: "login",
    features: { countries_per_user_1h: null, user_device_first_seen_30d: T0 },
    hit: false,
  },
  {
    rule: "new_device_from_hosting",
    name: "established account, device new 59 min ago, hosting address",
    type: "login",
    features: { user_device_first_seen_30d: T0 - 59 * MINUTE, hosting_accounts_per_ip_1h: 1 },
    hit: true,
  },
  {
    rule: "new_device_from_hosting",
    name: "new device at home",
    type: "login",
    features: { user_device_first_seen_30d: T0, hosting_accounts_per_ip_1h: 0 },
    hit: false,
  },
  {
    rule: "new_device_from_hosting",
    name: "known device on a VPN",
    type: "login",
    features: { hosting_accounts_per_ip_1h: 1 },
    hit: false,
  },
  {
    rule: "otp_login_new_device",
    name: "one-time code on a device first seen now",
    type: "login",
    event: { attributes: { method: "otp", success: true } },
    features: { user_device_first_seen_30d: T0 },
    hit: true,
  },
  {
    rule: "otp_login_new_device",
    name: "password on a new device",
    type: "login",
    event: { attributes: { method: "password", success: true } },
    features: { user_device_first_seen_30d: T0 },
    hit: false,
  },
  {
    rule: "otp_login_new_device",
    name: "one-time code, account 2 days old",
    type: "login",
    event: { attributes: { method: "otp", success: true } },
    features: { user_device_first_seen_30d: T0, account_age_30d: 2 * DAY },
    hit: false,
  },
  {
    rule: "stuffing_device",
    name: "device new to the account, 3 accounts on it",
    type: "login",
    features: { user_device_first_seen_30d: T0 - 9 * MINUTE, accounts_per_device_24h: 3 },
    hit: true,
  },
  {
    rule: "stuffing_device",
    name: "family tablet: 4 accounts, device known to the account",
    type: "login",
    features: { user_device_first_seen_30d: T0 - 2 * DAY, accounts_per_device_24h: 4 },
    hit: false,
  },
  {
    rule: "stuffing_device",
    name: "new device, 2 accounts",
    type: "login",
    features: { user_device_first_seen_30d: T0, accounts_per_device_24h: 2 },
    hit: false,
  },
  {
    rule: "failed_login_new_device",
    name: "failed password on a device new 9 min ago",
    type: "login",
    event: { attributes: { method: "password", success: false } },
    features: { user_device_first_seen_30d: T0 - 9 * MINUTE },
    hit: true,
  },
  {
    rule: "failed_login_new_device",
    name: "failed password on a known device",
    type: "login",
    event: { attributes: { method: "password", success: false } },
    hit: false,
  },
  {
    rule: "failed_login_new_device",
    name: "successful sign-in on a new device",
    type: "login",
    event: { attributes: { method: "password", success: true } },
    features: { user_device_first_seen_30d: T0 },
    hit: false,
  },
  {
    rule: "unfamiliar_device_and_network",
    name: "established account, device and /24 first seen 2 h ago, IP of no other customer",
    type: "order",
    features: {
      user_device_first_seen_30d: T0 - 2 * HOUR,
      user_prefix_first_seen_30d: T0 - 2 * HOUR,
      accounts_per_ip_24h: 1,
    },
    hit: true,
  },
  {
    rule: "unfamiliar_device_and_network",
    name: "new phone on a carrier address other customers use",
    type: "login",
    features: { user_device_first_seen_30d: T0, user_prefix_first_seen_30d: T0, accounts_per_ip_24h: 2 },
    hit: false,
  },
  {
    rule: "unfamiliar_device_and_network",
    name: "new phone at home (known network)",
    type: "login",
    features: { user_device_first_seen_30d: T0, accounts_per_ip_24h: 1 },
    hit: false,
  },
  {
    rule: "unfamiliar_device_and_network",
    name: "device and network first seen 4 h ago",
    type: "payment",
    features: {
      user_device_first_seen_30d: T0 - 4 * HOUR,
      user_prefix_first_seen_30d: T0 - 4 * HOUR,
      accounts_per_ip_24h: 1,
    },
    hit: false,
  },
  {
    rule: "young_account_new_network",
    name: "account 3 days old on a network first seen now, IP of no other customer",
    type: "login",
    features: { account_age_30d: 3 * DAY, user_prefix_first_seen_30d: T0, accounts_per_ip_24h: 1 },
    hit: true,
  },
  {
    rule: "young_account_new_network",
    name: "account 23 h old",
    type: "login",
    features: { account_age_30d: 23 * HOUR, user_prefix_first_seen_30d: T0, accounts_per_ip_24h: 1 },
    hit: false,
  },
  {
    rule: "young_account_new_network",
    name: "account 3 days old on its own network",
    type: "order",
    features: { account_age_30d: 3 * DAY, accounts_per_ip_24h: 1 },
    hit: false,
  },
  {
    rule: "new_device_gift_cards",
    name: "gift-card order on a device first seen 5 h ago by an established account",
    type: "order",
    event: { attributes: { category: "gift_card" } },
    features: { user_device_first_seen_30d: T0 - 5 * HOUR },
    hit: true,
  },
  {
    rule: "new_device_gift_cards",
    name: "payment after a gift-card order on a new device",
    type: "payment",
    features: { user_device_first_seen_30d: T0, gift_card_orders_per_user_24h: 1 },
    hit: true,
  },
  {
    rule: "new_device_gift_cards",
    name: "gift card on the usual device",
    type: "order",
    event: { attributes: { category: "gift_card" } },
    hit: false,
  },
  {
    rule: "new_device_gift_cards",
    name: "ordinary goods on a new device",
    type: "order",
    event: { attributes: { category: "goods" } },
    features: { user_device_first_seen_30d: T0 },
    hit: false,
  },
  {
    rule: "login_device_hopping",
    name: "3 devices in an hour",
    type: "login",
    features: { devices_per_user_1h: 3 },
    hit: true,
  },
  {
    rule: "login_device_hopping",
    name: "5 IPs in an hour",
    type: "login",
    features: { ips_per_user_1h: 5 },
    hit: true,
  },
  {
    rule: "login_device_hopping",
    name: "10 attempts in 10 min",
    type: "login",
    features: { logins_per_user_10m: 10 },
    hit: true,
  },
  {
    rule: "login_device_hopping",
    name: "2 devices, 4 IPs, 9 attempts",
    type: "login",
    features: { devices_per_user_1h: 2, ips_per_user_1h: 4, logins_per_user_10m: 9 },
    hit: false,
  },
  // Shadow candidate.
  {
    rule: "high_score_new_account",
    name: "score 0.6, no activity in 30 days",
    type: "payment",
    score: 0.6,
    features: { user_last_seen_30d: null },
    hit: true,
  },
  {
    rule: "high_score_new_account",
    name: "score 0.59",
    type: "payment",
    score: 0.59,
    features: { user_last_seen_30d: null },
    hit: false,
  },
  {
    rule: "high_score_new_account",
    name: "score 0.9, active account",
    type: "payment",
    score: 0.9,
    hit: false,
  },
];

describe("default rules", () => {
  it("compile against the default feature set (plus the features requested from issue 4)", () => {
    const referenced = new Set(ruleset.rules.flatMap((r) => r.analysis.features));
    const missing = [...referenced].filter((id) => !DEFAULT_FEATURE_SET.features.some((f) => f.id === id));
    expect(missing.every((id) => REQUESTED_FEATURES.includes(id))).toBe(true);
  });

  it("have a hit case and a near-miss case each", () => {
    const ids = ruleset.document.rules.map((r) => r.id).sort();
    expect([...new Set(cases.filter((c) => c.hit).map((c) => c.rule))].sort()).toEqual(ids);
    expect([...new Set(cases.filter((c) => !c.hit).map((c) => c.rule))].sort()).toEqual(ids);
  });

  it("leave a benign event of every type alone", () => {
    for (const type of ["register", "login", "order", "payment", "coupon_claim"] as const) {
      const d = engine.decide(input(cleanEvent(type), BENIGN), T0);
      expect({ type, hits: d.ruleHits, errors: d.ruleErrors }).toEqual({ type, hits: [], errors: [] });
    }
  });

  it("guard every feature they read: no value at all (late, absent key, empty window) fails no rule", () => {
    const unknown = Object.fromEntries([...known].map((id) => [id, null]));
    for (const type of ["register", "login", "order", "payment", "coupon_claim"] as const) {
      for (const values of [unknown, {}]) {
        const d = engine.decide(input(cleanEvent(type), values), T0);
        expect({ type, errors: d.ruleErrors }).toEqual({ type, errors: [] });
      }
    }
  });

  it.each(cases.map((c) => [`${c.rule}: ${c.hit ? "hits" : "misses"} ${c.name}`, c] as const))(
    "%s",
    (_, c) => {
      const event = cleanEvent(c.type, c.event);
      const d = (c.score === undefined ? engine : engineWithScore(c.score)).decide(
        input(event, { ...BENIGN, ...c.features }),
        T0,
      );
      expect(d.ruleErrors).toEqual([]);
      const hit = d.ruleHits.find((h) => h.id === c.rule);
      expect(hit !== undefined).toBe(c.hit);
      if (hit) {
        const rule = ruleset.document.rules.find((r) => r.id === c.rule);
        expect(hit.action).toBe(rule?.action);
        expect(hit.shadow).toBe(rule?.mode === "shadow");
      }
    },
  );

  it("block on a block-listed device through the policy even when the rule is disabled", () => {
    const disabled = compileRuleset({
      ...(document as object),
      rules: ruleset.document.rules.map((r) =>
        r.id === "block_listed_entity" ? { ...r, mode: "disabled" } : r,
      ),
    });
    const d = new DecisionEngine({
      rules: { version: 2, ruleset: disabled },
      lists: { version: 1, index: lists },
    }).decide(input(cleanEvent("order", { deviceId: "bad-device" }), BENIGN), T0);
    expect(d.ruleHits).toEqual([]);
    expect(d.action).toBe("block");
    expect(d.reasons).toEqual(["LIST_BLOCK_DEVICE"]);
  });
});
