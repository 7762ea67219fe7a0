import { Agent, createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type Answer, forwarder, listenOnLoopback } from "#local/fault-proxy";

/**
 * A loopback proxy in front of Kinesis Mock that serves each PutRecords call as one PutRecord
 * call per entry, in the entries' order, and answers in PutRecords' format; every other call is
 * forwarded unchanged (docs/crash-test.md, "Kinesis Mock's PutRecords").
 *
 * Why: Kinesis Mock (kinesis-local 0.6.2) groups a PutRecords call's entries by the pair (shard,
 * every record already on that shard), so each entry hashes the shard's whole record vector: an
 * entry costs time proportional to the records on its shard, and a run that puts n records on a
 * shard costs n²/2 record hashes. Measured on this machine (`npm run bench:kinesis-mock`): at
 * 20,000 records on a shard a PutRecords entry costs several times a PutRecord, and the gap
 * grows with the shard. PutRecord appends without that grouping. At the full crash-test size
 * (110,833 events and about 110,000 decisions on two shards each) the engine spent most of the
 * run inside PutRecords.
 *
 * What changes for the caller: nothing in the format, and nothing a real PutRecords promises.
 * PutRecords is not atomic on AWS either: each entry succeeds or fails on its own, the entries of
 * one partition key keep their order, and the answer lists one result per entry in order. Here:
 * - an entry whose PutRecord is answered with a throttling or server error gets that error as
 *   its entry result (ErrorCode, ErrorMessage), as PutRecords reports throttled entries;
 * - a call error on the first entry (no such stream, a malformed request) is the whole call's
 *   answer, as it would be for PutRecords, since nothing was written;
 * - a call error on a later entry (for example a record over the size limit) becomes that entry's
 *   result, so the entries before it stay written and are reported as such.
 */
export interface PutRecordsSplitter {
  readonly endpoint: string;
  /** PutRecords calls served by splitting, and the entries they carried. */
  stats(): { readonly putRecordsCalls: number; readonly entries: number; readonly forwarded: number };
  close(): Promise<void>;
}

const PREFIX = "Kinesis_20131202.";
/** Entry-level error codes of PutRecords (the others are errors of the whole call). */
const ENTRY_ERRORS = /ProvisionedThroughputExceeded|InternalFailure|KMS|ServiceUnavailable|Throttl/;

interface PutRecordsEntry {
  readonly Data?: string;
  readonly PartitionKey?: string;
  readonly ExplicitHashKey?: string;
}

/** Starts the splitter on a free loopback port in front of the Kinesis endpoint `target`. */
export async function startPutRecordsSplitter(options: {
  readonly target: string;
}): Promise<PutRecordsSplitter> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const forward = forwarder(new URL(options.target), agent);
  let putRecordsCalls = 0;
  let entries = 0;
  let forwarded = 0;

  const split = async (req: IncomingMessage, body: Buffer): Promise<Answer> => {
    const payload = JSON.parse(body.toString("utf8")) as {
      StreamName?: string;
      StreamARN?: string;
      Records?: PutRecordsEntry[];
    };
    const records = payload.Records ?? [];
    // Nothing to split: let the engine validate the call (an empty or absent list is its error).
    if (records.length === 0) return forward(req, body);
    putRecordsCalls++;
    entries += records.length;
    const headers = { ...req.headers, "x-amz-target": `${PREFIX}PutRecord` };
    const stream = {
      ...(payload.StreamName !== undefined ? { StreamName: payload.StreamName } : {}),
      ...(payload.StreamARN !== undefined ? { StreamARN: payload.StreamARN } : {}),
    };
    const results: Record<string, string>[] = [];
    let failed = 0;
    let encryptionType: string | undefined;
    let last: Answer | undefined;
    for (const [i, record] of records.entries()) {
      const answer = await forward(
        { method: req.method, url: req.url, headers },
        Buffer.from(JSON.stringify({ ...stream, ...record })),
      );
      last = answer;
      if (answer.status === 200) {
        const put = JSON.parse(answer.body.toString("utf8")) as {
          SequenceNumber: string;
          ShardId: string;
          EncryptionType?: string;
        };
        encryptionType ??= put.EncryptionType;
        results.push({ SequenceNumber: put.SequenceNumber, ShardId: put.ShardId });
        continue;
      }
      const error = errorOf(answer);
      const entryError = answer.status >= 500 || ENTRY_ERRORS.test(error.code);
      if (i === 0 && !entryError) return answer;
      failed++;
      results.push({ ErrorCode: error.code, ErrorMessage: error.message });
    }
    const out = Buffer.from(
      JSON.stringify({
        FailedRecordCount: failed,
        Records: results,
        ...(encryptionType ? { EncryptionType: encryptionType } : {}),
      }),
    );
    const { "x-amzn-errortype": _type, ...lastHeaders } = last?.headers ?? {};
    return {
      status: 200,
      headers: { ...lastHeaders, "content-type": "application/x-amz-json-1.1" },
      body: out,
    };
  };

  const send = (res: ServerResponse, answer: Answer) => {
    res.writeHead(answer.status, { ...answer.headers, "content-length": String(answer.body.length) });
    res.end(answer.body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        try {
          if (req.headers["x-amz-target"] === `${PREFIX}PutRecords`) send(res, await split(req, body));
          else {
            forwarded++;
            send(res, await forward(req, body));
          }
        } catch {
          // The engine is unreachable (or answered what is not JSON): the caller sees a broken
          // connection, as it would without the proxy, and retries.
          req.socket.destroy();
        }
      })();
    });
  });
  const listening = await listenOnLoopback(server);
  return {
    endpoint: listening.endpoint,
    stats: () => ({ putRecordsCalls, entries, forwarded }),
    close: () => {
      agent.destroy();
      return listening.close();
    },
  };
}

/** The error type and message of a JSON-protocol error answer. */
function errorOf(answer: Answer): { code: string; message: string } {
  let parsed: { __type?: string; message?: string; Message?: string } = {};
  try {
    parsed = JSON.parse(answer.body.toString("utf8")) as typeof parsed;
  } catch {
    // Not JSON: fall back to the status.
  }
  const type = parsed.__type ?? answer.headers["x-amzn-errortype"] ?? `HTTP ${answer.status}`;
  return {
    code: type.slice(type.lastIndexOf("#") + 1).split(":", 1)[0] ?? type,
    message: parsed.message ?? parsed.Message ?? "",
  };
}
