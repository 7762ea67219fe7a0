import { describe, expect, it } from "vitest";
import { groupLabels } from "#cli/dataset-export";
import { replayDecisionRecords } from "#local/replay";
import type { CleanEvent } from "#shared/domain/event/index";
import { type Label, parseLabel, subjectKey } from "#shared/domain/labels/index";
import { buildDataset, flattenRow, unflattenRow } from "#shared/domain/training/dataset";

const T0 = Date.parse("2026-05-01T10:00:00.000Z");
const MIN = 60_000;

function login(i: number, minutes: number, ip: string, userId = "user-1"): CleanEvent {
  return {
    schemaVersion: 1,
    eventId: `evt-${i}`,
    type: "login",
    occurredAt: new Date(T0 + minutes * MIN).toISOString(),
    userId,
    ip,
    deviceId: "dev-1",
    geo: { country: "US" },
  };
}

const label = (eventId: string, value: "fraud" | "legit", minutes: number, source: string): Label =>
  parseLabel({
    schemaVersion: 1,
    subject: { eventId },
    label: value,
    source,
    observedAt: new Date(T0 + minutes * MIN).toISOString(),
    author: "test",
  });

describe("point-in-time training sets", () => {
  it("uses neither labels nor feature values that came after the cutoff", async () => {
    // Two sign-ins before the cutoff (minute 30), then six from new IPs after it: the account's
    // ips_per_user_1h grows after the cutoff, which must not reach the rows.
    const before = [login(1, 0, "192.0.2.1"), login(2, 10, "192.0.2.2")];
    const after = Array.from({ length: 6 }, (_, i) => login(10 + i, 31 + i, `198.51.100.${i + 1}`));
    const decisions = await replayDecisionRecords([...before, ...after]);
    const cutoff = T0 + 30 * MIN;
    const labels = groupLabels(
      [
        label("evt-2", "legit", 20, "review"), // known at the cutoff
        label("evt-2", "fraud", 45, "chargeback"), // arrives later: must not flip the row
        label("evt-1", "fraud", 40, "manual"), // evt-1 had no label at the cutoff
        label("evt-10", "fraud", 50, "review"), // about an event decided after the cutoff
      ],
      (l) => subjectKey(l.subject),
    );

    const dataset = buildDataset(decisions, labels, {
      labelsAsOfMs: cutoff,
      unlabelled: { kind: "exclude" },
    });
    expect(dataset.rows.map((r) => [r.eventId, r.label, r.labelSource])).toEqual([["evt-2", 0, "review"]]);
    expect(dataset.summary).toMatchObject({
      decisions: 8,
      rows: 1,
      outsideWindow: 6,
      unlabelledExcluded: 1,
      labelsAfterCutoff: 2,
    });
    const row = dataset.rows[0];
    // The row holds what the decision saw: two IPs in the hour...
    expect(row?.features.ips_per_user_1h).toBe(2);
    expect(row?.features).toEqual(decisions.find((d) => d.eventId === "evt-2")?.features?.values);
    // ...while the account's value kept growing after the cutoff.
    expect(decisions.at(-1)?.features?.values.ips_per_user_1h).toBe(8);

    // With the cutoff after everything, the chargeback is in force and every decision is in.
    const later = buildDataset(decisions, labels, {
      labelsAsOfMs: T0 + 60 * MIN,
      unlabelled: { kind: "exclude" },
    });
    expect(later.rows.map((r) => [r.eventId, r.label, r.labelSource])).toEqual([
      ["evt-1", 1, "manual"],
      ["evt-2", 1, "chargeback"],
      ["evt-10", 1, "review"],
    ]);
    expect(later.rows[1]?.features.ips_per_user_1h).toBe(2);
  });

  it("assumes legit only what was let through, past the outcome window, sampling by eventId deterministically", async () => {
    // One account, device and IP each: nothing for the rules to challenge.
    const events = Array.from({ length: 200 }, (_, i) => ({
      ...login(i, i, `100.64.${i % 250}.1`, `user-${i}`),
      deviceId: `dev-${i}`,
    }));
    const decisions = await replayDecisionRecords(events);
    expect(decisions.every((d) => d.action === "pass")).toBe(true);
    const none = new Map<string, Label[]>();
    // Events at minutes 0..199; at cutoff minute 200 with a 100-minute window, 0..100 qualify.
    const policy = { kind: "assume-legit", minAgeMs: 100 * MIN } as const;
    const all = buildDataset(decisions, none, { labelsAsOfMs: T0 + 200 * MIN, unlabelled: policy });
    expect(all.rows).toHaveLength(101);
    expect(all.rows.every((r) => r.label === 0 && r.labelSource === "assumed_legit")).toBe(true);
    expect(all.summary.unlabelledExcluded).toBe(99);
    const half = buildDataset(decisions, none, {
      labelsAsOfMs: T0 + 200 * MIN,
      unlabelled: { ...policy, sampleRate: 0.5 },
    });
    expect(half.rows.length).toBeGreaterThan(30);
    expect(half.rows.length).toBeLessThan(71);
    const again = buildDataset(decisions, none, {
      labelsAsOfMs: T0 + 200 * MIN,
      unlabelled: { ...policy, sampleRate: 0.5 },
    });
    expect(again.rows.map((r) => r.eventId)).toEqual(half.rows.map((r) => r.eventId));

    // A challenged decision with no label is not assumed legit: an abandoned challenge proves nothing.
    const challenged = decisions.map((d, i) => (i === 0 ? { ...d, action: "challenge_sms" as const } : d));
    const withChallenge = buildDataset(challenged, none, {
      labelsAsOfMs: T0 + 200 * MIN,
      unlabelled: policy,
    });
    expect(withChallenge.rows.map((r) => r.eventId)).not.toContain("evt-0");
    expect(withChallenge.rows).toHaveLength(100);
  });

  it("flattens rows to columns and reads them back", async () => {
    const decisions = await replayDecisionRecords([login(1, 0, "192.0.2.1")]);
    const labels = groupLabels([label("evt-1", "fraud", 5, "review")], (l) => subjectKey(l.subject));
    const { rows, featureIds } = buildDataset(decisions, labels, {
      labelsAsOfMs: T0 + 10 * MIN,
      unlabelled: { kind: "exclude" },
    });
    const [row] = rows;
    if (!row) throw new Error("one row expected");
    const flat = flattenRow(row, featureIds);
    expect(flat["event.geo.country"]).toBe("US");
    expect(flat["feature.devices_per_user_1h"]).toBe(1);
    expect(unflattenRow(JSON.parse(JSON.stringify(flat)))).toEqual({
      ...row,
      features: Object.fromEntries(featureIds.map((id) => [id, row.features[id] ?? null])),
    });
  });
});
