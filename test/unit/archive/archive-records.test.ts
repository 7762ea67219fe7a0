import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { KinesisStreamRecord } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { archiveRecords, toArchivedRecord } from "#functions/archive/archive-records";
import { FileObjectStore, ObjectKeyError } from "#shared/adapters/file-object-store";
import {
  ArchiveFormatError,
  archiveDatesBetween,
  archiveObjectKey,
  archiveObjects,
  decodeArchiveLines,
  dedupeRecords,
  encodeArchiveLines,
} from "#shared/domain/archive/archived-record";
import type { ObjectStore } from "#shared/ports/object-store";
import { memoryLogger } from "../../support/kinesis-records.ts";

const STREAM = "arn:aws:kinesis:us-east-1:000000000000:stream/vigil-events";

function eventsRecord(
  data: Uint8Array | string,
  sequenceNumber: string,
  arrival: string,
  shardId = "shardId-000000000001",
): KinesisStreamRecord {
  return {
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: "aws:kinesis:record",
    eventSource: "aws:kinesis",
    eventSourceARN: STREAM,
    eventVersion: "1.0",
    awsRegion: "us-east-1",
    invokeIdentityArn: "arn:aws:iam::000000000000:role/test",
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey: "user-1",
      sequenceNumber,
      data: Buffer.from(data).toString("base64"),
      approximateArrivalTimestamp: Date.parse(arrival) / 1000,
    },
  };
}

const dirs: string[] = [];
function tempStore(): { dir: string; store: FileObjectStore } {
  const dir = mkdtempSync(join(tmpdir(), "vigil-archive-"));
  dirs.push(dir);
  return { dir, store: new FileObjectStore(dir) };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function readAll(store: ObjectStore, prefix = "events/") {
  const out: { key: string; lines: ReturnType<typeof decodeArchiveLines> }[] = [];
  for await (const o of store.list(prefix)) {
    const body = await store.get(o.key);
    out.push({
      key: o.key,
      lines: decodeArchiveLines(gunzipSync(body ?? new Uint8Array()).toString("utf8"), o.key),
    });
  }
  return out;
}

describe("the archived record", () => {
  it("keeps the bytes as received, the shard, sequence number, arrival time and partition key", () => {
    const bytes = new Uint8Array([0xff, 0xfe, 0x7b, 0x00]);
    const archived = toArchivedRecord(
      eventsRecord(bytes, "4960000000000000000001", "2026-03-01T23:59:59.250Z"),
    );
    expect(archived).toEqual({
      shardId: "shardId-000000000001",
      sequenceNumber: "4960000000000000000001",
      arrivalTime: "2026-03-01T23:59:59.250Z",
      partitionKey: "user-1",
      data: Buffer.from(bytes).toString("base64"),
      stream: STREAM,
    });
    expect(decodeArchiveLines(encodeArchiveLines([archived]), "k")).toEqual([archived]);
  });

  it("groups a batch by arrival date, keyed by the first and last sequence number", () => {
    const records = [
      eventsRecord("a", "11", "2026-03-01T23:59:58.000Z"),
      eventsRecord("b", "12", "2026-03-01T23:59:59.999Z"),
      eventsRecord("c", "13", "2026-03-02T00:00:00.000Z"),
    ].map(toArchivedRecord);
    const objects = archiveObjects(records);
    expect(objects.map((o) => [o.key, o.records.length])).toEqual([
      ["events/date=2026-03-01/shardId-000000000001/11-12.ndjson.gz", 2],
      ["events/date=2026-03-02/shardId-000000000001/13-13.ndjson.gz", 1],
    ]);
    expect(() => archiveObjectKey([])).toThrow(RangeError);
  });

  it("refuses lines that are not archived records, naming the object and line", () => {
    expect(() => decodeArchiveLines('{"shardId":"s"}\n', "events/x")).toThrow(ArchiveFormatError);
    expect(() => decodeArchiveLines("\nnot json\n", "events/x")).toThrow("events/x line 2: not JSON");
  });

  it("lists the dates of a period and de-duplicates copies by shard and sequence number", () => {
    expect(
      archiveDatesBetween(Date.parse("2026-03-01T22:00:00Z"), Date.parse("2026-03-03T00:00:00Z")),
    ).toEqual(["2026-03-01", "2026-03-02"]);
    expect(archiveDatesBetween(5, 5)).toEqual([]);
    const [a, b] = [
      eventsRecord("a", "1", "2026-03-01T00:00:00Z"),
      eventsRecord("b", "2", "2026-03-01T00:00:00Z"),
    ].map(toArchivedRecord) as [ReturnType<typeof toArchivedRecord>, ReturnType<typeof toArchivedRecord>];
    expect(dedupeRecords([a, b, a, { ...a, shardId: "shardId-000000000002" }])).toHaveLength(3);
  });
});

describe("archiveRecords", () => {
  it("writes one gzip NDJSON object per arrival date with every record, undecodable ones too", async () => {
    const { store } = tempStore();
    const logger = memoryLogger();
    const records = [
      eventsRecord('{"not":"an event"', "101", "2026-03-01T23:00:00.000Z"),
      eventsRecord(new Uint8Array([0xc3, 0x28]), "102", "2026-03-01T23:30:00.000Z"),
      eventsRecord('{"eventId":"e3"}', "103", "2026-03-02T00:10:00.000Z"),
    ];
    const result = await archiveRecords(records, { store, logger });
    expect(result.response.batchItemFailures).toEqual([]);
    expect(result.counts).toEqual({ archived: 3, objects: 2, failed: 0 });
    const objects = await readAll(store);
    expect(objects.map((o) => o.key)).toEqual([
      "events/date=2026-03-01/shardId-000000000001/101-102.ndjson.gz",
      "events/date=2026-03-02/shardId-000000000001/103-103.ndjson.gz",
    ]);
    const lines = objects.flatMap((o) => o.lines);
    expect(lines.map((l) => Buffer.from(l.data, "base64"))).toEqual(
      records.map((r) => Buffer.from(r.kinesis.data, "base64")),
    );
    expect(lines.map((l) => l.sequenceNumber)).toEqual(["101", "102", "103"]);
  });

  it("rewrites the same object with the same bytes when a batch is delivered again", async () => {
    const { store } = tempStore();
    const records = [
      eventsRecord("x", "7", "2026-03-01T01:00:00Z"),
      eventsRecord("y", "8", "2026-03-01T01:00:01Z"),
    ];
    await archiveRecords(records, { store, logger: memoryLogger() });
    const key = "events/date=2026-03-01/shardId-000000000001/7-8.ndjson.gz";
    const first = await store.get(key);
    await archiveRecords(records, { store, logger: memoryLogger() });
    expect(Buffer.compare(Buffer.from((await store.get(key)) ?? []), Buffer.from(first ?? []))).toBe(0);
    const all = [];
    for await (const o of store.list("events/")) all.push(o.key);
    expect(all).toEqual([key]);
  });

  it("reports the first record of the object it could not write, so the batch is retried from there", async () => {
    const { store } = tempStore();
    let puts = 0;
    const failing: ObjectStore = {
      put: async (key, body) => {
        puts++;
        if (key.includes("date=2026-03-02"))
          throw Object.assign(new Error("s3 down"), { name: "ServiceUnavailable" });
        await store.put(key, body);
      },
      get: (key) => store.get(key),
      list: (prefix) => store.list(prefix),
    };
    const logger = memoryLogger();
    const result = await archiveRecords(
      [
        eventsRecord("a", "1", "2026-03-01T23:59:00Z"),
        eventsRecord("b", "2", "2026-03-02T00:00:01Z"),
        eventsRecord("c", "3", "2026-03-02T00:00:02Z"),
      ],
      { store: failing, logger },
    );
    expect(puts).toBe(2);
    expect(result.response.batchItemFailures).toEqual([{ itemIdentifier: "2" }]);
    expect(result.counts).toEqual({ archived: 1, objects: 1, failed: 2 });
    expect(logger.lines.join("\n")).toContain("ServiceUnavailable");
    expect(logger.lines.join("\n")).not.toContain("s3 down");
  });
});

describe("FileObjectStore", () => {
  it("refuses keys that would leave its directory", async () => {
    const { store } = tempStore();
    for (const key of ["../x", "/abs", "a//b", "a/./b", ""])
      await expect(store.put(key, new Uint8Array())).rejects.toBeInstanceOf(ObjectKeyError);
  });

  it("lists only keys under the prefix, in byte order, and leaves no partial file", async () => {
    const { dir, store } = tempStore();
    await store.put("events/date=2026-03-02/b", new Uint8Array([1]));
    await store.put("events/date=2026-03-01/z", new Uint8Array([1, 2]));
    await store.put("events/date=2026-03-01/a", new Uint8Array());
    await store.put("other/x", new Uint8Array());
    const listed = [];
    for await (const o of store.list("events/date=2026-03-01/")) listed.push(o);
    expect(listed).toEqual([
      { key: "events/date=2026-03-01/a", size: 0 },
      { key: "events/date=2026-03-01/z", size: 2 },
    ]);
    const all = [];
    for await (const o of store.list("events/date=2026-03")) all.push(o.key);
    expect(all).toHaveLength(3);
    expect(readdirSync(join(dir, "events/date=2026-03-01"))).toEqual(["a", "z"]);
    expect(await store.get("events/none")).toBeUndefined();
  });
});
