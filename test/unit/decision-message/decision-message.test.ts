import { describe, expect, it } from "vitest";
import {
  createPseudonymizer,
  DECISION_MESSAGE_VERSION,
  decisionMessageSchema,
  decisionPartitionKey,
  decodeDecisionMessage,
  ENTITY_KINDS,
  encodeDecisionMessage,
  PSEUDONYM_PATTERN,
  PseudonymKeyError,
  parseStoredPseudonymKey,
  pseudonymize,
  REDACTED,
  toDecisionMessage,
} from "#shared/domain/decision-message/index";
import {
  blockDecision,
  CANARIES,
  CANARY_VALUES,
  canaryEvent,
  SAMPLE_FEATURES,
  sampleMessage,
  TEST_KEY,
} from "../../fixtures/decision-messages.ts";

describe("pseudonymize", () => {
  it("is deterministic per key, kind and value and matches the documented format", () => {
    const a = pseudonymize(TEST_KEY, "user", "alice");
    expect(a).toBe(pseudonymize(TEST_KEY, "user", "alice"));
    expect(a).toMatch(PSEUDONYM_PATTERN);
    expect(a.startsWith("u:t1:")).toBe(true);
    for (const kind of ENTITY_KINDS) expect(pseudonymize(TEST_KEY, kind, "x")).toMatch(PSEUDONYM_PATTERN);
  });

  it("separates kinds, values and keys", () => {
    const user = pseudonymize(TEST_KEY, "user", "same");
    const device = pseudonymize(TEST_KEY, "device", "same");
    expect(user.split(":")[2]).not.toBe(device.split(":")[2]);
    expect(pseudonymize(TEST_KEY, "user", "same2")).not.toBe(user);
    const rotated = { id: "t2", secret: Buffer.from("another-secret-".repeat(3)) };
    const other = pseudonymize(rotated, "user", "same");
    expect(other.startsWith("u:t2:")).toBe(true);
    expect(other.split(":")[2]).not.toBe(user.split(":")[2]);
  });

  it("is HMAC-SHA-256 over kind NUL value, truncated to 16 bytes (known answer)", async () => {
    const { createHmac } = await import("node:crypto");
    const mac = createHmac("sha256", TEST_KEY.secret).update("ip\u0000203.0.113.77").digest();
    expect(pseudonymize(TEST_KEY, "ip", "203.0.113.77")).toBe(
      `ip:t1:${mac.subarray(0, 16).toString("base64url")}`,
    );
  });

  it("refuses short secrets and bad key ids", () => {
    expect(() => createPseudonymizer({ id: "k1", secret: Buffer.alloc(16) })).toThrow(PseudonymKeyError);
    expect(() => createPseudonymizer({ id: "K_1", secret: Buffer.alloc(32) })).toThrow(PseudonymKeyError);
  });

  it("parses stored keys and never quotes the secret in errors", () => {
    const key = parseStoredPseudonymKey(JSON.stringify({ keyId: "k1", key: "s".repeat(40) }), "test");
    expect(key.id).toBe("k1");
    expect(Buffer.from(key.secret).toString()).toBe("s".repeat(40));
    const short = "short-secret-value";
    try {
      parseStoredPseudonymKey(JSON.stringify({ keyId: "k1", key: short }), "test");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PseudonymKeyError);
      expect(String(error)).not.toContain(short);
    }
    expect(() => parseStoredPseudonymKey("nope", "test")).toThrow(/not JSON/);
  });
});

describe("toDecisionMessage", () => {
  const message = sampleMessage("evt-1");

  it("satisfies the schema and round-trips through the record encoding", () => {
    expect(decisionMessageSchema.parse(message)).toEqual(message);
    const decoded = decodeDecisionMessage(encodeDecisionMessage(message));
    expect(decoded).toEqual({ ok: true, message });
    expect(message.messageVersion).toBe(DECISION_MESSAGE_VERSION);
  });

  it("carries the decision, the exact features and the event's business fields", () => {
    expect(message).toMatchObject({
      eventId: "evt-1",
      type: "payment",
      action: "block",
      score: 0.93,
      reasons: ["CARD_VELOCITY", "HIGH_SCORE"],
      features: SAMPLE_FEATURES,
      occurredAt: "2026-05-01T10:00:00.000Z",
      decidedAt: "2026-05-01T10:00:00.250Z",
      country: "US",
      amount: "129.99",
      currency: "USD",
      versions: { rules: 7, lists: 2, model: "lr-2026-04", shadowModel: null, features: "f-abc123" },
    });
    expect(message.ruleHits.map((h) => [h.id, h.shadow])).toEqual([
      ["card_velocity", false],
      ["new_device_high_amount", true],
    ]);
  });

  it("pseudonymizes every entity, list entry and email-domain input, and keeps no PII", () => {
    const p = createPseudonymizer(TEST_KEY);
    expect(message.entities).toEqual({
      user: p("user", CANARIES.userId),
      device: p("device", CANARIES.deviceId),
      ip: p("ip", CANARIES.ip),
      card: p("card", CANARIES.cardFingerprint),
      phone: p("phone", CANARIES.phone),
      email: p("email", CANARIES.email),
      emailDomain: p("emailDomain", CANARIES.emailDomain),
    });
    expect(message.listHits).toEqual([{ list: "block", kind: "phone", entry: p("phone", CANARIES.phone) }]);
    expect(message.contributions[1]?.value).toBe(p("emailDomain", CANARIES.emailDomain));
    expect(message.ruleErrors).toEqual([{ id: "broken_rule", version: 2, shadow: false }]);
    expect(decisionPartitionKey(message)).toBe(message.entities.user);
    const text = JSON.stringify(message);
    for (const canary of CANARY_VALUES) expect(text).not.toContain(canary);
  });

  it("redacts string inputs it does not know to be safe", () => {
    const m = toDecisionMessage(
      canaryEvent("evt-2"),
      blockDecision({
        contributions: [
          {
            term: "t",
            input: "event.somethingNew",
            value: CANARIES.phone,
            transformed: 1,
            weight: 1,
            contribution: 1,
            reason: "R",
          },
        ],
      }),
      {},
      createPseudonymizer(TEST_KEY),
      new Date("2026-05-01T10:00:01Z"),
    );
    expect(m.contributions[0]?.value).toBe(REDACTED);
    expect(m.decidedAt).toBe("2026-05-01T10:00:01.000Z");
  });

  it("leaves optional fields out when the event lacks them", () => {
    const m = toDecisionMessage(
      {
        schemaVersion: 1,
        eventId: "evt-3",
        type: "coupon_claim",
        occurredAt: "2026-05-01T10:00:00.000Z",
        userId: "u",
        ip: "10.0.0.1",
        deviceId: "d",
        campaignId: "spring",
        couponId: "c-1",
      },
      blockDecision({ listHits: [] }),
      {},
      createPseudonymizer(TEST_KEY),
      "2026-05-01T10:00:00.001Z",
    );
    expect(Object.keys(m.entities)).toEqual(["user", "device", "ip"]);
    expect(m).not.toHaveProperty("amount");
    expect(m).not.toHaveProperty("country");
    expect(m).toMatchObject({ campaignId: "spring", couponId: "c-1" });
    expect(decisionMessageSchema.safeParse(m).success).toBe(true);
  });

  it("decodes leniently (unknown keys ignored) and explains refusals without values", () => {
    const extra = { ...message, someFutureField: 1 };
    const decoded = decodeDecisionMessage(Buffer.from(JSON.stringify(extra)));
    expect(decoded.ok).toBe(true);
    const bad = decodeDecisionMessage(Buffer.from(JSON.stringify({ ...message, action: CANARIES.email })));
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error).toContain("action");
      expect(bad.error).not.toContain(CANARIES.email);
    }
    expect(decodeDecisionMessage(Buffer.from("{"))).toEqual({ ok: false, error: "not JSON" });
  });
});
