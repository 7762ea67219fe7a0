import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AttributeValue, ScanCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import {
  type LocalRuntime,
  localFunctionsFromEnv,
  runtimePaths,
  startLocalRuntime,
} from "#local/esm/local-runtime";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";
import { type OutgoingRecord, putRecords } from "#shared/adapters/kinesis-producer";
import { FUNCTIONS, type FunctionKey, type TableKey } from "#shared/resources";

/** The local stack with the score function running on its event source mapping, for tests. */
export interface TestPipeline {
  readonly stack: LocalStack;
  runtime: LocalRuntime;
  /** Puts records on the events stream; throws if Kinesis refused any. */
  put(
    records: readonly OutgoingRecord[],
  ): Promise<ReadonlyArray<{ shardId: string; sequenceNumber: string }>>;
  /** Waits until every record put so far has been handled and checkpointed. */
  idle(timeoutMs?: number): Promise<void>;
  /** Every item of a table, unmarshalled. */
  scan(table: TableKey): Promise<Record<string, unknown>[]>;
  /**
   * Sums of the score function's EMF metrics, from its log, by name (and dimensions:
   * `Decisions{scenario=order,action=pass}`); `<key>#values` counts the values summed (a metric
   * with one value per decision, such as PutToDecisionLatency, has one per decision).
   */
  scoreMetrics(): Record<string, number>;
  /** Records the score mapping sent to its on-failure destination (NDJSON lines). */
  failures(): unknown[];
  /** Stops and restarts the runtime with extra function environment (checkpoints are kept). */
  restartRuntime(extraEnv?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a fresh stack (own temp dir, in-memory engines) and the runtime of the score function
 * (and of the other functions of `functions`, each on its own stream).
 */
export async function startTestPipeline(
  extraEnv: Record<string, string> = {},
  functions: readonly FunctionKey[] = ["score"],
): Promise<TestPipeline> {
  const stateDir = mkdtempSync(join(tmpdir(), "vigil-pipeline-"));
  const stack = await startLocalStack({ stateDir });
  const start = (env: Record<string, string>) =>
    startLocalRuntime({
      stateDir,
      awsEnv: stack.emulators.awsEnv,
      functions: localFunctionsFromEnv({ ...stack.env, ...env }, functions),
      timing: { idlePollMaxMs: 200 },
    });
  const paths = runtimePaths(stateDir, FUNCTIONS.score.id, stack.names.streams.events);
  const kinesis = createKinesisClient({ env: stack.env });
  const dynamodb = createDynamoDbClient(stack.env);
  const pipeline: TestPipeline = {
    stack,
    runtime: await start(extraEnv),
    async put(records) {
      const result = await putRecords(kinesis, stack.names.streams.events, records);
      if (result.failed.length > 0) throw new Error(`Kinesis refused ${result.failed.length} records`);
      return result.placed;
    },
    async idle(timeoutMs = 540_000) {
      await pipeline.runtime.waitUntilIdle({ timeoutMs });
    },
    async scan(table) {
      const items: Record<string, unknown>[] = [];
      let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await dynamodb.send(
          new ScanCommand({ TableName: stack.names.tables[table], ExclusiveStartKey }),
        );
        for (const item of page.Items ?? []) items.push(unmarshall(item));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return items;
    },
    scoreMetrics() {
      const sums: Record<string, number> = {};
      if (!existsSync(paths.logFile)) return sums;
      for (const line of readFileSync(paths.logFile, "utf8").split("\n")) {
        if (!line.startsWith('{"_aws"')) continue;
        const doc = JSON.parse(line) as {
          _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string }> }> };
        } & Record<string, unknown>;
        const directive = doc._aws.CloudWatchMetrics[0];
        const dims = (directive?.Dimensions[0] ?? []).filter((d) => d !== "service");
        for (const metric of directive?.Metrics ?? []) {
          const key =
            dims.length === 0
              ? metric.Name
              : `${metric.Name}{${dims.map((d) => `${d}=${String(doc[d])}`).join(",")}}`;
          const value = doc[metric.Name];
          const values = Array.isArray(value) ? value.map(Number) : [Number(value)];
          sums[key] = (sums[key] ?? 0) + values.reduce((a, b) => a + b, 0);
          sums[`${key}#values`] = (sums[`${key}#values`] ?? 0) + values.length;
        }
      }
      return sums;
    },
    failures() {
      if (!existsSync(paths.failureFile)) return [];
      return readFileSync(paths.failureFile, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as unknown);
    },
    async restartRuntime(env = {}) {
      await pipeline.runtime.stop();
      pipeline.runtime = await start({ ...extraEnv, ...env });
    },
    async stop() {
      await pipeline.runtime.stop();
      kinesis.destroy();
      dynamodb.destroy();
      await stack.stop();
    },
  };
  return pipeline;
}
