/**
 * Objects by key, as S3 keeps them: the event archive writes here and backtests read here. On AWS
 * an S3 bucket; locally a directory with the same keys as paths.
 */

/** One stored object, as a listing names it. */
export interface StoredObject {
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
}

/** Options of a write. */
export interface PutObjectOptions {
  /** MIME type recorded with the object. */
  readonly contentType?: string;
}

/** Reading and writing whole objects. */
export interface ObjectStore {
  /** Writes (or replaces) the object at `key`. Throws when it could not be written. */
  put(key: string, body: Uint8Array, options?: PutObjectOptions): Promise<void>;
  /** The object's bytes, or undefined when there is no object at `key`. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Every object whose key starts with `prefix`, in ascending key order (UTF-8 byte order). */
  list(prefix: string): AsyncIterable<StoredObject>;
}
