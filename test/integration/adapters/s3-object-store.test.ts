import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createS3Client, S3ObjectStore } from "#shared/adapters/s3-object-store";
import { type FakeS3, startFakeS3 } from "../../support/fake-s3.ts";

/**
 * The S3 object store on the wire, against a local server speaking the S3 REST protocol
 * (test/support/fake-s3.ts): requests signed with SigV4, bodies with the SDK's checksums, S3's XML
 * listings with continuation tokens and its error documents.
 */
const BUCKET = "vigil-archive-test";

describe("S3ObjectStore against the S3 REST protocol", () => {
  let fake: FakeS3;
  let store: S3ObjectStore;
  const env = () => ({
    AWS_ENDPOINT_URL_S3: fake.endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
  });
  beforeAll(async () => {
    fake = await startFakeS3();
    fake.createBucket(BUCKET);
    store = new S3ObjectStore(createS3Client(env()), BUCKET);
  });
  afterAll(() => fake.close());

  it("puts an object and gets the same bytes back, signed, with its content type", async () => {
    const body = new Uint8Array([0x1f, 0x8b, 0, 255, 10, 13, 0x80]);
    // date-safe: an object key in the fake S3 server, which expires nothing
    await store.put("events/date=2026-03-01/shardId-000000000000/1-2.ndjson.gz", body, {
      contentType: "application/gzip",
    });
    // date-safe: an object key in the fake S3 server, which expires nothing
    const stored = fake.buckets.get(BUCKET)?.get("events/date=2026-03-01/shardId-000000000000/1-2.ndjson.gz");
    expect(stored?.contentType).toBe("application/gzip");
    expect([...(stored?.body ?? [])]).toEqual([...body]);
    expect([
      // date-safe: an object key in the fake S3 server, which expires nothing
      ...((await store.get("events/date=2026-03-01/shardId-000000000000/1-2.ndjson.gz")) ?? []),
    ]).toEqual([...body]);
    expect(fake.signedRequests).toBe(fake.requests.length);
  });

  it("sends a CRC32 the server verifies, and refuses an object whose bytes no longer match it", async () => {
    await store.put("events/checked", new Uint8Array([5, 6, 7]));
    const bucket = fake.buckets.get(BUCKET);
    const stored = bucket?.get("events/checked");
    expect(stored?.crc32).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    if (!bucket || !stored) throw new Error("not stored");
    bucket.set("events/checked", { ...stored, body: Buffer.from([5, 6, 8]) });
    await expect(store.get("events/checked")).rejects.toThrow(/checksum/i);
  });

  it("answers undefined for a missing key (S3's NoSuchKey)", async () => {
    expect(await store.get("events/none")).toBeUndefined();
    expect(fake.requests.at(-1)).toBe(`GET /${BUCKET}/events/none?x-id=GetObject`);
  });

  it("lists every object under a prefix across pages, in key order, with sizes", async () => {
    const bucket = new Map<string, number>();
    for (let i = 0; i < 1_005; i++) {
      // date-safe: an object key in the fake S3 server, which expires nothing
      const key = `events/date=2026-03-02/s/${String(i).padStart(5, "0")}.gz`;
      await store.put(key, new Uint8Array(i % 7));
      bucket.set(key, i % 7);
    }
    // date-safe: an object key in the fake S3 server, which expires nothing
    await store.put("events/date=2026-03-03/s/x.gz", new Uint8Array(1));
    const before = fake.requests.length;
    const listed = [];
    // date-safe: an object key in the fake S3 server, which expires nothing
    for await (const o of store.list("events/date=2026-03-02/")) listed.push(o);
    expect(listed.map((o) => o.key)).toEqual([...bucket.keys()].sort());
    expect(listed.map((o) => o.size)).toEqual([...bucket.keys()].sort().map((k) => bucket.get(k)));
    const pages = fake.requests.slice(before);
    expect(pages.length).toBe(2);
    expect(pages[1]).toContain("continuation-token=");
  });

  it("retries SlowDown (503) and then succeeds", async () => {
    fake.slowDownNext(2);
    await store.put("events/retry", new Uint8Array([1, 2, 3]));
    expect([...((await store.get("events/retry")) ?? [])]).toEqual([1, 2, 3]);
  });

  it("throws S3's error for a bucket that does not exist", async () => {
    const other = new S3ObjectStore(createS3Client(env()), "no-such-bucket");
    await expect(other.put("k", new Uint8Array([1]))).rejects.toMatchObject({ name: "NoSuchBucket" });
    await expect(other.get("k")).rejects.toMatchObject({ name: "NoSuchBucket" });
  });

  it("gives up after the retries when S3 keeps throttling", async () => {
    const impatient = new S3ObjectStore(createS3Client(env(), 2), BUCKET);
    fake.slowDownNext(5);
    await expect(impatient.put("events/never", new Uint8Array([1]))).rejects.toMatchObject({
      name: "SlowDown",
    });
    fake.slowDownNext(0);
    expect(fake.buckets.get(BUCKET)?.has("events/never")).toBe(false);
  });
});
