import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { CloudFormationCustomResourceResponse } from "aws-lambda";

/**
 * A local HTTP server standing in for the pre-signed S3 URL CloudFormation gives a custom
 * resource's provider: it takes the response document as a PUT (as S3 would, whatever the content
 * type) and records it. Tests read `responses` to see what the provider told CloudFormation.
 */
export interface CustomResourceResponses {
  /** A fresh pre-signed-looking URL on this server for one event. */
  url(requestId: string): string;
  /** Every response received, in order, with the request id its URL carried. */
  readonly responses: Array<{
    readonly requestId: string;
    readonly contentType: string;
    readonly body: CloudFormationCustomResourceResponse;
  }>;
  close(): Promise<void>;
}

/** Starts the server on a free loopback port. */
export async function startCustomResourceResponses(): Promise<CustomResourceResponses> {
  const responses: CustomResourceResponses["responses"] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== "PUT") {
      res.writeHead(405).end();
      return;
    }
    const requestId = new URL(req.url ?? "/", "http://localhost").pathname.split("/").pop() ?? "";
    responses.push({
      requestId,
      contentType: String(req.headers["content-type"] ?? ""),
      body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as CloudFormationCustomResourceResponse,
    });
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (requestId) => `http://127.0.0.1:${port}/cloudformation-custom-resource-response/${requestId}`,
    responses,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
