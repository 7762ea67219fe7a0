import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { entriesOf } from "#infra/records";
import { type StreamConsumerKey, streamConsumerEntries } from "#infra/stream-consumers";
import { ESM_REQUIRE_BANNER, LAMBDA_NODE_TARGET } from "#shared/bundling";
import {
  ENV,
  FUNCTIONS,
  type FunctionDefinition,
  METRICS_NAMESPACE,
  STREAMS,
  TABLES,
  type TableKey,
} from "#shared/resources";
import { logicalIdOf, synthesizeVigil } from "./synth-vigil.ts";

const vigil = synthesizeVigil({ cloudFormationValidation: false });
afterAll(() => vigil.dispose());
const { stack, template } = vigil;
const resources: Record<string, CfnResource> = template.toJSON().Resources;

interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown> & {
    Environment?: { Variables: Record<string, unknown> };
  };
}

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const getAtt = (logicalId: string) => ({ "Fn::GetAtt": [logicalId, "Arn"] });

/** The deployed function of a definition, found by the Powertools service name the construct gives it. */
function functionOf(definition: FunctionDefinition): [string, CfnResource] {
  const serviceName = `vigil-${definition.id.toLowerCase()}`;
  const found = Object.entries(resources).filter(
    ([, r]) =>
      r.Type === "AWS::Lambda::Function" &&
      r.Properties.Environment?.Variables[ENV.serviceName] === serviceName,
  );
  const [only] = found;
  if (found.length !== 1 || only === undefined) {
    throw new Error(`expected one function with service name ${serviceName}, found ${found.length}`);
  }
  return only;
}

/** Every statement of every policy attached to the role with the given logical id. */
function statementsOfRole(roleId: string): Statement[] {
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === "AWS::IAM::Policy" &&
        asArray(r.Properties.Roles as unknown[]).some(
          (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }),
        ),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** The actions the statements allow on exactly the given resource. */
function actionsOn(statements: Statement[], resource: unknown): Set<string> {
  const wanted = JSON.stringify(resource);
  return new Set(
    statements
      .filter((s) => s.Effect === "Allow" && asArray(s.Resource).some((r) => JSON.stringify(r) === wanted))
      .flatMap((s) => asArray(s.Action)),
  );
}

/** Settings and non-table resources the stack passes to a consumer, with their default values. */
const STACK_SETTINGS: Record<StreamConsumerKey, Record<string, unknown>> = {
  score: {
    [ENV.decisionRetentionDays]: "90",
    [ENV.pseudonymKeySecret]: { Ref: logicalIdOf(stack, stack.pseudonymKey.secret) },
  },
  alert: { [ENV.alertTopicArn]: { Ref: logicalIdOf(stack, stack.alerts.topic) } },
  audit: {
    [ENV.openSearchEndpoint]: {
      "Fn::Join": [
        "",
        ["https://", { "Fn::GetAtt": [logicalIdOf(stack, stack.auditDomain.domain), "DomainEndpoint"] }],
      ],
    },
    [ENV.auditIndexPrefix]: "vigil-decisions",
  },
  archive: { [ENV.archiveBucket]: { Ref: logicalIdOf(stack, stack.archive.bucket) } },
};

const TABLE_ACCESS_ACTIONS = {
  read: {
    must: ["dynamodb:GetItem", "dynamodb:Query"],
    mustNot: ["dynamodb:PutItem", "dynamodb:UpdateItem"],
  },
  write: {
    must: ["dynamodb:PutItem", "dynamodb:UpdateItem"],
    mustNot: ["dynamodb:GetItem", "dynamodb:Scan"],
  },
  readWrite: { must: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], mustNot: [] },
} as const;

it("deploys a function for every definition with an event source, and only those have a mapping", () => {
  const consumers = streamConsumerEntries();
  expect(consumers.length).toBeGreaterThan(0);
  for (const [, definition] of consumers) functionOf(definition);
  template.resourceCountIs("AWS::Lambda::EventSourceMapping", consumers.length);
});

for (const [key, definition] of streamConsumerEntries()) {
  describe(`${key} function`, () => {
    const [functionId, fn] = functionOf(definition);
    const source = definition.eventSource;
    const roleId = (fn.Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    const statements = statementsOfRole(roleId);
    const tableId = (table: TableKey) => logicalIdOf(stack, stack.data.tables[table]);
    const streamId = logicalIdOf(stack, stack.data.streams[source.stream]);
    const queueId = logicalIdOf(stack, stack.data.failureQueues[key]);

    it(`runs on the Lambda runtime of the bundling target (${LAMBDA_NODE_TARGET}), ARM64, with active tracing`, () => {
      expect(fn.Properties).toMatchObject({
        Runtime: `nodejs${LAMBDA_NODE_TARGET.replace(/^node/, "")}.x`,
        Architectures: ["arm64"],
        TracingConfig: { Mode: "Active" },
        Handler: `index.${definition.handler}`,
        MemorySize: definition.memoryMiB,
        Timeout: definition.timeoutSeconds,
      });
    });

    it("logs JSON to its own log group with a retention", () => {
      const logging = fn.Properties.LoggingConfig as { LogGroup: { Ref: string }; LogFormat: string };
      expect(logging.LogFormat).toBe("JSON");
      expect(resources[logging.LogGroup.Ref]).toMatchObject({
        Type: "AWS::Logs::LogGroup",
        Properties: { RetentionInDays: 30 },
      });
    });

    it("gets each of its tables and its source stream under the env var of their definitions, and nothing else", () => {
      const variables = fn.Properties.Environment?.Variables ?? {};
      const expected: Record<string, unknown> = {
        [STREAMS[source.stream].envVar]: { Ref: streamId },
        [ENV.serviceName]: `vigil-${definition.id.toLowerCase()}`,
        [ENV.metricsNamespace]: METRICS_NAMESPACE,
        [ENV.logLevel]: "INFO",
        NODE_OPTIONS: "--enable-source-maps",
      };
      for (const [table] of entriesOf(definition.tables))
        expected[TABLES[table].envVar] = { Ref: tableId(table) };
      for (const stream of definition.publishes ?? [])
        expected[STREAMS[stream].envVar] = { Ref: logicalIdOf(stack, stack.data.streams[stream]) };
      Object.assign(expected, STACK_SETTINGS[key]);
      expect(variables).toEqual(expected);
    });

    it("is fed by a mapping tuned exactly as its definition, failing over to its SQS queue", () => {
      template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
        FunctionName: { Ref: functionId },
        EventSourceArn: getAtt(streamId),
        StartingPosition: source.startingPosition,
        BatchSize: source.batchSize,
        MaximumBatchingWindowInSeconds: source.maxBatchingWindowSeconds,
        BisectBatchOnFunctionError: source.bisectBatchOnError,
        MaximumRetryAttempts: source.maxRetryAttempts,
        MaximumRecordAgeInSeconds: source.maxRecordAgeSeconds,
        FunctionResponseTypes: source.reportBatchItemFailures ? ["ReportBatchItemFailures"] : [],
        DestinationConfig: { OnFailure: { Destination: getAtt(queueId) } },
      });
      expect(resources[queueId]?.Type).toBe("AWS::SQS::Queue");
    });

    describe("IAM", () => {
      it("has a role of its own with no managed policies", () => {
        expect(resources[roleId]?.Type).toBe("AWS::IAM::Role");
        expect(resources[roleId]?.Properties.ManagedPolicyArns).toBeUndefined();
      });

      it("allows no service-wide wildcard action", () => {
        const actions = statements.flatMap((s) => asArray(s.Action));
        expect(actions.filter((a) => a === "*" || a.endsWith(":*"))).toEqual([]);
      });

      it("allows Resource '*' only for the X-Ray actions that support nothing narrower", () => {
        const unscoped = statements
          .filter((s) => asArray(s.Resource).includes("*"))
          .flatMap((s) => asArray(s.Action))
          .sort();
        expect(unscoped).toEqual(["xray:PutTelemetryRecords", "xray:PutTraceSegments"]);
      });

      for (const table of Object.keys(TABLES) as TableKey[]) {
        const access = definition.tables[table];
        it(`${access ?? "has no"} access to the ${table} table${access ? ", as its definition asks" : ""}`, () => {
          const actions = actionsOn(statements, getAtt(tableId(table)));
          if (access === undefined) {
            expect([...actions]).toEqual([]);
            return;
          }
          for (const action of TABLE_ACCESS_ACTIONS[access].must) expect(actions).toContain(action);
          for (const action of TABLE_ACCESS_ACTIONS[access].mustNot) expect(actions).not.toContain(action);
        });
      }

      it("may put records on the streams it publishes to, and on no other", () => {
        for (const [stream] of entriesOf(STREAMS)) {
          const actions = [...actionsOn(statements, getAtt(logicalIdOf(stack, stack.data.streams[stream])))];
          const puts = actions.filter((a) => /^kinesis:PutRecords?$/.test(a)).sort();
          expect(puts).toEqual(
            (definition.publishes ?? []).includes(stream) ? ["kinesis:PutRecord", "kinesis:PutRecords"] : [],
          );
        }
      });

      it("reads its source stream and nothing more on it", () => {
        const actions = [...actionsOn(statements, getAtt(streamId))];
        expect(actions).toEqual(expect.arrayContaining(["kinesis:GetRecords", "kinesis:GetShardIterator"]));
        expect(actions.filter((a) => /^kinesis:(Put|Delete|Create|Update|Merge|Split)/.test(a))).toEqual([]);
      });

      it("may send to its failure queue but not read or purge it", () => {
        const actions = [...actionsOn(statements, getAtt(queueId))];
        expect(actions).toContain("sqs:SendMessage");
        expect(actions.filter((a) => /^sqs:(Receive|Delete|Purge)/.test(a))).toEqual([]);
      });

      it("writes only to its own log group", () => {
        const logStatements = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith("logs:")));
        const logGroupId = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
        expect(logStatements.flatMap((s) => asArray(s.Resource))).toEqual([getAtt(logGroupId)]);
      });
    });

    it("has lag, error and failed-batch alarms", () => {
      const alarms = Object.values(resources).filter((r) => r.Type === "AWS::CloudWatch::Alarm");
      const onFunction = alarms.filter(
        (a) =>
          JSON.stringify(a.Properties.Dimensions) ===
          JSON.stringify([{ Name: "FunctionName", Value: { Ref: functionId } }]),
      );
      expect(onFunction.map((a) => a.Properties.MetricName).sort()).toEqual(["Errors", "IteratorAge"]);
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
  const assetDir = path.join(vigil.assemblyDir, `asset.${assetHashOf(functionId)}`);

  it("is an ESM file named index.mjs with the createRequire banner and a source map", () => {
    const code = readFileSync(path.join(assetDir, "index.mjs"), "utf8");
    expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(existsSync(path.join(assetDir, "index.mjs.map"))).toBe(true);
  });
});

function assetHashOf(functionId: string): string {
  const code = resources[functionId]?.Properties.Code as { S3Key: string } | undefined;
  if (code === undefined) throw new Error(`function ${functionId} has no code`);
  return code.S3Key.replace(/\.zip$/, "");
}
