import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local HTTP server speaking the CloudFormation Query protocol (the wire protocol of the AWS SDK's
 * CloudFormation client) for `Action=DescribeStacks`: form-encoded requests, answered with
 * CloudFormation's XML (`DescribeStacksResponse` with each stack's Outputs), and with its
 * `ErrorResponse` (`ValidationError`, HTTP 400) for a stack that does not exist. Tests register
 * stacks and their outputs; every request is recorded.
 */

/** One recorded request. */
export interface CloudFormationRequest {
  readonly action: string;
  readonly version: string;
  readonly stackName: string | undefined;
  readonly contentType: string;
  /** Whether it carried an AWS SigV4 Authorization header. */
  readonly signed: boolean;
}

export interface FakeCloudFormation {
  /** `http://127.0.0.1:<port>`: give it to the SDK as `AWS_ENDPOINT_URL_CLOUDFORMATION`. */
  readonly endpoint: string;
  readonly requests: CloudFormationRequest[];
  /** Adds or replaces a stack (status CREATE_COMPLETE) with its outputs. */
  putStack(name: string, outputs: Readonly<Record<string, string>>, region?: string): void;
  close(): Promise<void>;
}

// date-safe: the CloudFormation API version in the XML namespace, not a time
const NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

const xmlEscape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts the server on a free loopback port. */
export async function startFakeCloudFormation(): Promise<FakeCloudFormation> {
  const stacks = new Map<string, { id: string; outputs: Readonly<Record<string, string>> }>();
  const requests: CloudFormationRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const params = new URLSearchParams(await readBody(req));
    const action = params.get("Action") ?? "";
    const stackName = params.get("StackName") ?? undefined;
    requests.push({
      action,
      version: params.get("Version") ?? "",
      stackName,
      contentType: String(req.headers["content-type"] ?? ""),
      signed: String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 "),
    });
    const reply = (status: number, xml: string) => {
      res.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": randomUUID() });
      res.end(xml);
    };
    const error = (code: string, message: string) =>
      reply(
        400,
        `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
    if (action !== "DescribeStacks") {
      error("InvalidAction", `unsupported action ${action}`);
      return;
    }
    const stack = stackName === undefined ? undefined : stacks.get(stackName);
    if (!stack || stackName === undefined) {
      error("ValidationError", `Stack with id ${stackName ?? ""} does not exist`);
      return;
    }
    const outputs = Object.entries(stack.outputs)
      .map(
        ([key, value]) =>
          `<member><OutputKey>${xmlEscape(key)}</OutputKey><OutputValue>${xmlEscape(value)}</OutputValue><Description>${xmlEscape(key)}</Description></member>`,
      )
      .join("");
    reply(
      200,
      // date-safe: a stack creation time in a response body, stored nowhere
      `<DescribeStacksResponse xmlns="${NS}"><DescribeStacksResult><Stacks><member><StackId>${xmlEscape(stack.id)}</StackId><StackName>${xmlEscape(stackName)}</StackName><CreationTime>2026-01-01T00:00:00.000Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${outputs}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeStacksResponse>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    putStack(name, outputs, region = "eu-central-1") {
      stacks.set(name, {
        id: `arn:aws:cloudformation:${region}:123456789012:stack/${name}/${randomUUID()}`,
        outputs,
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
