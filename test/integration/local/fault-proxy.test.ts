import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BatchGetItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulators, startEmulators } from "#local/emulators";
import { type FaultKind, type FaultProxy, type FaultService, startFaultProxy } from "#local/fault-proxy";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";

/**
 * The fault proxy on the real engines: each kind of fault does what docs/crash-test.md says, as
 * the AWS SDK sees it (one attempt, no retries), and a request that is not faulted is forwarded
 * unchanged.
 */
describe("fault proxy in front of DynamoDB Local and Kinesis Mock", () => {
  let emulators: Emulators;
  const proxies: FaultProxy[] = [];
  const TABLE = "fault-proxy-test";
  const STREAM = "fault-proxy-test";

  beforeAll(async () => {
    emulators = await startEmulators({ dataDir: mkdtempSync(join(tmpdir(), "vigil-fault-proxy-")) });
    const dynamodb = createDynamoDbClient(emulators.awsEnv);
    await dynamodb.send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    dynamodb.destroy();
    const kinesis = createKinesisClient({ env: emulators.awsEnv });
    await kinesis.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 1 }));
    for (;;) {
      const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
      if (d.StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    kinesis.destroy();
  });
  afterAll(async () => {
    for (const p of proxies) await p.close();
    await emulators?.stop();
  });

  /** A proxy faulting every request with one kind, and clients through it that never retry. */
  async function through(service: FaultService, kind: FaultKind | undefined) {
    const proxy = await startFaultProxy({
      service,
      target: service === "dynamodb" ? emulators.dynamodbEndpoint : emulators.kinesisEndpoint,
      rate: kind ? 1 : 0,
      seed: 1,
      stallMs: 300,
      ...(kind ? { kinds: [kind] } : {}),
    });
    proxies.push(proxy);
    const config = {
      endpoint: proxy.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpAgent: { keepAlive: true } }),
    };
    return { proxy, dynamodb: new DynamoDBClient(config), kinesis: new KinesisClient(config) };
  }
  const direct = () => createDynamoDbClient(emulators.awsEnv);
  const exists = async (pk: string) =>
    (
      await direct().send(
        new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk } }, ConsistentRead: true }),
      )
    ).Item !== undefined;
  const put = (client: DynamoDBClient, pk: string) =>
    client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: pk } } }));
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: { name?: string; code?: string; $metadata?: { httpStatusCode?: number; attempts?: number } }) => e,
    );

  it("forwards what it does not fault", async () => {
    const { dynamodb, proxy } = await through("dynamodb", undefined);
    await put(dynamodb, "plain");
    expect(await exists("plain")).toBe(true);
    expect(proxy.stats()).toMatchObject({
      requests: 1,
      forwarded: 1,
      operations: { PutItem: { requests: 1, faults: 0 } },
    });
  });

  it("throttles with DynamoDB's and Kinesis's own errors", async () => {
    const { dynamodb, proxy } = await through("dynamodb", "throttle");
    const errors = await Promise.all(Array.from({ length: 6 }, (_, i) => failure(put(dynamodb, `t${i}`))));
    const names = new Set(errors.map((e) => e?.name));
    expect([...names].sort()).toEqual(["ProvisionedThroughputExceededException", "ThrottlingException"]);
    expect(errors.every((e) => e?.$metadata?.httpStatusCode === 400)).toBe(true);
    expect(await exists("t0")).toBe(false);
    expect(proxy.stats().faults.throttle).toBe(6);

    const k = await through("kinesis", "throttle");
    const error = await failure(
      k.kinesis.send(
        new PutRecordsCommand({
          StreamName: STREAM,
          Records: [{ Data: Buffer.from("x"), PartitionKey: "p" }],
        }),
      ),
    );
    expect(error?.name).toBe("ProvisionedThroughputExceededException");
  });

  it("answers 5xx with the service's error", async () => {
    const { dynamodb } = await through("dynamodb", "serverError");
    const errors = await Promise.all(Array.from({ length: 6 }, (_, i) => failure(put(dynamodb, `s${i}`))));
    expect(new Set(errors.map((e) => e?.$metadata?.httpStatusCode))).toEqual(new Set([500, 503]));
    expect(new Set(errors.map((e) => e?.name))).toEqual(
      new Set(["InternalServerError", "ServiceUnavailableException"]),
    );
  });

  it("stalls and drops, or resets, without the request reaching the service", async () => {
    for (const kind of ["timeout", "resetBeforeForward"] as const) {
      const { dynamodb } = await through("dynamodb", kind);
      const started = Date.now();
      const error = await failure(put(dynamodb, kind));
      expect(error?.code ?? error?.name, kind).toMatch(/ECONNRESET|socket hang up/i);
      if (kind === "timeout") expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(await exists(kind)).toBe(false);
    }
  });

  it("is retried by the SDK whatever the kind (a client allowed three attempts makes three)", async () => {
    for (const kind of [
      "throttle",
      "serverError",
      "timeout",
      "resetBeforeForward",
      "resetAfterForward",
    ] as const) {
      const { proxy } = await through("dynamodb", kind);
      const client = new DynamoDBClient({
        endpoint: proxy.endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        maxAttempts: 3,
      });
      const error = await failure(
        client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: "x" } } })),
      );
      expect(error, kind).toBeDefined();
      expect(proxy.stats().requests, kind).toBe(3);
      client.destroy();
    }
  });

  it("resets after the service applied the request: the caller sees an error, the item is there", async () => {
    const { dynamodb } = await through("dynamodb", "resetAfterForward");
    const error = await failure(put(dynamodb, "applied"));
    expect(error?.code ?? error?.name).toMatch(/ECONNRESET|socket hang up/i);
    expect(await exists("applied")).toBe(true);
  });

  it("fails part of a batch as the services do: unprocessed keys, rejected PutRecords entries", async () => {
    for (let i = 0; i < 20; i++) await put(direct(), `b${i}`);
    const { dynamodb } = await through("dynamodb", "partialBatch");
    const keys = Array.from({ length: 20 }, (_, i) => ({ pk: { S: `b${i}` } }));
    const out = await dynamodb.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: keys } } }));
    const got = out.Responses?.[TABLE]?.length ?? 0;
    const unprocessed = out.UnprocessedKeys?.[TABLE]?.Keys?.length ?? 0;
    expect(got).toBeGreaterThan(0);
    expect(unprocessed).toBeGreaterThan(0);
    expect(got + unprocessed).toBe(20);

    const { kinesis } = await through("kinesis", "partialBatch");
    const records = Array.from({ length: 20 }, (_, i) => ({
      Data: Buffer.from(`r${i}`),
      PartitionKey: `p${i}`,
    }));
    const result = await kinesis.send(new PutRecordsCommand({ StreamName: STREAM, Records: records }));
    const rejected = (result.Records ?? []).filter(
      (r) => r.ErrorCode === "ProvisionedThroughputExceededException",
    );
    expect(result.Records).toHaveLength(20);
    expect(rejected.length).toBeGreaterThan(0);
    expect(result.FailedRecordCount).toBe(rejected.length);
    expect((result.Records ?? []).filter((r) => r.SequenceNumber).length).toBe(20 - rejected.length);
  });

  it("draws the same requests for the same seed, at about the rate asked", async () => {
    const counts: number[][] = [];
    for (let run = 0; run < 2; run++) {
      const proxy = await startFaultProxy({
        service: "dynamodb",
        target: emulators.dynamodbEndpoint,
        rate: 0.15,
        seed: 42,
        kinds: ["throttle"],
      });
      proxies.push(proxy);
      const client = new DynamoDBClient({
        endpoint: proxy.endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        maxAttempts: 1,
      });
      const faulted: number[] = [];
      for (let i = 0; i < 200; i++) if (await failure(put(client, `seed-${run}-${i}`))) faulted.push(i);
      counts.push(faulted);
    }
    expect(counts[1]).toEqual(counts[0]);
    expect(counts[0]?.length).toBeGreaterThan(15);
    expect(counts[0]?.length).toBeLessThan(50);
  });
});
