import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { crc32 } from "node:zlib";

/**
 * A local HTTP server speaking the S3 REST protocol, path-style (`/<bucket>/<key>`), for the
 * operations Vigil's object store uses: PutObject, GetObject and ListObjectsV2 (prefix,
 * continuation tokens, `max-keys`), answered with S3's XML and its error documents (`NoSuchKey`,
 * `NoSuchBucket`, `SlowDown`, `BadDigest`, `XAmzContentSHA256Mismatch`, `InvalidArgument`). Request bodies in the SDK's
 * `aws-chunked` encoding with a trailing checksum are decoded and the checksum verified, as S3
 * does; stored objects answer GETs with their CRC32 so the SDK's response validation runs.
 * Tests script failures; every request is counted, signed ones apart.
 */

/** One stored object. */
export interface FakeObject {
  readonly body: Buffer;
  readonly contentType: string | undefined;
  /** Base64 CRC32 of the body. */
  readonly crc32: string;
  readonly etag: string;
}

export interface FakeS3 {
  /** `http://127.0.0.1:<port>`: give it to the SDK as `AWS_ENDPOINT_URL_S3`. */
  readonly endpoint: string;
  /** Objects by bucket, then key. */
  readonly buckets: Map<string, Map<string, FakeObject>>;
  /** Every request as `METHOD /path?query`, in order. */
  readonly requests: string[];
  /** Requests that carried an AWS SigV4 Authorization header. */
  signedRequests: number;
  /** Creates an empty bucket (requests to other buckets get NoSuchBucket). */
  createBucket(name: string): void;
  /** The next `n` requests are answered with `SlowDown` (HTTP 503). */
  slowDownNext(n: number): void;
  close(): Promise<void>;
}

const xmlEscape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function errorXml(code: string, message: string, resource: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource><RequestId>${randomUUID()}</RequestId></Error>`;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const crc32Base64 = (body: Buffer) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(body) >>> 0);
  return b.toString("base64");
};

/**
 * Decodes an `aws-chunked` body (`<hex size>[;chunk-signature=...]\r\n<data>\r\n ... 0\r\n` then
 * trailer lines) into its payload and trailers.
 */
function decodeAwsChunked(raw: Buffer): { payload: Buffer; trailers: Map<string, string> } {
  const parts: Buffer[] = [];
  const trailers = new Map<string, string>();
  let at = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", at);
    if (eol < 0) throw new Error("truncated chunk header");
    const size = Number.parseInt(raw.subarray(at, eol).toString("latin1").split(";")[0] ?? "", 16);
    if (!Number.isFinite(size)) throw new Error("bad chunk size");
    at = eol + 2;
    if (size === 0) break;
    parts.push(raw.subarray(at, at + size));
    at += size + 2;
  }
  for (const line of raw.subarray(at).toString("latin1").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { payload: Buffer.concat(parts), trailers };
}

/** Starts the server on a free loopback port. */
export async function startFakeS3(): Promise<FakeS3> {
  let slowDown = 0;
  const fake: FakeS3 = {
    endpoint: "",
    buckets: new Map(),
    requests: [],
    signedRequests: 0,
    createBucket(name) {
      if (!fake.buckets.has(name)) fake.buckets.set(name, new Map());
    },
    slowDownNext(n) {
      slowDown = n;
    },
    close: async () => {},
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    fake.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) fake.signedRequests++;
    const raw = await readBody(req);
    const reply = (status: number, body: string | Buffer, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        "x-amz-request-id": randomUUID(),
        ...(typeof body === "string" && body !== "" ? { "content-type": "application/xml" } : {}),
        ...headers,
      });
      res.end(body);
    };
    const fail = (status: number, code: string, message: string) =>
      reply(status, errorXml(code, message, url.pathname));

    if (slowDown > 0) {
      slowDown--;
      fail(503, "SlowDown", "Please reduce your request rate.");
      return;
    }
    const [, bucketName = "", ...keyParts] = url.pathname.split("/");
    const key = decodeURIComponent(keyParts.join("/"));
    const bucket = fake.buckets.get(decodeURIComponent(bucketName));
    if (!bucket) {
      fail(404, "NoSuchBucket", "The specified bucket does not exist");
      return;
    }

    if (req.method === "PUT" && key !== "") {
      let body = raw;
      let checksum = req.headers["x-amz-checksum-crc32"] as string | undefined;
      const chunked =
        String(req.headers["content-encoding"] ?? "").includes("aws-chunked") ||
        String(req.headers["x-amz-content-sha256"] ?? "").startsWith("STREAMING-");
      if (chunked) {
        try {
          const decoded = decodeAwsChunked(raw);
          body = decoded.payload;
          checksum ??= decoded.trailers.get("x-amz-checksum-crc32");
        } catch {
          fail(400, "IncompleteBody", "The request body could not be decoded");
          return;
        }
        const declared = Number(req.headers["x-amz-decoded-content-length"]);
        if (Number.isFinite(declared) && declared !== body.length) {
          fail(400, "IncompleteBody", "You did not provide the number of bytes specified");
          return;
        }
      }
      const declaredSha = String(req.headers["x-amz-content-sha256"] ?? "");
      if (
        /^[0-9a-f]{64}$/.test(declaredSha) &&
        declaredSha !== createHash("sha256").update(body).digest("hex")
      ) {
        fail(
          400,
          "XAmzContentSHA256Mismatch",
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
        );
        return;
      }
      const actual = crc32Base64(body);
      if (checksum !== undefined && checksum !== actual) {
        fail(400, "BadDigest", "The CRC32 you specified did not match the calculated checksum.");
        return;
      }
      const md5 = req.headers["content-md5"] as string | undefined;
      if (md5 !== undefined && md5 !== createHash("md5").update(body).digest("base64")) {
        fail(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
        return;
      }
      const etag = `"${createHash("md5").update(body).digest("hex")}"`;
      bucket.set(key, {
        body,
        contentType: req.headers["content-type"] as string | undefined,
        crc32: actual,
        etag,
      });
      reply(200, "", { etag, "x-amz-checksum-crc32": actual });
      return;
    }

    if (req.method === "GET" && key !== "") {
      const object = bucket.get(key);
      if (!object) {
        fail(404, "NoSuchKey", "The specified key does not exist.");
        return;
      }
      reply(200, object.body, {
        "content-type": object.contentType ?? "binary/octet-stream",
        "content-length": String(object.body.length),
        etag: object.etag,
        ...(req.headers["x-amz-checksum-mode"] === "ENABLED" ? { "x-amz-checksum-crc32": object.crc32 } : {}),
      });
      return;
    }

    if (req.method === "GET" && key === "" && url.searchParams.get("list-type") === "2") {
      const prefix = url.searchParams.get("prefix") ?? "";
      const maxKeys = Number(url.searchParams.get("max-keys") ?? "1000");
      if (!Number.isInteger(maxKeys) || maxKeys < 0) {
        fail(400, "InvalidArgument", "max-keys must be a non-negative integer");
        return;
      }
      const token = url.searchParams.get("continuation-token");
      const after =
        token === null
          ? (url.searchParams.get("start-after") ?? "")
          : Buffer.from(token, "base64").toString("utf8");
      const keys = [...bucket.keys()]
        .filter((k) => k.startsWith(prefix) && Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0)
        .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      const page = keys.slice(0, Math.min(maxKeys, 1000));
      const truncated = keys.length > page.length;
      const last = page[page.length - 1];
      const contents = page
        .map((k) => {
          const o = bucket.get(k) as FakeObject;
          return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${new Date().toISOString()}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
        })
        .join("");
      reply(
        200,
        // date-safe: the S3 XML namespace, not a date
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(bucketName)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${token !== null ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : ""}${truncated && last !== undefined ? `<NextContinuationToken>${Buffer.from(last).toString("base64")}</NextContinuationToken>` : ""}${contents}</ListBucketResult>`,
      );
      return;
    }
    fail(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { "content-type": "application/xml" });
      res.end(errorXml("InternalError", error instanceof Error ? error.message : "error", req.url ?? "/"));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
