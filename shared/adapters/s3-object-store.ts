import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { type AwsEnv, clientConfig, configuredEndpoint } from "#shared/adapters/aws-clients";
import type { ObjectStore, PutObjectOptions, StoredObject } from "#shared/ports/object-store";

/**
 * The S3 client; endpoint, region and credentials from the SDK's standard configuration. An
 * endpoint other than AWS's (LocalStack, a local server) is addressed path-style
 * (`http://host/bucket/key`), which is what those speak.
 */
export function createS3Client(env: AwsEnv = process.env, maxAttempts = 5): S3Client {
  const custom = configuredEndpoint("S3", env) !== undefined;
  return new S3Client({
    ...clientConfig("S3", env),
    ...(custom ? { forcePathStyle: true } : {}),
    maxAttempts,
  });
}

/**
 * Objects in one S3 bucket. Writes rely on the bucket's default encryption (SSE-KMS with the
 * stack's key, see infra/constructs/event-archive.ts); the SDK retries throttling and 5xx itself.
 */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: Uint8Array, options: PutObjectOptions = {}): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.byteLength,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
      }),
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!response.Body) return new Uint8Array();
      return await response.Body.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      if (error instanceof S3ServiceException && error.name === "NoSuchKey") return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield { key: object.Key, size: object.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}
