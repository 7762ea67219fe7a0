import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CheckpointStore, writeFileAtomic } from "#local/esm/checkpoint-store";

const WRITER = fileURLToPath(new URL("./checkpoint-writer.fixture.ts", import.meta.url));
const tempDir = () => mkdtempSync(join(tmpdir(), "vigil-checkpoints-"));

function counterOf(sequenceNumber: string | undefined): number {
  return Number((sequenceNumber ?? "").replace(/9{65536}$/, ""));
}

describe("CheckpointStore", () => {
  it("reads back what it wrote and nothing for an unknown shard", async () => {
    const store = new CheckpointStore(tempDir());
    await store.write({
      shardId: "shardId-000000000001",
      sequenceNumber: "42",
      shardFinished: false,
      updatedAt: "t",
    });
    expect((await store.read("shardId-000000000001"))?.sequenceNumber).toBe("42");
    expect(await store.read("shardId-000000000002")).toBeUndefined();
  });

  it("keeps its checkpoints while the stream is the same, drops them when it was created again", async () => {
    const dir = tempDir();
    const store = new CheckpointStore(dir);
    const stream = {
      streamArn: "arn:aws:kinesis:us-east-1:000000000000:stream/s",
      streamCreatedAt: "2026-01-01T00:00:00.000Z",
    };
    const first = await store.claim(stream, new Date("2026-01-02T00:00:00Z"));
    expect(first.reset).toBe(false);
    await store.write({
      shardId: "shardId-000000000000",
      sequenceNumber: "7",
      shardFinished: false,
      updatedAt: "t",
    });

    const again = await store.claim(stream, new Date("2026-01-03T00:00:00Z"));
    expect(again).toEqual({ identity: first.identity, reset: false });
    expect((await store.read("shardId-000000000000"))?.sequenceNumber).toBe("7");

    const recreated = await store.claim(
      { ...stream, streamCreatedAt: "2026-02-01T00:00:00.000Z" },
      new Date("2026-02-02T00:00:00Z"),
    );
    expect(recreated.reset).toBe(true);
    expect(recreated.identity.mappingCreatedAt).toBe("2026-02-02T00:00:00.000Z");
    expect(await store.read("shardId-000000000000")).toBeUndefined();
  });

  it("removes temporary files a killed writer left behind when it is claimed", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, ".shardId-000000000000.json.123.abc.tmp"), "{ half a chec");
    await new CheckpointStore(dir).claim({ streamArn: "a", streamCreatedAt: "b" }, new Date());
    expect(readdirSync(dir)).toEqual(["mapping.json"]);
  });

  it("replaces a file atomically: a reader never sees a partial write", async () => {
    const path = join(tempDir(), "file.json");
    await writeFileAtomic(path, JSON.stringify({ n: 0, pad: "x".repeat(100_000) }));
    const writes = Array.from({ length: 30 }, (_, n) =>
      writeFileAtomic(path, JSON.stringify({ n: n + 1, pad: "x".repeat(100_000) })),
    );
    const reads: number[] = [];
    const reader = (async () => {
      for (let i = 0; i < 200; i++) {
        reads.push((JSON.parse(readFileSync(path, "utf8")) as { n: number }).n);
        await new Promise((r) => setImmediate(r));
      }
    })();
    await Promise.all([...writes, reader]);
    expect(reads.every((n) => Number.isInteger(n))).toBe(true);
  });

  it("survives SIGKILL mid-write: the checkpoint is always a complete, recent version", async () => {
    const dir = tempDir();
    const store = new CheckpointStore(dir);
    let previous = 0;
    for (const delayMs of [30, 75, 120, 200]) {
      const child = spawn(process.execPath, ["--import", "tsx", WRITER, dir], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.once("data", () => resolve());
        child.once("exit", (code) => reject(new Error(`writer exited with ${code}`)));
      });
      await new Promise((r) => setTimeout(r, delayMs));
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      const checkpoint = await store.read("shardId-000000000000");
      const counter = counterOf(checkpoint?.sequenceNumber);
      expect(counter).toBeGreaterThan(previous);
      expect(checkpoint?.sequenceNumber?.length).toBe(String(counter).length + 65_536);
      previous = counter;
    }
    await store.claim({ streamArn: "a", streamCreatedAt: "b" }, new Date());
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});
