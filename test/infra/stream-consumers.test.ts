import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { entriesOf } from "#infra/records";
import { streamConsumerEntries } from "#infra/stream-consumers";
import type { VigilStack } from "#infra/vigil-stack";
import { ESM_REQUIRE_BANNER, LAMBDA_NODE_TARGET } from "#shared/bundling";
import { ENV, FUNCTIONS, type FunctionDefinition, STREAMS, TABLES, type TableKey } from "#shared/resources";
import { type CfnResourceJson, getAtt, logicalIdOf, synthesizeVigil } from "./synth-vigil.ts";

// Bundled once: the bundle test below reads an asset.
const vigil = synthesizeVigil({ context: { "vigil:profile": "prod" }, bundling: true });
afterAll(() => vigil.dispose());
const { stack, template, resources } = vigil;

/** The deployed function of a definition, found by the Powertools service name the construct gives it. */
function functionOf(definition: FunctionDefinition): [string, CfnResourceJson] {
  const serviceName = `vigil-${definition.id.toLowerCase()}`;
  const found = Object.entries(resources).filter(
    ([, r]) =>
      r.Type === "AWS::Lambda::Function" &&
      (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables[ENV.serviceName] ===
        serviceName,
  );
  const [only] = found;
  if (found.length !== 1 || only === undefined) {
    throw new Error(`expected one function with service name ${serviceName}, found ${found.length}`);
  }
  return only;
}

/** Settings and non-table resources the stack passes to a consumer (prod profile defaults). */
function stackSettings(s: VigilStack): Record<string, Record<string, unknown>> {
  const domain = s.auditDomain;
  if (!domain) throw new Error("prod has an audit domain");
  return {
    score: {
      [ENV.decisionRetentionDays]: "90",
      [ENV.pseudonymKeySecret]: { Ref: logicalIdOf(s, s.pseudonymKey.secret) },
    },
    alert: { [ENV.alertTopicArn]: { Ref: logicalIdOf(s, s.alerts.topic) } },
    audit: {
      [ENV.openSearchEndpoint]: {
        "Fn::Join": ["", ["https://", getAtt(logicalIdOf(s, domain.domain), "DomainEndpoint")]],
      },
      [ENV.auditIndexPrefix]: "vigil-decisions",
    },
    archive: { [ENV.archiveBucket]: { Ref: logicalIdOf(s, s.archive.bucket) } },
  };
}

it("deploys a function for every definition with an event source, and only those have a mapping", () => {
  const consumers = streamConsumerEntries();
  for (const [, definition] of consumers) functionOf(definition);
  template.resourceCountIs("AWS::Lambda::EventSourceMapping", consumers.length);
});

for (const [key, definition] of streamConsumerEntries()) {
  describe(`${key} function`, () => {
    const [functionId, fn] = functionOf(definition);
    const source = definition.eventSource;
    const tuning = stack.settings.consumers[key];
    const streamId = logicalIdOf(stack, stack.data.streams[source.stream]);
    const queueId = logicalIdOf(stack, stack.data.failureQueue(key));
    const tableId = (table: TableKey) => logicalIdOf(stack, stack.data.tables[table]);

    it(`runs on the Lambda runtime of the bundling target (${LAMBDA_NODE_TARGET}), ARM64, with active tracing`, () => {
      expect(fn.Properties).toMatchObject({
        Runtime: `nodejs${LAMBDA_NODE_TARGET.replace(/^node/, "")}.x`,
        Architectures: ["arm64"],
        TracingConfig: { Mode: "Active" },
        Handler: `index.${definition.handler}`,
        MemorySize: tuning?.memoryMiB,
        Timeout: definition.timeoutSeconds,
      });
    });

    it("logs JSON to its own encrypted log group with the profile's retention", () => {
      const logging = fn.Properties.LoggingConfig as { LogGroup: { Ref: string }; LogFormat: string };
      expect(logging.LogFormat).toBe("JSON");
      expect(resources[logging.LogGroup.Ref]).toMatchObject({
        Type: "AWS::Logs::LogGroup",
        Properties: { RetentionInDays: 90, KmsKeyId: getAtt(logicalIdOf(stack, stack.data.keys.operations)) },
      });
    });

    it("gets each of its tables and its source stream under the env var of their definitions, and nothing else", () => {
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const expected: Record<string, unknown> = {
        [STREAMS[source.stream].envVar]: { Ref: streamId },
        [ENV.serviceName]: `vigil-${definition.id.toLowerCase()}`,
        [ENV.metricsNamespace]: "Vigil/Vigil",
        [ENV.logLevel]: "INFO",
        NODE_OPTIONS: "--enable-source-maps",
      };
      for (const [table] of entriesOf(definition.tables))
        expected[TABLES[table].envVar] = { Ref: tableId(table) };
      for (const stream of definition.publishes ?? [])
        expected[STREAMS[stream].envVar] = { Ref: logicalIdOf(stack, stack.data.streams[stream]) };
      Object.assign(expected, stackSettings(stack)[key]);
      expect(variables).toEqual(expected);
    });

    it("is fed by a mapping tuned as its definition and the profile, failing over to its SQS queue", () => {
      template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
        FunctionName: { Ref: functionId },
        EventSourceArn: getAtt(streamId),
        StartingPosition: source.startingPosition,
        BatchSize: tuning?.batchSize,
        MaximumBatchingWindowInSeconds: source.maxBatchingWindowSeconds,
        BisectBatchOnFunctionError: source.bisectBatchOnError,
        MaximumRetryAttempts: source.maxRetryAttempts,
        MaximumRecordAgeInSeconds: tuning?.maxRecordAgeSeconds,
        FunctionResponseTypes: source.reportBatchItemFailures ? ["ReportBatchItemFailures"] : [],
        DestinationConfig: { OnFailure: { Destination: getAtt(queueId) } },
      });
    });

    it("has a role of its own with no managed policies", () => {
      const roleId = (fn.Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
      expect(resources[roleId]?.Type).toBe("AWS::IAM::Role");
      expect(resources[roleId]?.Properties.ManagedPolicyArns).toBeUndefined();
    });

    it("depends on its role's policy, without the DependsOn on the role that its GetAtt already implies", () => {
      const roleId = (fn.Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
      const dependsOn = [fn.DependsOn ?? []].flat();
      expect(dependsOn).not.toContain(roleId);
      expect(dependsOn.some((d) => d.startsWith(roleId.replace(/[0-9A-F]{8}$/, "DefaultPolicy")))).toBe(true);
    });

    it("has lag, error, throttle and failed-batch alarms", () => {
      const alarms = Object.values(resources).filter((r) => r.Type === "AWS::CloudWatch::Alarm");
      const onFunction = alarms.filter(
        (a) =>
          JSON.stringify(a.Properties.Dimensions) ===
          JSON.stringify([{ Name: "FunctionName", Value: { Ref: functionId } }]),
      );
      expect(onFunction.map((a) => a.Properties.MetricName).sort()).toEqual([
        "Errors",
        "IteratorAge",
        "Throttles",
      ]);
      expect(
        alarms.some(
          (a) =>
            a.Properties.MetricName === "ApproximateNumberOfMessagesVisible" &&
            JSON.stringify(a.Properties.Dimensions).includes(queueId),
        ),
      ).toBe(true);
    });
  });
}

describe("bundle", () => {
  const [functionId] = functionOf(FUNCTIONS.score);
  const code = resources[functionId]?.Properties.Code as { S3Key: string } | undefined;
  const assetDir = path.join(vigil.assemblyDir, `asset.${code?.S3Key.replace(/\.zip$/, "")}`);

  it("is an ESM file named index.mjs with the createRequire banner and a source map", () => {
    const bundle = readFileSync(path.join(assetDir, "index.mjs"), "utf8");
    expect(bundle.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(existsSync(path.join(assetDir, "index.mjs.map"))).toBe(true);
  });
});
