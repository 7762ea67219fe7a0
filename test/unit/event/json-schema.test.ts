import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EVENT_JSON_SCHEMA_PATH, eventJsonSchema } from "#shared/domain/event/json-schema";
import { EVENT_TYPES, FIELD_LIMITS } from "#shared/domain/event/schema";

const committed: unknown = JSON.parse(
  readFileSync(new URL(`../../../${EVENT_JSON_SCHEMA_PATH}`, import.meta.url), "utf8"),
);

describe("event JSON Schema", () => {
  it("matches the committed docs/event.schema.json (regenerate: npx tsx scripts/export-event-schema.ts)", () => {
    expect(committed).toEqual(eventJsonSchema());
  });

  it("describes every event type, refuses unknown keys and states the bounds", () => {
    const schema = eventJsonSchema() as {
      oneOf: { $ref: string }[];
      $defs: Record<string, { title?: string; additionalProperties?: unknown; required?: string[] }>;
    };
    const types = schema.oneOf.map((ref) => schema.$defs[ref.$ref.replace("#/$defs/", "")]?.title);
    expect(types).toEqual([...EVENT_TYPES]);
    for (const ref of schema.oneOf) {
      const def = schema.$defs[ref.$ref.replace("#/$defs/", "")];
      expect(def?.additionalProperties).toBe(false);
      expect(def?.required?.slice(0, 3)).toEqual(["schemaVersion", "eventId", "type"]);
    }
    expect(schema.$defs.OrderEvent?.required).toEqual([
      "schemaVersion",
      "eventId",
      "type",
      "occurredAt",
      "userId",
      "ip",
      "deviceId",
      "amount",
      "currency",
    ]);
    expect(schema.$defs.Attributes).toMatchObject({ maxProperties: FIELD_LIMITS.attributesMaxKeys });
    expect(schema.$defs.OccurredAt).toMatchObject({ type: "string", format: "date-time" });
    expect(schema.$defs.EventId).toMatchObject({ maxLength: 128, pattern: "^[A-Za-z0-9._:=+/-]+$" });
  });
});
