import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type LocalFunction, runtimePaths, startLocalRuntime } from "#local/esm/local-runtime";
import { type FaultKind, type FaultProxy, type FaultProxyStats, startFaultProxy } from "#local/fault-proxy";
import { localSinkPaths } from "#local/local-sinks";
import { startLocalStack } from "#local/local-stack";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { DynamoDbQuarantineStore } from "#shared/adapters/dynamodb-quarantine-store";
import { DynamoDbReceiptLedger } from "#shared/adapters/dynamodb-receipt-ledger";
import { DynamoDbStateStore } from "#shared/adapters/dynamodb-state-store";
import { putRecords } from "#shared/adapters/kinesis-producer";
import { installAuditIndex } from "#shared/adapters/opensearch-audit-setup";
import { createOpenSearchClient } from "#shared/adapters/opensearch-client";
import { DEFAULT_AUDIT_INDEX_PREFIX } from "#shared/domain/audit/audit-document";
import type { CompiledFeatureSet, FeatureSnapshot } from "#shared/domain/features/index";
import type { QuarantineEntry } from "#shared/ports/quarantine-store";
import type { ShardLedger } from "#shared/ports/receipt-ledger";
import { ENV, FUNCTIONS, type FunctionKey } from "#shared/resources";
import { startFakeOpenSearch } from "../fake-opensearch.ts";
import { type FakeSns, startFakeSns } from "../fake-sns.ts";
import { scanTable } from "../scan-table.ts";
import { shardMap } from "./crash-run.ts";
import { readFailures } from "./outcomes.ts";
import {
  cleanEventOf,
  materialize,
  type OutgoingSlot,
  type PutRecord,
  type Slot,
  type TrafficShape,
} from "./traffic.ts";

/** The alert policy of both runs: the default rules without throttling, whose windows run on wall-clock time. */
export const UNTHROTTLED_ALERT_POLICY = JSON.stringify({
  rules: [
    { actions: ["block"], severity: "critical" },
    { actions: ["challenge_face"], severity: "high" },
  ],
  throttle: { windowSeconds: 0, entities: [] },
});

/** The services the functions reach through a fault proxy. */
export const PROXIED = ["dynamodb", "kinesis", "sns", "opensearch"] as const;

/** Options of {@link runThroughProxies}. */
export interface FaultRunOptions {
  readonly root: string;
  /** The planned records: events and re-sends materialized once (same bytes in every run), hostile slots built at put time. */
  readonly slots: readonly Slot[];
  readonly fixed: ReadonlyMap<Slot, OutgoingSlot>;
  readonly shape: TrafficShape;
  readonly seed: number;
  /** Fraction of proxied requests that get a fault (0: the proxies only forward). */
  readonly rate: number;
  /** A pseudonym key file to use (so that two runs name entities alike). */
  readonly pseudonymKeyFile?: string;
  readonly stallMs?: number;
  /** Records per PutRecords call (default 25), and how many may wait unsettled before the next call (default: a chunk). */
  readonly chunk?: number;
  readonly backlog?: number;
  readonly kinds?: Partial<Record<(typeof PROXIED)[number], readonly FaultKind[]>>;
  readonly features: CompiledFeatureSet;
  /**
   * The instant the final state is read at. Windowed values depend on it, so two runs compared
   * with each other must read at the same instant (not each at its own end).
   */
  readonly readStateAt: number;
  readonly log?: (message: string) => void;
}

/** What a run left, read after it. */
export interface FaultRun {
  /** The local stack's state directory (the pseudonym key file lives there). */
  readonly stateDir: string;
  readonly records: readonly PutRecord[];
  readonly decisionItems: readonly Record<string, unknown>[];
  readonly quarantine: readonly QuarantineEntry[];
  readonly ledger: ReadonlyMap<string, ShardLedger | undefined>;
  /** Every entity's features as of `at`, by `<type> <key values>`. */
  readonly state: ReadonlyMap<string, readonly FeatureSnapshot[]>;
  readonly deliveries: readonly Record<string, unknown>[];
  readonly sns: FakeSns["published"];
  readonly auditDocuments: ReadonlyArray<Record<string, unknown>>;
  readonly failures: Readonly<Record<string, unknown[]>>;
  readonly proxies: Readonly<Record<string, FaultProxyStats>>;
  readonly seconds: number;
}

/**
 * One run of the pipeline with every function's AWS endpoint behind a fault proxy: score, alert
 * and audit read and write DynamoDB Local and Kinesis Mock through proxies, alert publishes to an
 * SNS wire server and audit indexes into an OpenSearch wire server, each through a proxy too. The
 * runtime's own polling reads Kinesis directly (on AWS that is the Lambda service, not the
 * functions). The records are put at once; the run ends when every one is settled and the
 * consumers are idle. Returns what is needed to compare two runs.
 */
export async function runThroughProxies(options: FaultRunOptions): Promise<FaultRun> {
  const log = options.log ?? (() => {});
  const stateDir = join(options.root, "stack");
  mkdirSync(stateDir, { recursive: true });
  if (options.pseudonymKeyFile)
    copyFileSync(options.pseudonymKeyFile, localSinkPaths(stateDir).pseudonymKeyFile);
  const stack = await startLocalStack({ stateDir });
  const sns = await startFakeSns();
  const opensearch = await startFakeOpenSearch();
  const proxies: Record<string, FaultProxy> = {};
  const startedAt = Date.now();
  try {
    const targets = {
      dynamodb: stack.emulators.dynamodbEndpoint,
      kinesis: stack.emulators.kinesisEndpoint,
      sns: sns.endpoint,
      opensearch: opensearch.endpoint,
    };
    for (const [i, service] of PROXIED.entries()) {
      proxies[service] = await startFaultProxy({
        service,
        target: targets[service],
        rate: options.rate,
        seed: options.seed + i,
        stallMs: options.stallMs ?? 1500,
        ...(options.kinds?.[service] ? { kinds: options.kinds[service] } : {}),
      });
    }
    const via = (service: (typeof PROXIED)[number]) => proxies[service]?.endpoint ?? "";
    await installAuditIndex(
      createOpenSearchClient({
        endpoint: opensearch.endpoint,
        region: stack.env.AWS_REGION ?? "us-east-1",
        getCredentials: async () => ({ accessKeyId: "local", secretAccessKey: "local" }),
      }),
      { prefix: DEFAULT_AUDIT_INDEX_PREFIX, retentionDays: 90, replicas: 0, shards: 1 },
    );

    const { [ENV.alertOutboxDir]: _outbox, [ENV.auditDir]: _audit, ...base } = stack.env;
    const common = {
      ...base,
      AWS_ENDPOINT_URL_DYNAMODB: via("dynamodb"),
      AWS_ENDPOINT_URL_KINESIS: via("kinesis"),
    };
    const fn = (key: FunctionKey, env: Record<string, string>): LocalFunction => {
      const definition = FUNCTIONS[key];
      const streamName =
        stack.env[
          definition.eventSource.stream === "events" ? "VIGIL_EVENTS_STREAM" : "VIGIL_DECISIONS_STREAM"
        ] ?? "";
      return { definition, streamName, env };
    };
    const runtimeDir = join(options.root, "runtime");
    const runtime = await startLocalRuntime({
      stateDir: runtimeDir,
      awsEnv: stack.emulators.awsEnv,
      functions: [
        fn("score", common),
        fn("alert", {
          ...common,
          AWS_ENDPOINT_URL_SNS: via("sns"),
          [ENV.alertTopicArn]: "arn:aws:sns:us-east-1:000000000000:vigil-alerts",
          [ENV.alertPolicy]: UNTHROTTLED_ALERT_POLICY,
        }),
        fn("audit", { ...common, [ENV.openSearchEndpoint]: via("opensearch") }),
      ],
      timing: { idlePollMaxMs: 200 },
      log: (m) => log(`runtime: ${m}`),
    });
    const kinesis = createKinesisClient({ env: stack.env });
    const dynamodb = createDynamoDbClient(stack.env);
    let records: PutRecord[] = [];
    try {
      const stream = stack.names.streams.events;
      const { shardIds, shardOf } = await shardMap(kinesis, stream);
      const now = Date.now();
      const hostile = materialize(
        options.slots.filter((s) => s.kind === "hostile"),
        now,
        0,
        options.shape,
        options.seed,
        shardOf,
        new Map(),
      );
      const hostileBySlot = new Map(hostile.map((h) => [h.slot, h]));
      const outgoing = options.slots.map((slot) => {
        const o = options.fixed.get(slot) ?? hostileBySlot.get(slot);
        if (!o) throw new Error(`slot ${JSON.stringify(slot)} was not materialized`);
        return o;
      });
      const ledger = new DynamoDbReceiptLedger(dynamodb, stack.names.tables.decisions, 0);
      const readLedger = async () =>
        new Map(
          await Promise.all(
            shardIds.map(async (id) => [id, await ledger.read({ stream, shardId: id })] as const),
          ),
        );
      const settled = async () => {
        let n = 0;
        for (const t of (await readLedger()).values())
          n += (t?.decided ?? 0) + (t?.quarantined ?? 0) + (t?.duplicates ?? 0);
        return n;
      };
      // Put in small chunks as the pipeline keeps up, as a steady producer does: many small
      // batches, so many calls of every kind to fault.
      const placed: Array<{ index: number; shardId: string; sequenceNumber: string }> = [];
      const chunk = options.chunk ?? 25;
      for (let start = 0; start < outgoing.length; start += chunk) {
        while (start - (await settled()) > (options.backlog ?? chunk))
          await new Promise((r) => setTimeout(r, 100));
        const put = await putRecords(kinesis, stream, outgoing.slice(start, start + chunk));
        if (put.failed.length > 0) throw new Error(`Kinesis refused ${put.failed.length} records`);
        for (const p of put.placed) placed.push({ ...p, index: start + p.index });
      }
      records = placed.map((p): PutRecord => {
        const o = outgoing[p.index] as OutgoingSlot;
        const at = {
          shardId: p.shardId,
          sequenceNumber: p.sequenceNumber,
          partitionKey: o.partitionKey,
          data: o.data,
        };
        if (o.slot.kind === "event")
          return { ...at, kind: "event", index: o.slot.index, event: cleanEventOf(o.data, new Date(now)) };
        if (o.slot.kind === "resend") {
          const of = o.slot.of;
          const original = outgoing.find((x) => x.slot.kind === "event" && x.slot.index === of);
          const eventId = original ? cleanEventOf(original.data, new Date(now)).eventId : "";
          return { ...at, kind: "resend", of, eventId };
        }
        return {
          ...at,
          kind: "hostile",
          kindName: o.hostile?.kindName ?? "",
          expectedReason: o.hostile?.expectedReason ?? "NOT_JSON",
        };
      });
      log(`put ${records.length} records`);
      const deadline = Date.now() + 3_600_000;
      for (let n = await settled(); n < records.length; n = await settled()) {
        if (Date.now() > deadline)
          throw new Error(`only ${n} of ${records.length} records settled within an hour`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      await runtime.waitUntilIdle({ timeoutMs: 1_800_000 });
      const seconds = Math.round((Date.now() - startedAt) / 1000);
      await runtime.stop();
      log(`settled and idle after ${seconds} s`);

      const at = options.readStateAt;
      const store = new DynamoDbStateStore({
        client: dynamodb,
        tableName: stack.names.tables.state,
        features: options.features,
        clock: () => at,
      });
      const state = new Map<string, readonly FeatureSnapshot[]>();
      const entities = new Map<string, { type: string; values: string[] }>();
      for (const r of records) {
        if (r.kind !== "event") continue;
        for (const f of options.features.features) {
          const values = f.entity.fields.map(
            (field) => (r.event as unknown as Record<string, unknown>)[field],
          );
          if (values.every((v): v is string => typeof v === "string"))
            entities.set(`${f.entity.name} ${values.join(",")}`, { type: f.entity.name, values });
        }
      }
      const list = [...entities];
      let next = 0;
      const reader = async () => {
        for (let item = list[next++]; item; item = list[next++]) {
          const [id, { type, values }] = item;
          const reading = await store.read(type, values);
          state.set(
            id,
            [...reading.features].sort((a, b) => (a.id < b.id ? -1 : 1)),
          );
        }
      };
      await Promise.all(Array.from({ length: 8 }, reader));
      const failures: Record<string, unknown[]> = {};
      for (const key of ["score", "alert", "audit"] as const) {
        const definition = FUNCTIONS[key];
        const streamName =
          definition.eventSource.stream === "events"
            ? stack.names.streams.events
            : stack.names.streams.decisions;
        failures[definition.id] = readFailures(
          runtimePaths(runtimeDir, definition.id, streamName).failureFile,
        );
      }
      return {
        stateDir,
        records,
        decisionItems: await scanTable(dynamodb, stack.names.tables.decisions),
        quarantine: await new DynamoDbQuarantineStore(dynamodb, stack.names.tables.quarantine, 0).list(),
        ledger: await readLedger(),
        state,
        deliveries: (await scanTable(dynamodb, stack.names.tables.alerts)).filter((i) =>
          String(i.pk).startsWith("delivery#"),
        ),
        sns: [...sns.published],
        auditDocuments: opensearch.documents(`${DEFAULT_AUDIT_INDEX_PREFIX}-*`),
        failures,
        proxies: Object.fromEntries(Object.entries(proxies).map(([k, p]) => [k, p.stats()])),
        seconds,
      };
    } finally {
      await runtime.stop();
      kinesis.destroy();
      dynamodb.destroy();
    }
  } finally {
    for (const p of Object.values(proxies)) await p.close();
    await sns.close();
    await opensearch.close();
    await stack.stop();
  }
}
