import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local HTTP server speaking the SNS Query protocol (the wire protocol of the AWS SDK's SNS
 * client): `Action=Publish` and `Action=PublishBatch`, form-encoded, answered with SNS's XML,
 * including `ErrorResponse` documents for throttling and per-entry failures in `PublishBatch`.
 * Tests script failures; everything accepted is recorded as SNS would deliver it.
 */

/** A message as published (one Publish, or one entry of a PublishBatch). */
export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly message: string;
  readonly subject?: string;
  readonly attributes: Readonly<Record<string, { readonly dataType: string; readonly value: string }>>;
  readonly action: "Publish" | "PublishBatch";
}

/** What a test can make the server do with one request or entry. */
export type EntryFailure = {
  readonly code: string;
  readonly message?: string;
  readonly senderFault: boolean;
};

export interface FakeSns {
  /** `http://127.0.0.1:<port>`: give it to the SDK as `endpoint` or `AWS_ENDPOINT_URL_SNS`. */
  readonly endpoint: string;
  readonly published: PublishedMessage[];
  /** Every request's Action, in order. */
  readonly actions: string[];
  /** Requests that carried an AWS SigV4 Authorization header. */
  signedRequests: number;
  /** The next `n` requests are answered with `Throttling` (HTTP 400, as SNS does). */
  throttleNext(n: number): void;
  /** Decides per PublishBatch entry (and Publish) whether it fails; called with the message text. */
  failEntry: ((message: string) => EntryFailure | undefined) | undefined;
  close(): Promise<void>;
}

// date-safe: the SNS API version in its XML namespace, not a time.
const NS = "http://sns.amazonaws.com/doc/2010-03-31/";

const xmlEscape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function errorXml(type: "Sender" | "Receiver", code: string, message: string): string {
  return `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

/** `prefix.member.N.rest` or `prefix.entry.N.rest` keys of a Query request, grouped by N. */
function members(params: URLSearchParams, prefix: string): Map<number, Map<string, string>> {
  const out = new Map<number, Map<string, string>>();
  for (const [key, value] of params) {
    const m = new RegExp(`^${prefix.replace(/\./g, "\\.")}\\.(?:member|entry)\\.(\\d+)\\.(.+)$`).exec(key);
    if (!m) continue;
    const n = Number(m[1]);
    const group = out.get(n) ?? new Map<string, string>();
    group.set(m[2] as string, value);
    out.set(n, group);
  }
  return out;
}

function attributesOf(fields: Map<string, string> | URLSearchParams): PublishedMessage["attributes"] {
  const params = new URLSearchParams([...fields.entries()]);
  const attrs: Record<string, { dataType: string; value: string }> = {};
  for (const entry of members(params, "MessageAttributes").values()) {
    const name = entry.get("Name");
    if (name)
      attrs[name] = {
        dataType: entry.get("Value.DataType") ?? "",
        value: entry.get("Value.StringValue") ?? "",
      };
  }
  return attrs;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts the server on a free loopback port. */
export async function startFakeSns(): Promise<FakeSns> {
  let throttle = 0;
  const fake: FakeSns = {
    endpoint: "",
    published: [],
    actions: [],
    signedRequests: 0,
    throttleNext(n) {
      throttle = n;
    },
    failEntry: undefined,
    close: async () => {},
  };
  const server: Server = createServer(async (req, res) => {
    const params = new URLSearchParams(await readBody(req));
    const action = params.get("Action") ?? "";
    fake.actions.push(action);
    if (String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) fake.signedRequests++;
    const reply = (status: number, xml: string) => {
      res.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": randomUUID() });
      res.end(xml);
    };
    if (throttle > 0) {
      throttle--;
      reply(400, errorXml("Sender", "Throttling", "Rate exceeded"));
      return;
    }
    const topicArn = params.get("TopicArn") ?? "";
    if (action === "Publish") {
      const message = params.get("Message") ?? "";
      const failure = fake.failEntry?.(message);
      if (failure) {
        reply(
          failure.senderFault ? 400 : 500,
          errorXml(
            failure.senderFault ? "Sender" : "Receiver",
            failure.code,
            failure.message ?? failure.code,
          ),
        );
        return;
      }
      const messageId = randomUUID();
      const subject = params.get("Subject");
      fake.published.push({
        messageId,
        topicArn,
        message,
        ...(subject !== null ? { subject } : {}),
        attributes: attributesOf(params),
        action: "Publish",
      });
      reply(
        200,
        `<PublishResponse xmlns="${NS}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
      );
      return;
    }
    if (action === "PublishBatch") {
      const entries = [...members(params, "PublishBatchRequestEntries").entries()].sort(([a], [b]) => a - b);
      if (entries.length > 10) {
        reply(400, errorXml("Sender", "TooManyEntriesInBatchRequest", "at most 10 entries"));
        return;
      }
      const ok: string[] = [];
      const failed: string[] = [];
      for (const [, entry] of entries) {
        const id = entry.get("Id") ?? "";
        const message = entry.get("Message") ?? "";
        const failure = fake.failEntry?.(message);
        if (failure) {
          failed.push(
            `<member><Id>${xmlEscape(id)}</Id><Code>${failure.code}</Code><Message>${xmlEscape(failure.message ?? failure.code)}</Message><SenderFault>${failure.senderFault}</SenderFault></member>`,
          );
          continue;
        }
        const messageId = randomUUID();
        const subject = entry.get("Subject");
        fake.published.push({
          messageId,
          topicArn,
          message,
          ...(subject !== undefined ? { subject } : {}),
          attributes: attributesOf(entry),
          action: "PublishBatch",
        });
        ok.push(`<member><Id>${xmlEscape(id)}</Id><MessageId>${messageId}</MessageId></member>`);
      }
      reply(
        200,
        `<PublishBatchResponse xmlns="${NS}"><PublishBatchResult><Successful>${ok.join("")}</Successful><Failed>${failed.join("")}</Failed></PublishBatchResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishBatchResponse>`,
      );
      return;
    }
    reply(400, errorXml("Sender", "InvalidAction", `unsupported action ${action}`));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
