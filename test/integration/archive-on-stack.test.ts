import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileObjectStore } from "#shared/adapters/file-object-store";
import { type ArchivedRecord, archiveDate, decodeArchiveLines } from "#shared/domain/archive/archived-record";
import { ENV } from "#shared/resources";
import { encodeEvent, makeValidTrafficEvent } from "../fixtures/valid-events.ts";
import { startTestPipeline, type TestPipeline } from "../support/pipeline.ts";

/**
 * Issue 15's archive acceptance on the real engines: records put on the local stack's events
 * stream land in the local archive as received, with shard, sequence number and arrival time,
 * quarantined ones included, while score decides or quarantines the same records.
 */
describe("the event archive on the local stack", () => {
  let pipeline: TestPipeline;
  beforeAll(async () => {
    pipeline = await startTestPipeline({}, ["score", "archive"]);
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  it("holds every record put, decodable or not, with its metadata, once per record", async () => {
    const now = new Date();
    const events = Array.from({ length: 40 }, (_, i) =>
      makeValidTrafficEvent(i, new Date(now.getTime() - 60_000 + i * 100), { runId: "archive" }),
    );
    const hostile = [
      { data: new TextEncoder().encode('{"eventId": "broken"'), partitionKey: "h-1" },
      { data: new Uint8Array([0xc3, 0x28, 0xa0]), partitionKey: "h-2" },
      {
        data: new TextEncoder().encode(
          // date-safe: deliberately older than the decoder accepts: quarantined, never stored under its own date
          JSON.stringify({ ...events[0], occurredAt: "2001-01-01T00:00:00Z", eventId: "too-old-1" }),
        ),
        partitionKey: "h-3",
      },
    ];
    const records = [...events.map((e) => ({ data: encodeEvent(e), partitionKey: e.userId })), ...hostile];
    const before = Date.now();
    const placed = await pipeline.put(records);
    const after = Date.now();
    await pipeline.idle();

    const dir = pipeline.stack.env[ENV.archiveDir];
    if (!dir) throw new Error("the local stack names no archive directory");
    const store = new FileObjectStore(dir);
    const archived: ArchivedRecord[] = [];
    const keys: string[] = [];
    for await (const object of store.list("events/")) {
      keys.push(object.key);
      const body = await store.get(object.key);
      archived.push(...decodeArchiveLines(gunzipSync(body ?? new Uint8Array()).toString("utf8"), object.key));
    }
    // Every record exactly once (this run delivers each batch once), at its shard and sequence number.
    expect(archived).toHaveLength(records.length);
    const bySource = new Map(archived.map((r) => [`${r.shardId}:${r.sequenceNumber}`, r]));
    expect(bySource.size).toBe(records.length);
    records.forEach((record, i) => {
      const place = placed[i];
      const found = bySource.get(`${place?.shardId}:${place?.sequenceNumber}`);
      expect(found, `record ${i}`).toBeDefined();
      expect(Buffer.from(found?.data ?? "", "base64").equals(Buffer.from(record.data))).toBe(true);
      expect(found?.partitionKey).toBe(record.partitionKey);
      const arrival = Date.parse(found?.arrivalTime ?? "");
      // Kinesis Mock stamps arrival when it accepts the record (second precision on the wire).
      expect(arrival).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(arrival).toBeLessThanOrEqual(after + 1000);
      expect(found?.stream).toMatch(/^arn:aws:kinesis:.*:stream\//);
    });
    for (const key of keys)
      expect(key).toMatch(/^events\/date=\d{4}-\d{2}-\d{2}\/shardId-\d+\/\d+-\d+\.ndjson\.gz$/);
    for (const r of archived)
      expect(keys.some((k) => k.startsWith(`events/date=${archiveDate(r.arrivalTime)}/${r.shardId}/`))).toBe(
        true,
      );

    // The quarantined records are in the archive too, byte for byte, so they can be replayed.
    const quarantine = await pipeline.scan("quarantine");
    expect(quarantine).toHaveLength(hostile.length);
    for (const entry of quarantine) {
      const copy = bySource.get(`${String(entry.shardId)}:${String(entry.sequenceNumber)}`);
      expect(copy?.data).toBe(entry.data);
    }
    // The decisions table also holds the receipt ledger's marks (recv#...), which are not decisions.
    const decisions = (await pipeline.scan("decisions")).filter(
      (d) => !/^(dup|recv)#/.test(String(d.eventId)),
    );
    expect(decisions).toHaveLength(events.length);
  });
});
