/** The configuration file of `runtime-main.ts`: the options of `startLocalRuntime` as JSON data. */
import { z } from "zod";
import { STREAMS, type StreamKey, TABLES, type TableKey } from "#shared/resources";

const stringMap = z.record(z.string(), z.string());
const keys = <K extends string>(record: Record<K, unknown>) => Object.keys(record) as [K, ...K[]];

const eventSourceSchema = z.strictObject({
  stream: z.enum(keys<StreamKey>(STREAMS)),
  batchSize: z.number(),
  maxBatchingWindowSeconds: z.number(),
  bisectBatchOnError: z.boolean(),
  maxRetryAttempts: z.number(),
  maxRecordAgeSeconds: z.number(),
  reportBatchItemFailures: z.boolean(),
  startingPosition: z.enum(["TRIM_HORIZON", "LATEST"]),
});

const functionSchema = z.strictObject({
  definition: z.strictObject({
    id: z.string().min(1),
    entry: z.string().min(1),
    handler: z.string().min(1),
    memoryMiB: z.number(),
    timeoutSeconds: z.number(),
    tables: z.partialRecord(z.enum(keys<TableKey>(TABLES)), z.enum(["read", "write", "readWrite"])),
    publishes: z
      .array(z.enum(keys<StreamKey>(STREAMS)))
      .readonly()
      .optional(),
    eventSource: eventSourceSchema,
  }),
  streamName: z.string().min(1),
  env: stringMap.optional(),
  functionName: z.string().optional(),
});

/** The JSON configuration `runtime-main` reads: the options of `startLocalRuntime`, as data. */
export const runtimeConfigSchema = z.strictObject({
  stateDir: z.string().min(1),
  awsEnv: stringMap,
  functions: z.array(functionSchema).min(1),
  projectRoot: z.string().optional(),
  timing: z
    .strictObject({
      idlePollMinMs: z.number(),
      idlePollMaxMs: z.number(),
      retryBackoffMinMs: z.number(),
      retryBackoffMaxMs: z.number(),
      errorBackoffMinMs: z.number(),
      errorBackoffMaxMs: z.number(),
      shardDiscoveryIntervalMs: z.number(),
    })
    .partial()
    .optional(),
  /** Stop when the parent process goes away (for runtimes started by tests or tools). */
  exitWithParent: z.boolean().optional(),
  /** Crash-test instrumentation: stage marker file and crash arm file (docs/crash-test.md). */
  stageMarkers: z
    .strictObject({ file: z.string().min(1), crashArmFile: z.string().min(1).optional() })
    .optional(),
});

/** See {@link runtimeConfigSchema}. */
export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;
