/**
 * Child process for the checkpoint atomicity test: rewrites one shard's checkpoint as fast as it
 * can with a growing counter (padded so each write is large), continuing from the counter it
 * finds, until it is killed.
 */
import { CheckpointStore } from "#local/esm/checkpoint-store";

const dir = process.argv[2];
if (!dir) throw new Error("usage: checkpoint-writer.fixture.ts <dir>");
const store = new CheckpointStore(dir);
const padding = "9".repeat(64 * 1024);
const found = (await store.read("shardId-000000000000"))?.sequenceNumber;
const start = found ? Number(found.slice(0, found.length - padding.length)) + 1 : 1;
for (let counter = start; ; counter++) {
  await store.write({
    shardId: "shardId-000000000000",
    sequenceNumber: `${counter}${padding}`,
    shardFinished: false,
    updatedAt: new Date().toISOString(),
  });
  if (counter === start) process.stdout.write("writing\n");
}
