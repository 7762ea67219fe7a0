import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { crc32 } from "node:zlib";

/**
 * A fault-injecting HTTP proxy for the local stack (docs/crash-test.md, "The fault-injection
 * test"). It sits between the functions and one service endpoint (DynamoDB Local, Kinesis Mock,
 * an SNS or OpenSearch wire server), forwards requests unchanged, and answers a seeded fraction
 * of them with what the real service does when it is overloaded or broken: its throttling error
 * (the real error body and status), a 5xx, a request that stalls and is then dropped, a
 * connection reset before or after the request reached the service, or, for the batch calls, a
 * partial failure (PutRecords entries rejected with ProvisionedThroughputExceededException,
 * BatchGetItem keys returned unprocessed).
 */

/** The services the proxy knows the error formats of. */
export type FaultService = "dynamodb" | "kinesis" | "sns" | "opensearch";

/** The kinds of fault, in the order {@link FaultProxyStats.faults} lists them. */
export const FAULT_KINDS = [
  "throttle",
  "serverError",
  "timeout",
  "resetBeforeForward",
  "resetAfterForward",
  "partialBatch",
] as const;

/**
 * - `throttle`: the service's throttling error (DynamoDB ProvisionedThroughputExceededException or
 *   ThrottlingException, 400; Kinesis ProvisionedThroughputExceededException / LimitExceededException,
 *   400; SNS Throttling, 400; OpenSearch es_rejected_execution_exception, 429). Not forwarded.
 * - `serverError`: the service's 500 or 503. Not forwarded.
 * - `timeout`: no answer for `stallMs`, then the connection is closed. Not forwarded.
 * - `resetBeforeForward`: the connection is reset at once. Not forwarded.
 * - `resetAfterForward`: forwarded, the service's answer read, then the connection reset: the
 *   request took effect and the caller cannot know.
 * - `partialBatch`: PutRecords and BatchGetItem only: some entries are held back and answered as
 *   the service answers entries it throttles; the rest are forwarded.
 */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  readonly service: FaultService;
  /** The real endpoint, `http://host:port`. */
  readonly target: string;
  /** Fraction of requests that get a fault, in [0, 1]. */
  readonly rate: number;
  /**
   * Seed of the draws of which requests get a fault: the same seed faults the same positions of
   * the same request sequence. The kind of each fault is the next, in turn, of the kinds that
   * apply to the request, so that every kind occurs once a few faults were injected.
   */
  readonly seed: number;
  /** How long a `timeout` fault holds a request before closing the connection. Default 2,000 ms. */
  readonly stallMs?: number;
  /** The kinds to draw from (those that do not apply to a request are skipped). Default: all. */
  readonly kinds?: readonly FaultKind[];
}

/** What a proxy did so far. */
export interface FaultProxyStats {
  readonly requests: number;
  /** Requests that reached the service (forwarded whole, or in part for `partialBatch`). */
  readonly forwarded: number;
  /** Faults injected, by kind. */
  readonly faults: Readonly<Record<FaultKind, number>>;
  /** Requests and faults by operation (`PutItem`, `PutRecords`, `Publish`, `POST _bulk`, ...). */
  readonly operations: Readonly<Record<string, { readonly requests: number; readonly faults: number }>>;
}

/** A running proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: what the functions' `AWS_ENDPOINT_URL_<SERVICE>` points at. */
  readonly endpoint: string;
  readonly service: FaultService;
  stats(): FaultProxyStats;
  /** Changes the fault rate for the requests that follow (0: a transparent proxy). */
  setRate(rate: number): void;
  /** Stops accepting connections and closes the open ones. */
  close(): Promise<void>;
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** The parts of a request a forwarder sends on: method, path and headers (the body is separate). */
export type RequestHead = Pick<IncomingMessage, "method" | "url" | "headers">;

/**
 * A function that sends a request to `target` with the caller's method, path and headers (hop
 * headers dropped, the length set to the body's) and reads the whole answer.
 */
export function forwarder(target: URL, agent: Agent): (req: RequestHead, body: Buffer) => Promise<Answer> {
  return (req, body) =>
    new Promise((resolve, reject) => {
      const headers: IncomingHttpHeaders = { ...req.headers, "content-length": String(body.length) };
      delete headers.connection;
      delete headers["keep-alive"];
      delete headers["transfer-encoding"];
      const upstream = request(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers,
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const out: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) {
              if (
                value === undefined ||
                ["connection", "keep-alive", "transfer-encoding", "content-length"].includes(name)
              )
                continue;
              out[name] = Array.isArray(value) ? value.join(", ") : value;
            }
            resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
          });
          res.on("error", reject);
        },
      );
      upstream.on("error", reject);
      upstream.end(body);
    });
}

const json = (
  status: number,
  contentType: string,
  body: unknown,
  extra: Record<string, string> = {},
): Answer => ({
  status,
  headers: { "content-type": contentType, ...extra },
  body: Buffer.from(JSON.stringify(body)),
});

const requestId = (draw: () => number) =>
  Array.from({ length: 32 }, () => "0123456789ABCDEF"[Math.floor(draw() * 16)]).join("");

/** The service's own answer for a throttled or failed request (status, headers, body). */
function errorAnswer(
  service: FaultService,
  kind: "throttle" | "serverError",
  operation: string,
  draw: () => number,
): Answer {
  const id = requestId(draw);
  const second = draw() < 0.5;
  switch (service) {
    case "dynamodb": {
      const type = "application/x-amz-json-1.0";
      const headers = { "x-amzn-requestid": id };
      if (kind === "throttle") {
        return second
          ? json(
              400,
              type,
              {
                __type: "com.amazon.coral.availability#ThrottlingException",
                message: "Rate of requests exceeds the allowed throughput.",
              },
              headers,
            )
          : json(
              400,
              type,
              {
                __type: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                message:
                  "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
              },
              headers,
            );
      }
      return second
        ? json(
            503,
            type,
            {
              __type: "com.amazonaws.dynamodb.v20120810#ServiceUnavailableException",
              message: "Service unavailable",
            },
            headers,
          )
        : json(
            500,
            type,
            {
              __type: "com.amazonaws.dynamodb.v20120810#InternalServerError",
              message: "Internal server error",
            },
            headers,
          );
    }
    case "kinesis": {
      const type = "application/x-amz-json-1.1";
      const headers = { "x-amzn-requestid": id };
      if (kind === "throttle") {
        // Data-plane calls are throttled per shard; control-plane calls by the account's call rate.
        return ["PutRecord", "PutRecords", "GetRecords"].includes(operation)
          ? json(
              400,
              type,
              {
                __type: "ProvisionedThroughputExceededException",
                message: "Rate exceeded for shard shardId-000000000000 in stream under account 000000000000.",
              },
              headers,
            )
          : json(
              400,
              type,
              {
                __type: "LimitExceededException",
                message: "Rate exceeded for stream under account 000000000000.",
              },
              headers,
            );
      }
      return second
        ? json(503, type, { __type: "ServiceUnavailable", message: "Service Unavailable" }, headers)
        : json(500, type, { __type: "InternalFailure", message: "Internal service failure." }, headers);
    }
    case "sns": {
      const [status, type, code, message] =
        kind === "throttle"
          ? [400, "Sender", "Throttling", "Rate exceeded"]
          : second
            ? [503, "Receiver", "ServiceUnavailable", "Service is unavailable"]
            : [500, "Receiver", "InternalError", "Internal Error"];
      return {
        status,
        headers: { "content-type": "text/xml", "x-amzn-requestid": id },
        body: Buffer.from(
          `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`,
        ),
      };
    }
    case "opensearch": {
      const type = "application/json; charset=UTF-8";
      if (kind === "throttle") {
        const cause = {
          type: "es_rejected_execution_exception",
          reason:
            "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=0, max_coordinating_and_primary_bytes=0]",
        };
        return json(429, type, { error: { root_cause: [cause], ...cause }, status: 429 });
      }
      const cause = {
        type: "cluster_block_exception",
        reason: "blocked by: [SERVICE_UNAVAILABLE/2/no master];",
      };
      return json(503, type, { error: { root_cause: [cause], ...cause }, status: 503 });
    }
  }
}

/** Entries of a batch call that a partial failure could split (0 for any other call). */
function batchEntries(service: FaultService, operation: string, body: Buffer): number {
  if (!PARTIAL_OPERATIONS[service].includes(operation)) return 0;
  try {
    const payload = JSON.parse(body.toString("utf8")) as {
      Records?: unknown[];
      RequestItems?: Record<string, { Keys?: unknown[] }>;
    };
    if (operation === "PutRecords") return payload.Records?.length ?? 0;
    return Object.values(payload.RequestItems ?? {}).reduce((n, t) => n + (t.Keys?.length ?? 0), 0);
  } catch {
    return 0;
  }
}

/** The operation a request calls, for the stats and for which faults apply. */
function operationOf(service: FaultService, req: IncomingMessage, body: Buffer): string {
  if (service === "dynamodb" || service === "kinesis") {
    const target = String(req.headers["x-amz-target"] ?? "");
    return target.slice(target.indexOf(".") + 1) || "unknown";
  }
  if (service === "sns") return new URLSearchParams(body.toString("utf8")).get("Action") ?? "unknown";
  const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
  return `${req.method ?? "GET"} ${path.split("/").find((p) => p.startsWith("_")) ?? "document"}`;
}

const PARTIAL_OPERATIONS: Readonly<Record<FaultService, readonly string[]>> = {
  dynamodb: ["BatchGetItem"],
  kinesis: ["PutRecords"],
  sns: [],
  opensearch: [],
};

/**
 * Starts a proxy on a free loopback port in front of `target` (see the module comment). Every
 * request is read whole before it is forwarded, so a fault never leaves half a request at the
 * service.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const draw = random(options.seed);
  const stallMs = options.stallMs ?? 2000;
  const kinds = options.kinds ?? FAULT_KINDS;
  let rate = options.rate;
  let turn = 0;
  /** Kinds whose turn came on a request they do not apply to: the next request they apply to gets them. */
  const owed: FaultKind[] = [];
  let requests = 0;
  let forwarded = 0;
  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const operations: Record<string, { requests: number; faults: number }> = {};
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const stalls = new Set<NodeJS.Timeout>();

  const forward = forwarder(target, agent);

  /** Forwards part of a batch call and answers the rest as throttled entries. */
  const forwardPartially = async (
    req: IncomingMessage,
    body: Buffer,
    operation: string,
  ): Promise<Answer | undefined> => {
    const payload = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
    if (operation === "PutRecords") {
      const records = (payload.Records ?? []) as unknown[];
      if (records.length < 2) return undefined;
      const held = new Set<number>();
      for (let i = 0; i < records.length; i++) if (draw() < 0.3) held.add(i);
      if (held.size === 0) held.add(Math.floor(draw() * records.length));
      if (held.size === records.length) held.delete(0);
      const sent = records.filter((_, i) => !held.has(i));
      const answer = await forward(req, Buffer.from(JSON.stringify({ ...payload, Records: sent })));
      if (answer.status !== 200) return answer;
      const result = JSON.parse(answer.body.toString("utf8")) as {
        FailedRecordCount?: number;
        Records?: unknown[];
      };
      const upstreamResults = [...(result.Records ?? [])];
      const merged = records.map((_, i) =>
        held.has(i)
          ? {
              ErrorCode: "ProvisionedThroughputExceededException",
              ErrorMessage:
                "Rate exceeded for shard shardId-000000000000 in stream under account 000000000000.",
            }
          : upstreamResults.shift(),
      );
      return reencode(answer, {
        ...result,
        FailedRecordCount: (result.FailedRecordCount ?? 0) + held.size,
        Records: merged,
      });
    }
    // BatchGetItem: some keys come back in UnprocessedKeys, as DynamoDB does when throttled.
    const requestItems = (payload.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>;
    const total = Object.values(requestItems).reduce((n, t) => n + (t.Keys?.length ?? 0), 0);
    if (total < 2) return undefined;
    const kept: Record<string, unknown> = {};
    const unprocessed: Record<string, unknown> = {};
    let keptCount = 0;
    for (const [table, spec] of Object.entries(requestItems)) {
      const keys = spec.Keys ?? [];
      const mine = keys.filter(() => draw() >= 0.3);
      const rest = keys.filter((k) => !mine.includes(k));
      if (mine.length > 0) kept[table] = { ...spec, Keys: mine };
      if (rest.length > 0) unprocessed[table] = { ...spec, Keys: rest };
      keptCount += mine.length;
    }
    if (keptCount === 0 || Object.keys(unprocessed).length === 0) return undefined;
    const answer = await forward(req, Buffer.from(JSON.stringify({ ...payload, RequestItems: kept })));
    if (answer.status !== 200) return answer;
    const result = JSON.parse(answer.body.toString("utf8")) as {
      UnprocessedKeys?: Record<string, { Keys?: unknown[] }>;
    };
    const merged: Record<string, { Keys?: unknown[] }> = { ...(result.UnprocessedKeys ?? {}) };
    for (const [table, spec] of Object.entries(unprocessed) as Array<[string, { Keys?: unknown[] }]>) {
      const already = merged[table]?.Keys ?? [];
      merged[table] = { ...spec, Keys: [...already, ...(spec.Keys ?? [])] };
    }
    return reencode(answer, { ...result, UnprocessedKeys: merged });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const operation = operationOf(options.service, req, body);
        requests++;
        const op = operations[operation] ?? { requests: 0, faults: 0 };
        operations[operation] = op;
        op.requests++;
        const splittable = batchEntries(options.service, operation, body) >= 2;
        const applicable = kinds.filter((k) => k !== "partialBatch" || splittable);
        let kind: FaultKind | undefined;
        if (applicable.length > 0 && draw() < rate) {
          const due = owed.findIndex((k) => applicable.includes(k));
          if (due >= 0) kind = owed.splice(due, 1)[0];
          // Otherwise the next kind in turn that applies here; those passed over are owed.
          for (let i = 0; i < kinds.length && !kind; i++) {
            const candidate = kinds[turn++ % kinds.length];
            if (!candidate) continue;
            if (applicable.includes(candidate)) kind = candidate;
            else if (!owed.includes(candidate)) owed.push(candidate);
          }
        }
        const injected = (k: FaultKind) => {
          faults[k]++;
          op.faults++;
        };
        const send = (answer: Answer) => {
          res.writeHead(answer.status, { ...answer.headers, "content-length": String(answer.body.length) });
          res.end(answer.body);
        };
        try {
          switch (kind) {
            case "throttle":
            case "serverError":
              injected(kind);
              send(errorAnswer(options.service, kind, operation, draw));
              return;
            case "timeout": {
              injected(kind);
              const timer = setTimeout(() => {
                stalls.delete(timer);
                req.socket.destroy();
              }, stallMs);
              stalls.add(timer);
              return;
            }
            case "resetBeforeForward":
              injected(kind);
              req.socket.destroy();
              return;
            case "resetAfterForward": {
              await forward(req, body);
              forwarded++;
              injected(kind);
              req.socket.destroy();
              return;
            }
            case "partialBatch": {
              const answer = await forwardPartially(req, body, operation);
              forwarded++;
              if (answer) {
                injected(kind);
                send(answer);
                return;
              }
              // Too few entries to split: a plain forward, no fault.
              send(await forward(req, body));
              return;
            }
            default:
              forwarded++;
              send(await forward(req, body));
          }
        } catch {
          // The service itself is unreachable: the caller sees what it would see without the proxy.
          req.socket.destroy();
        }
      })();
    });
  });
  const listening = await listenOnLoopback(server);
  return {
    endpoint: listening.endpoint,
    service: options.service,
    stats: () => ({
      requests,
      forwarded,
      faults: { ...faults },
      operations: Object.fromEntries(Object.entries(operations).map(([k, v]) => [k, { ...v }])),
    }),
    setRate(next) {
      rate = next;
    },
    close: () => {
      for (const timer of stalls) clearTimeout(timer);
      agent.destroy();
      return listening.close();
    },
  };
}

/**
 * Listens with `server` on a free loopback port; `close` ends every open connection (keep-alive
 * ones included) and the server.
 */
export async function listenOnLoopback(
  server: Server,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An answer with a new JSON body, its length and (DynamoDB) its CRC32 header recomputed. */
function reencode(answer: Answer, value: unknown): Answer {
  const body = Buffer.from(JSON.stringify(value));
  const headers = { ...answer.headers };
  if (headers["x-amz-crc32"] !== undefined) headers["x-amz-crc32"] = String(crc32(body));
  return { status: answer.status, headers, body };
}
