import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from "@aws-sdk/client-kinesis";
import { OUTBOX_FILE_PATTERN } from "#shared/adapters/outbox-alert-publisher";
import type { SnsPublishInput } from "#shared/adapters/sns-publish-input";

/** Every record of a stream from TRIM_HORIZON, per shard in sequence order. */
export async function readWholeStream(
  kinesis: KinesisClient,
  streamName: string,
): Promise<Array<{ shardId: string; sequenceNumber: string; data: Uint8Array }>> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const out: Array<{ shardId: string; sequenceNumber: string; data: Uint8Array }> = [];
  for (const shard of shards) {
    const shardId = shard.ShardId ?? "";
    let iterator = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shardId,
          ShardIteratorType: "TRIM_HORIZON",
        }),
      )
    ).ShardIterator;
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? [])
        out.push({ shardId, sequenceNumber: r.SequenceNumber ?? "", data: r.Data ?? new Uint8Array() });
      if ((page.Records ?? []).length === 0 && !page.MillisBehindLatest) break;
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

/** The documents of the local audit sink's `_bulk` NDJSON files, by `_id`, every copy kept. */
export function readAuditFiles(dir: string): Map<string, Array<{ index: string; document: unknown }>> {
  const byId = new Map<string, Array<{ index: string; document: unknown }>>();
  if (!existsSync(dir)) return byId;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ndjson"))) {
    const lines = readFileSync(join(dir, file), "utf8").split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? "";
      if (line.trim() === "") continue;
      const action = JSON.parse(line) as { create?: { _index: string; _id: string } };
      if (!action.create) throw new Error(`${file}:${i + 1} is not a create action`);
      const document = JSON.parse(lines[++i] ?? "") as unknown;
      const list = byId.get(action.create._id) ?? [];
      list.push({ index: action.create._index, document });
      byId.set(action.create._id, list);
    }
  }
  return byId;
}

/** One file of the local alert outbox. */
export interface OutboxAlert {
  readonly file: string;
  /** The message id the publisher returned (the file name's last part). */
  readonly messageId: string;
  /** When it was written, from the file name (UTC, ms). */
  readonly writtenAt: number;
  readonly input: SnsPublishInput;
}

/** Every alert in the local outbox (`OUTBOX_FILE_PATTERN` files; temp files of a killed writer are ignored). */
export function readOutbox(dir: string): OutboxAlert[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => OUTBOX_FILE_PATTERN.test(f))
    .map((file) => {
      const stamp = file.slice(0, 19); // YYYYMMDDTHHMMSSmmmZ
      const writtenAt = Date.UTC(
        Number(stamp.slice(0, 4)),
        Number(stamp.slice(4, 6)) - 1,
        Number(stamp.slice(6, 8)),
        Number(stamp.slice(9, 11)),
        Number(stamp.slice(11, 13)),
        Number(stamp.slice(13, 15)),
        Number(stamp.slice(15, 18)),
      );
      return {
        file,
        messageId: file.slice(27, -".json".length),
        writtenAt,
        input: JSON.parse(readFileSync(join(dir, file), "utf8")) as SnsPublishInput,
      };
    });
}

/** The NDJSON lines of an on-failure destination file (empty when nothing was discarded). */
export function readFailures(file: string): unknown[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as unknown);
}
