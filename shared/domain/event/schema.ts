import * as z from "zod";

/**
 * The event contract: one JSON object per Kinesis record (partition key = userId).
 *
 * The zod schemas check structure: JSON types, required fields, lengths, identifier charsets,
 * and no unknown keys. Field semantics (timestamp, IP, email, phone, amount, currency, country)
 * are checked by the normalizers, which give each its own quarantine reason; their JSON Schema
 * hints (`format`, `pattern`, `minimum`) are attached as metadata so that the exported JSON
 * Schema tells producers the whole contract.
 *
 * Versioning: `schemaVersion` names the contract a producer wrote against. Within a version,
 * changes are only additive (a new optional field, a new event type), and consumers deploy
 * before producers send the addition, because unknown keys are refused. Removing, renaming,
 * retyping or tightening a field needs a new version; the decoder then accepts every version in
 * SUPPORTED_SCHEMA_VERSIONS and normalizes each to the current clean shape.
 */

/** The contract version this code writes and normalizes to. */
export const SCHEMA_VERSION = 1;

/** Versions `decodeRecord` accepts. */
export const SUPPORTED_SCHEMA_VERSIONS: readonly number[] = [SCHEMA_VERSION];

/**
 * The business scenarios Vigil scores. `challenge_outcome` is what became of an SMS or face
 * challenge a decision asked for: decided like any event, and turned into a label (docs/labels.md).
 */
export const EVENT_TYPES = [
  "register",
  "login",
  "order",
  "payment",
  "coupon_claim",
  "challenge_outcome",
] as const;

/** One of EVENT_TYPES. */
export type EventType = (typeof EVENT_TYPES)[number];

/** Structural bounds; they keep a maximal event far below the record size limit. */
export const FIELD_LIMITS = {
  identifierMaxLength: 128,
  occurredAtMaxLength: 40,
  ipMaxLength: 64,
  phoneMaxLength: 40,
  emailMaxLength: 320,
  amountMaxLength: 40,
  cityMaxLength: 100,
  attributesMaxKeys: 32,
  attributeKeyMaxLength: 64,
  attributeValueMaxLength: 256,
} as const;

/**
 * Identifiers (eventId, userId, deviceId, cardFingerprint, campaignId, couponId): printable
 * ASCII that is safe as a DynamoDB key, in a log line and in a shell, and that covers UUIDs,
 * ULIDs, hex and base64 hashes. Case-sensitive and never rewritten.
 */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9._:=+/-]+$/;

/** Keys of the `attributes` map: an ASCII letter, then letters, digits and underscores. */
export const ATTRIBUTE_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;

/** An identifier field; `id` names it in the JSON Schema's `$defs`. */
function identifier(id: string, description: string) {
  return z
    .string()
    .min(1)
    .max(FIELD_LIMITS.identifierMaxLength)
    .regex(IDENTIFIER_PATTERN)
    .meta({ id, description });
}

const common = {
  schemaVersion: z
    .literal(SCHEMA_VERSION)
    .meta({ id: "SchemaVersion", description: "Contract version the producer wrote against." }),
  eventId: identifier(
    "EventId",
    "Unique per event. A producer re-sending an event reuses its eventId; the pipeline decides it once.",
  ),
};

const actor = {
  occurredAt: z
    .string()
    .min(1)
    .max(FIELD_LIMITS.occurredAtMaxLength)
    .meta({
      id: "OccurredAt",
      format: "date-time",
      description:
        "When the event happened: ISO-8601 with a UTC offset (Z or ±hh:mm), up to 9 fraction digits. " +
        "Normalized to UTC with millisecond precision.",
    }),
  userId: identifier("UserId", "The account the event concerns; also the Kinesis partition key."),
  ip: z.string().min(1).max(FIELD_LIMITS.ipMaxLength).meta({
    id: "Ip",
    description: "Client IPv4 (dotted decimal) or IPv6 address. Normalized to canonical text.",
  }),
  deviceId: identifier("DeviceId", "Device fingerprint or installation id."),
  phone: z.string().min(1).max(FIELD_LIMITS.phoneMaxLength).optional().meta({
    id: "Phone",
    pattern: "^\\s*\\+[0-9][0-9 ().-]*\\s*$",
    description: "Phone number in international format (+ country code). Normalized to E.164.",
  }),
  email: z.string().min(1).max(FIELD_LIMITS.emailMaxLength).optional().meta({
    id: "Email",
    description: "Email address (ASCII, punycode domain). Normalized: trimmed, lower-cased.",
  }),
};

const money = {
  amount: z
    .union([
      z.string().min(1).max(FIELD_LIMITS.amountMaxLength).meta({
        pattern: "^[0-9]+(\\.[0-9]+)?$",
        description: 'Decimal string (recommended), e.g. "12.34".',
      }),
      z.number().meta({ minimum: 0, description: "JSON number, used exactly as written." }),
    ])
    .meta({
      id: "Amount",
      description:
        "Non-negative amount in major units, at most as fine as the currency's minor unit. " +
        "Normalized to a decimal string with exactly the currency's number of decimals.",
    }),
  currency: z.string().min(1).max(8).meta({
    id: "Currency",
    pattern: "^[A-Za-z]{3}$",
    description: "ISO-4217 code, any case. Normalized to upper case.",
  }),
};

const geo = z
  .strictObject({
    country: z.string().min(1).max(8).meta({
      pattern: "^[A-Za-z]{2}$",
      description: "ISO-3166-1 alpha-2 code, any case. Normalized to upper case.",
    }),
    city: z
      .string()
      .min(1)
      .max(FIELD_LIMITS.cityMaxLength)
      .optional()
      .meta({ description: "City name. Normalized: trimmed." }),
  })
  .meta({ id: "Geo", description: "Where the client is, as the producer resolved it." });

const attributeValue = z.union([
  z.string().max(FIELD_LIMITS.attributeValueMaxLength),
  z.number(),
  z.boolean(),
]);

const attributes = z
  .record(z.string().max(FIELD_LIMITS.attributeKeyMaxLength).regex(ATTRIBUTE_KEY_PATTERN), attributeValue)
  .refine((map) => Object.keys(map).length <= FIELD_LIMITS.attributesMaxKeys, {
    message: `more than ${FIELD_LIMITS.attributesMaxKeys} keys`,
  })
  .meta({
    id: "Attributes",
    maxProperties: FIELD_LIMITS.attributesMaxKeys,
    description: "Business-specific scalar fields (string, number, boolean); kept as sent.",
  });

const optional = {
  geo: geo.optional(),
  attributes: attributes.optional(),
};

/** A new-account registration. */
export const registerEventSchema = z
  .strictObject({ ...common, type: z.literal("register"), ...actor, ...optional })
  .meta({ id: "RegisterEvent", title: "register" });

/** A sign-in attempt. */
export const loginEventSchema = z
  .strictObject({ ...common, type: z.literal("login"), ...actor, ...optional })
  .meta({ id: "LoginEvent", title: "login" });

/** An order placed. */
export const orderEventSchema = z
  .strictObject({ ...common, type: z.literal("order"), ...actor, ...money, ...optional })
  .meta({ id: "OrderEvent", title: "order" });

/** A payment attempt; cardFingerprint is absent for non-card methods. */
export const paymentEventSchema = z
  .strictObject({
    ...common,
    type: z.literal("payment"),
    ...actor,
    ...money,
    cardFingerprint: identifier(
      "CardFingerprint",
      "Token or keyed hash identifying the card. Never the card number.",
    ).optional(),
    cardBin: z
      .string()
      .regex(/^[0-9]{6,8}$/)
      .optional()
      .meta({
        id: "CardBin",
        description:
          "The card's bank identification number: its first 6 or 8 digits (issuer and product), never more.",
      }),
    ...optional,
  })
  .meta({ id: "PaymentEvent", title: "payment" });

/** A coupon claimed in a campaign. */
export const couponClaimEventSchema = z
  .strictObject({
    ...common,
    type: z.literal("coupon_claim"),
    ...actor,
    campaignId: identifier("CampaignId", "The campaign the coupon belongs to."),
    couponId: identifier("CouponId", "The coupon claimed."),
    ...optional,
  })
  .meta({ id: "CouponClaimEvent", title: "coupon_claim" });

/** The kinds of challenge a decision can ask for (`challenge_sms`, `challenge_face`). */
export const CHALLENGE_KINDS = ["sms", "face"] as const;
/** What became of a challenge. */
export const CHALLENGE_OUTCOMES = ["passed", "failed", "abandoned"] as const;

/**
 * The result of a challenge, reported by the system that ran it (for the session of the
 * challenged event: its user, IP and device).
 */
export const challengeOutcomeEventSchema = z
  .strictObject({
    ...common,
    type: z.literal("challenge_outcome"),
    ...actor,
    challengedEventId: identifier(
      "ChallengedEventId",
      "The eventId of the decision that asked for the challenge.",
    ),
    challengeKind: z
      .enum(CHALLENGE_KINDS)
      .meta({ description: "sms (one-time code) or face (verification)." }),
    challengeOutcome: z.enum(CHALLENGE_OUTCOMES).meta({
      description:
        "passed, failed (wrong code, no face match), or abandoned (no answer before the challenge expired).",
    }),
    ...optional,
  })
  .meta({ id: "ChallengeOutcomeEvent", title: "challenge_outcome" });

/** Per-type schemas, for dispatch on `type` before validation. */
export const EVENT_SCHEMAS = {
  register: registerEventSchema,
  login: loginEventSchema,
  order: orderEventSchema,
  payment: paymentEventSchema,
  coupon_claim: couponClaimEventSchema,
  challenge_outcome: challengeOutcomeEventSchema,
} as const satisfies Record<EventType, z.ZodType>;

/** The whole contract as a union discriminated by `type`. */
export const riskEventSchema = z
  .discriminatedUnion("type", [
    registerEventSchema,
    loginEventSchema,
    orderEventSchema,
    paymentEventSchema,
    couponClaimEventSchema,
    challengeOutcomeEventSchema,
  ])
  .meta({
    title: "Vigil risk event",
    description: "One business event per Kinesis record. Unknown keys are refused at every level.",
  });

/** An event as producers send it (validated structure, not yet normalized). */
export type RiskEvent = z.infer<typeof riskEventSchema>;
export type RegisterEvent = z.infer<typeof registerEventSchema>;
export type LoginEvent = z.infer<typeof loginEventSchema>;
export type OrderEvent = z.infer<typeof orderEventSchema>;
export type PaymentEvent = z.infer<typeof paymentEventSchema>;
export type CouponClaimEvent = z.infer<typeof couponClaimEventSchema>;
export type ChallengeOutcomeEvent = z.infer<typeof challengeOutcomeEventSchema>;
/** The `attributes` map. */
export type EventAttributes = NonNullable<RiskEvent["attributes"]>;
/** The `geo` object. */
export type EventGeo = NonNullable<RiskEvent["geo"]>;

/** What normalization changes in the type: amounts become canonical decimal strings. */
type Normalized<E> = E extends { amount: string | number } ? Omit<E, "amount"> & { amount: string } : E;

/**
 * An event after cleaning: every field in canonical form (see docs/events.md). A CleanEvent is
 * itself a valid RiskEvent and normalizes to itself.
 */
export type CleanEvent = Normalized<RiskEvent>;
export type CleanRegisterEvent = Normalized<RegisterEvent>;
export type CleanLoginEvent = Normalized<LoginEvent>;
export type CleanOrderEvent = Normalized<OrderEvent>;
export type CleanPaymentEvent = Normalized<PaymentEvent>;
export type CleanCouponClaimEvent = Normalized<CouponClaimEvent>;
export type CleanChallengeOutcomeEvent = Normalized<ChallengeOutcomeEvent>;
