import { describe, expect, it } from "vitest";
import { auditIndexName, toAuditDocument } from "#shared/domain/audit/audit-document";
import { AUDIT_MAPPINGS, auditIndexTemplate, auditIsmPolicy } from "#shared/domain/audit/audit-index";
import { CANARY_VALUES, sampleMessage } from "../../fixtures/decision-messages.ts";

describe("audit documents", () => {
  const message = sampleMessage("evt-a");

  it("are the message plus derived fields, in the daily index of the event's date", () => {
    const doc = toAuditDocument(message);
    expect(doc).toMatchObject({
      eventId: "evt-a",
      "@timestamp": message.decidedAt,
      activeRules: ["card_velocity"],
      shadowRules: ["new_device_high_amount"],
      severity: "critical",
    });
    expect(auditIndexName("vigil-decisions", message)).toBe("vigil-decisions-2026.05.01");
    const text = JSON.stringify(doc);
    for (const canary of CANARY_VALUES) expect(text).not.toContain(canary);
  });

  it("have every top-level field in the explicit mapping", () => {
    const mapped = new Set(Object.keys(AUDIT_MAPPINGS.properties));
    for (const key of Object.keys(toAuditDocument(message))) expect(mapped).toContain(key);
  });

  it("template and ISM policy carry the settings", () => {
    const settings = { prefix: "vigil-decisions", retentionDays: 90, replicas: 1, shards: 1 };
    const template = auditIndexTemplate(settings);
    expect(template.index_patterns).toEqual(["vigil-decisions-*"]);
    expect(template.template.settings.number_of_replicas).toBe(1);
    expect(template.template.mappings.dynamic).toBe("strict");
    const policy = auditIsmPolicy(settings).policy;
    expect(policy.states[0]?.transitions[0]?.conditions.min_index_age).toBe("90d");
    expect(policy.ism_template[0]?.index_patterns).toEqual(["vigil-decisions-*"]);
    expect(() => auditIndexTemplate({ ...settings, prefix: "Bad*" })).toThrow();
  });
});
