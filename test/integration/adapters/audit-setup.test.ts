import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleSetupEvent, respondToCloudFormation } from "#functions/audit-setup/setup-event";
import { installAuditIndex } from "#shared/adapters/opensearch-audit-setup";
import { createOpenSearchClient } from "#shared/adapters/opensearch-client";
import { type FakeOpenSearch, startFakeOpenSearch } from "../../support/fake-opensearch.ts";

/** The audit index custom resource provider, against the local OpenSearch server and a local "S3" for responses. */
describe("Custom::VigilAuditIndex provider", () => {
  let fake: FakeOpenSearch;
  let responses: Array<{ headers: Record<string, unknown>; body: CloudFormationCustomResourceResponse }>;
  let responseUrl: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    fake = await startFakeOpenSearch();
    responses = [];
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      responses.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      res.writeHead(200).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/presigned?X-Amz-Signature=x`;
    close = () => new Promise((r) => server.close(() => r()));
  });
  afterAll(async () => {
    await close();
    await fake.close();
  });

  const deps = {
    install: async ({
      endpoint,
      settings,
      access,
    }: Parameters<Parameters<typeof handleSetupEvent>[1]["install"]>[0]) => {
      const client = createOpenSearchClient({
        endpoint,
        region: "us-east-1",
        getCredentials: async () => ({ accessKeyId: "test", secretAccessKey: "test" }),
      });
      await installAuditIndex(client, settings, access);
      await client.close();
    },
    respond: respondToCloudFormation,
    logger: { error: () => {} },
  };
  const event = (type: "Create" | "Update" | "Delete", properties: Record<string, unknown>) =>
    ({
      RequestType: type,
      ServiceToken: "arn:aws:lambda:us-east-1:000000000000:function:setup",
      ResponseURL: responseUrl,
      StackId: "arn:aws:cloudformation:us-east-1:000000000000:stack/Vigil/1",
      RequestId: `req-${responses.length}`,
      ResourceType: "Custom::VigilAuditIndex",
      LogicalResourceId: "IndexSetup",
      ResourceProperties: { ServiceToken: "x", ...properties },
      ...(type === "Create" ? {} : { PhysicalResourceId: "vigil-audit-index", OldResourceProperties: {} }),
    }) as unknown as CloudFormationCustomResourceEvent;
  // CloudFormation passes numbers as strings.
  const props = (retention: string) => ({
    Endpoint: fake.endpoint,
    Prefix: "vigil-decisions",
    RetentionDays: retention,
    Replicas: "0",
    Shards: "1",
    Writers: ["arn:aws:iam::000000000000:role/audit"],
    Readers: [],
  });

  it("installs template, ISM policy and roles on Create, and answers SUCCESS without a content type", async () => {
    await handleSetupEvent(event("Create", props("90")), deps);
    expect([...fake.templates.keys()]).toEqual(["vigil-decisions-template"]);
    expect(fake.policies.has("vigil-decisions-retention")).toBe(true);
    expect(fake.roleMappings.get("vigil-decisions-writer")).toEqual({
      backend_roles: ["arn:aws:iam::000000000000:role/audit"],
    });
    expect(fake.roleMappings.get("vigil-decisions-reader")).toEqual({ backend_roles: [] });
    const [response] = responses;
    expect(response?.body).toMatchObject({
      Status: "SUCCESS",
      PhysicalResourceId: "vigil-audit-index",
      LogicalResourceId: "IndexSetup",
    });
    expect(response?.headers["content-type"] ?? "").toBe("");
  });

  it("re-applies on Update (the ISM policy through its sequence number) and keeps everything on Delete", async () => {
    await handleSetupEvent(event("Update", props("30")), deps);
    const policy = fake.policies.get("vigil-decisions-retention")?.body as {
      policy: { states: Array<{ transitions: Array<{ conditions: unknown }> }> };
    };
    expect(policy.policy.states[0]?.transitions[0]?.conditions).toEqual({ min_index_age: "30d" });
    await handleSetupEvent(event("Delete", props("30")), deps);
    expect(fake.templates.size).toBe(1);
    expect(responses.slice(1).map((r) => r.body.Status)).toEqual(["SUCCESS", "SUCCESS"]);
  });

  it("answers FAILED with the reason instead of leaving CloudFormation waiting", async () => {
    await handleSetupEvent(event("Update", { ...props("30"), Prefix: "Bad*Prefix" }), deps);
    const last = responses.at(-1)?.body;
    expect(last?.Status).toBe("FAILED");
    expect(last?.Reason).toMatch(/Prefix/);
  });
});
