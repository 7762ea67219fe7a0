import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Writes `content` to `path` so that a reader (or a process restarted after SIGKILL or a power
 * cut) sees either the old file or the new one, never a mix: write a temporary file in the same
 * directory, fsync it, rename it over the target, then fsync the directory so the rename itself
 * is durable.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const file = await open(temp, "wx", 0o644);
  try {
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}

/** Where one shard of one mapping has got to. */
export interface ShardCheckpoint {
  readonly shardId: string;
  /** Last sequence number whose processing (or failure handling) finished; resume after it. */
  readonly sequenceNumber?: string;
  /** The shard is closed and every record of it is done: its children may start. */
  readonly shardFinished: boolean;
  readonly updatedAt: string;
}

/** What a mapping's checkpoints belong to, so checkpoints of a deleted and recreated stream are not reused. */
export interface MappingIdentity {
  readonly streamArn: string;
  /** `StreamCreationTimestamp` of the stream, ISO-8601. */
  readonly streamCreatedAt: string;
  /** When the mapping was first started: `LATEST` means records that arrived from then on. */
  readonly mappingCreatedAt: string;
}

const MAPPING_FILE = "mapping.json";

/**
 * Checkpoints of one event source mapping, one JSON file per shard in `dir`, each replaced
 * atomically. Only the mapping's own poller writes them, one shard at a time.
 */
export class CheckpointStore {
  constructor(readonly dir: string) {}

  /** The identity recorded when the mapping first ran, or undefined. */
  async readIdentity(): Promise<MappingIdentity | undefined> {
    return await readJson<MappingIdentity>(join(this.dir, MAPPING_FILE));
  }

  /**
   * Makes the store belong to the stream `identity` describes. If the recorded stream differs
   * (the stream was deleted and created again), the old checkpoints are removed: their sequence
   * numbers mean nothing in the new stream. Returns the identity in force and whether old
   * checkpoints were dropped.
   */
  async claim(
    stream: Omit<MappingIdentity, "mappingCreatedAt">,
    now: Date,
  ): Promise<{ identity: MappingIdentity; reset: boolean }> {
    await mkdir(this.dir, { recursive: true });
    await this.removeTemporaryFiles();
    const current = await this.readIdentity();
    if (
      current &&
      current.streamArn === stream.streamArn &&
      current.streamCreatedAt === stream.streamCreatedAt
    ) {
      return { identity: current, reset: false };
    }
    const reset = current !== undefined;
    if (reset) {
      for (const name of await readdir(this.dir)) await rm(join(this.dir, name), { force: true });
    }
    const identity: MappingIdentity = { ...stream, mappingCreatedAt: now.toISOString() };
    await writeFileAtomic(join(this.dir, MAPPING_FILE), `${JSON.stringify(identity, null, 2)}\n`);
    return { identity, reset };
  }

  /** The checkpoint of a shard, or undefined when the shard has none yet. */
  async read(shardId: string): Promise<ShardCheckpoint | undefined> {
    return await readJson<ShardCheckpoint>(this.path(shardId));
  }

  /** Durably records a shard's checkpoint. */
  async write(checkpoint: ShardCheckpoint): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.path(checkpoint.shardId), `${JSON.stringify(checkpoint)}\n`);
  }

  private path(shardId: string): string {
    return join(this.dir, `${shardId.replaceAll(/[^A-Za-z0-9_.-]/g, "_")}.json`);
  }

  /** Temporary files a killed writer left behind; the target files are intact. */
  private async removeTemporaryFiles(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      if (name.startsWith(".") && name.endsWith(".tmp")) await rm(join(this.dir, name), { force: true });
    }
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return JSON.parse(text) as T;
}
