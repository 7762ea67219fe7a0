import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { type LocalRuntime, localFunctionsFromEnv, startLocalRuntime } from "#local/esm/local-runtime";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { putRecords } from "#shared/adapters/kinesis-producer";

/** What `npm start` measured, printed as its summary. */
export interface DemoSummary {
  readonly eventsPut: number;
  readonly putFailures: number;
  readonly decisionsStored: number;
  readonly actions: Readonly<Record<string, number>>;
  readonly invocations: number;
  readonly secondsToAllDecided: number;
  readonly eventsPerSecond: number;
}

export interface DemoOptions {
  readonly events: number;
  readonly stateDir: string;
  readonly timeoutSeconds?: number;
  readonly log: (message: string) => void;
}

const TYPES = ["register", "login", "order", "payment", "coupon_claim"] as const;

/** A deterministic sample event; `i` picks its user, device, IP and scenario. */
export function sampleEvent(i: number, occurredAt: Date): Record<string, unknown> {
  const type = TYPES[i % TYPES.length] ?? "login";
  const user = i % 97;
  const base: Record<string, unknown> = {
    schemaVersion: 1,
    eventId: `demo-${String(i).padStart(6, "0")}`,
    type,
    occurredAt: occurredAt.toISOString(),
    userId: `user-${user}`,
    ip: `198.51.100.${(user % 250) + 1}`,
    deviceId: `device-${user % 60}`,
    geo: { country: "DE", city: "Berlin" },
  };
  if (type === "order" || type === "payment")
    Object.assign(base, { amount: `${(i % 300) + 1}.50`, currency: "EUR" });
  if (type === "payment") base.cardFingerprint = `card-${user % 80}`;
  if (type === "coupon_claim") Object.assign(base, { campaignId: "spring", couponId: `coupon-${i % 7}` });
  if (type === "register") base.email = `user${user}@example.com`;
  return base;
}

async function countDecisions(
  stack: LocalStack,
): Promise<{ total: number; actions: Record<string, number> }> {
  const client = createDynamoDbClient(stack.env);
  const actions: Record<string, number> = {};
  let total = 0;
  let ExclusiveStartKey: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: stack.names.tables.decisions,
        ProjectionExpression: "#a",
        ExpressionAttributeNames: { "#a": "action" },
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const action = item.action?.S ?? "unknown";
      actions[action] = (actions[action] ?? 0) + 1;
      total++;
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  client.destroy();
  return { total, actions };
}

/**
 * The platform demo behind `npm start`: a fresh local stack, the score function on its event
 * source mapping, `events` sample events put on the stream, and a wait until every one has a
 * decision in the decisions table. Always stops what it started.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const { log } = options;
  const stateDir = resolve(options.stateDir);
  rmSync(stateDir, { recursive: true, force: true });
  log("Starting the local stack (Kinesis Mock, DynamoDB Local)...");
  const stack = await startLocalStack({ stateDir, log: (m) => log(`  ${m}`) });
  let runtime: LocalRuntime | undefined;
  try {
    log("Bundling functions and starting their Kinesis event source mappings...");
    runtime = await startLocalRuntime({
      stateDir,
      awsEnv: stack.emulators.awsEnv,
      functions: localFunctionsFromEnv(stack.env),
      log: (m) => log(`  ${m}`),
    });

    const now = new Date();
    const events = Array.from({ length: options.events }, (_, i) => sampleEvent(i, now));
    log(`Putting ${events.length} events on ${stack.names.streams.events}...`);
    const started = Date.now();
    const kinesis = createKinesisClient({ env: stack.env });
    const put = await putRecords(
      kinesis,
      stack.names.streams.events,
      events.map((e) => ({
        data: new TextEncoder().encode(JSON.stringify(e)),
        partitionKey: String(e.userId),
      })),
    );
    kinesis.destroy();

    const deadline = Date.now() + (options.timeoutSeconds ?? 120) * 1000;
    let decided = await countDecisions(stack);
    let lastReported = -1;
    while (decided.total < put.sent && Date.now() < deadline) {
      if (decided.total !== lastReported) {
        log(`  decisions stored: ${decided.total}/${put.sent}`);
        lastReported = decided.total;
      }
      await new Promise((r) => setTimeout(r, 250));
      decided = await countDecisions(stack);
    }
    const seconds = (Date.now() - started) / 1000;
    if (decided.total < put.sent) {
      throw new Error(
        `only ${decided.total} of ${put.sent} events were decided within ${options.timeoutSeconds ?? 120} s; see ${join(stateDir, "failures")}`,
      );
    }
    return {
      eventsPut: put.sent,
      putFailures: put.failed.length,
      decisionsStored: decided.total,
      actions: decided.actions,
      invocations: runtime.stats().functions.reduce((n, s) => n + s.invocations, 0),
      secondsToAllDecided: seconds,
      eventsPerSecond: put.sent / seconds,
    };
  } finally {
    await runtime?.stop();
    await stack.stop();
  }
}
