import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import type { ObjectStore, StoredObject } from "#shared/ports/object-store";

/** A key that cannot name a file under the store's directory. */
export class ObjectKeyError extends Error {
  override readonly name = "ObjectKeyError";
}

/**
 * Objects as files under one directory, the key being the relative path: the local stack's stand-in
 * for the archive bucket, with the same keys. A write goes to a temporary file renamed into place,
 * so a reader never sees half an object.
 */
export class FileObjectStore implements ObjectStore {
  private readonly root: string;

  constructor(directory: string) {
    this.root = resolve(directory);
  }

  /** The file of a key; refuses keys that would leave the directory or name it. */
  private pathOf(key: string): string {
    if (
      key === "" ||
      key.startsWith("/") ||
      key.split("/").some((part) => part === "" || part === "." || part === "..")
    )
      throw new ObjectKeyError(`not an object key: ${JSON.stringify(key)}`);
    const path = resolve(this.root, key);
    if (!path.startsWith(`${this.root}${sep}`))
      throw new ObjectKeyError(`not an object key: ${JSON.stringify(key)}`);
    return path;
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomUUID()}.partial`;
    await writeFile(temporary, body);
    await rename(temporary, path);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.pathOf(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    // Only the directories the prefix can reach are walked.
    const slash = prefix.lastIndexOf("/");
    const base = slash < 0 ? "" : prefix.slice(0, slash + 1);
    const keys: StoredObject[] = [];
    const walk = async (relative: string): Promise<void> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await readdir(join(this.root, relative), { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw error;
      }
      for (const entry of entries) {
        const key = `${relative}${entry.name}`;
        if (entry.isDirectory()) {
          if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(`${key}/`);
        } else if (entry.isFile() && key.startsWith(prefix) && !key.endsWith(".partial")) {
          keys.push({ key, size: (await stat(join(this.root, key))).size });
        }
      }
    };
    await walk(base);
    keys.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
    yield* keys;
  }
}
