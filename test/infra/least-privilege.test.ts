import { readFileSync } from "node:fs";
import { Stack } from "aws-cdk-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT_SETUP_FUNCTION, setupRequests } from "#infra/constructs/audit-domain";
import { CONFIG_SEED_FUNCTION } from "#infra/constructs/config-seed";
import { BACKTEST_MAP_S3_ACTIONS, BACKTEST_WORKER_FUNCTION } from "#infra/constructs/distributed-backtest";
import {
  BACKTEST_WORKER_PERMISSIONS,
  BUNDLED_NOT_CALLED,
  CONFIG_SEED_PERMISSIONS,
  CONSUMER_PERMISSIONS,
  type CodePermissions,
  EVENT_SOURCE_READ_ACTIONS,
  ON_BEHALF_ACTIONS,
  VPC_ACCESS_ACTIONS,
} from "#infra/function-permissions";
import { entriesOf } from "#infra/records";
import type { StreamConsumerKey } from "#infra/stream-consumers";
import type { VigilStack } from "#infra/vigil-stack";
import { FUNCTIONS, type FunctionDefinition } from "#shared/resources";
import { type CodeCalls, codeCalls } from "./code-actions.ts";
import {
  actionsOn,
  asArray,
  getAtt,
  logicalIdOf,
  propertiesOf,
  type Statement,
  statementsOfRole,
  synthesizeVigil,
} from "./synth-vigil.ts";

/** A function of the stack: its definition, what its code may call, and its role and log group. */
interface DeployedFunction {
  readonly name: string;
  readonly definition: FunctionDefinition;
  readonly permissions: CodePermissions;
  readonly roleId: string;
  readonly logGroupId: string;
  /** Set for stream consumers. */
  readonly consumer?: StreamConsumerKey;
  readonly inVpc: boolean;
}

function deployedFunctions(stack: VigilStack): DeployedFunction[] {
  const out: DeployedFunction[] = [];
  const consumers: Array<[StreamConsumerKey, VigilStack["score"] | undefined]> = [
    ["score", stack.score],
    ["alert", stack.alert],
    ["audit", stack.audit],
  ];
  for (const [key, consumer] of consumers) {
    if (!consumer) continue;
    out.push({
      name: key,
      definition: FUNCTIONS[key],
      permissions: CONSUMER_PERMISSIONS[key],
      roleId: logicalIdOf(stack, consumer.lambda.role),
      logGroupId: logicalIdOf(stack, consumer.lambda.logGroup),
      consumer: key,
      inVpc: key === "audit" && stack.auditNetwork !== undefined,
    });
  }
  out.push({
    name: "configSeed",
    definition: CONFIG_SEED_FUNCTION,
    permissions: CONFIG_SEED_PERMISSIONS,
    roleId: logicalIdOf(stack, stack.configSeed.provider.role),
    logGroupId: logicalIdOf(stack, stack.configSeed.provider.logGroup),
    inVpc: false,
  });
  out.push({
    name: "backtestWorker",
    definition: BACKTEST_WORKER_FUNCTION,
    permissions: BACKTEST_WORKER_PERMISSIONS,
    roleId: logicalIdOf(stack, stack.backtest.worker.role),
    logGroupId: logicalIdOf(stack, stack.backtest.worker.logGroup),
    inVpc: false,
  });
  const domain = stack.auditDomain;
  if (domain)
    out.push({
      name: "auditSetup",
      definition: AUDIT_SETUP_FUNCTION,
      permissions: { auditDomain: setupRequests(domain.indexPrefix) },
      roleId: logicalIdOf(stack, domain.setup.role),
      logGroupId: logicalIdOf(stack, domain.setup.logGroup),
      inVpc: stack.auditNetwork !== undefined,
    });
  return out;
}

/** The actions a function's permissions declare, whatever the resource. */
function declaredActions(p: CodePermissions): Set<string> {
  return new Set([
    ...Object.values(p.tables ?? {}).flat(),
    ...Object.values(p.streams ?? {}).flat(),
    ...(p.pseudonymKey ?? []),
    ...(p.alertTopic ?? []),
    ...(p.archiveBucket ?? []),
    ...(p.archiveRead ?? []),
    ...(p.auditDomain ?? []).map((r) => r.action),
  ]);
}

const calls = new Map<string, CodeCalls>();
beforeAll(async () => {
  const entries = new Set([
    ...Object.values(FUNCTIONS).map((f) => f.entry),
    CONFIG_SEED_FUNCTION.entry,
    AUDIT_SETUP_FUNCTION.entry,
    BACKTEST_WORKER_FUNCTION.entry,
  ]);
  await Promise.all([...entries].map(async (entry) => calls.set(entry, await codeCalls(entry))));
}, 180_000);

for (const variant of [
  { name: "prod (audit domain in a VPC)", context: { "vigil:profile": "prod" } },
  {
    name: "dev with a public audit domain",
    context: { "vigil:profile": "dev", "vigil:audit": "opensearch" },
  },
]) {
  describe(`least privilege, ${variant.name}`, () => {
    const vigil = synthesizeVigil({ context: variant.context });
    afterAll(() => vigil.dispose());
    const { stack, resources } = vigil;
    const region = Stack.of(stack).resolve(stack.region);
    const viaService = (service: string) => ({
      StringEquals: { "kms:ViaService": { "Fn::Join": ["", [`${service}.`, region, ".amazonaws.com"]] } },
    });
    const keyIds = new Set(
      [stack.data.keys.personalData, stack.data.keys.data, stack.data.keys.operations].map((k) =>
        logicalIdOf(stack, k),
      ),
    );

    for (const fn of deployedFunctions(stack)) {
      describe(fn.name, () => {
        const statements = statementsOfRole(resources, fn.roleId);
        const allowed = statements.filter((s) => s.Effect === "Allow");

        it("grants no action the function's code never calls (beyond what services do on its behalf)", () => {
          const code = calls.get(fn.definition.entry);
          expect(code, fn.definition.entry).toBeDefined();
          const declared = declaredActions(fn.permissions);
          for (const action of allowed.flatMap((s) => asArray(s.Action))) {
            if (action in ON_BEHALF_ACTIONS) continue;
            expect(declared, `${action} is granted but not declared for ${fn.name}`).toContain(action);
            expect(code?.actions, `${action} is granted but ${fn.name}'s code never calls it`).toContain(
              action,
            );
          }
        });

        it("grants every action its code calls (but those bundled and never called, each with a reason)", () => {
          const code = calls.get(fn.definition.entry);
          const granted = new Set(allowed.flatMap((s) => asArray(s.Action)));
          const notCalled = BUNDLED_NOT_CALLED[fn.name] ?? {};
          for (const action of code?.actions ?? []) {
            if (action in notCalled) continue;
            expect(granted, `${fn.name}'s code calls ${action}, which its role lacks`).toContain(action);
          }
          for (const action of Object.keys(notCalled)) {
            expect(code?.actions, `${action} is listed as bundled for ${fn.name} but is not`).toContain(
              action,
            );
          }
        });

        it("grants exactly the declared DynamoDB actions on each table, and nothing on other tables", () => {
          for (const [key, table] of entriesOf(stack.data.tables)) {
            const granted = [...actionsOn(allowed, getAtt(logicalIdOf(stack, table)))].sort();
            expect(granted, `${fn.name} on the ${key} table`).toEqual(
              [...(fn.permissions.tables?.[key] ?? [])].sort(),
            );
          }
        });

        it("lists in its definition exactly the tables it has permissions on", () => {
          if (!fn.consumer) return;
          expect(Object.keys(fn.definition.tables).sort()).toEqual(
            Object.keys(fn.permissions.tables ?? {}).sort(),
          );
        });

        it("puts records only on the streams it publishes to, reads only its source stream", () => {
          for (const [key, stream] of entriesOf(stack.data.streams)) {
            const granted = [...actionsOn(allowed, getAtt(logicalIdOf(stack, stream)))].sort();
            const expected = [
              ...(fn.permissions.streams?.[key] ?? []),
              ...(fn.consumer && FUNCTIONS[fn.consumer].eventSource.stream === key
                ? EVENT_SOURCE_READ_ACTIONS
                : []),
            ].sort();
            expect(granted, `${fn.name} on the ${key} stream`).toEqual(expected);
          }
        });

        it("sends to its own failure queue only, and reads no queue", () => {
          for (const [key, queue] of entriesOf(stack.data.failureQueues)) {
            const granted = [...actionsOn(allowed, getAtt(logicalIdOf(stack, queue)))];
            expect(granted, `${fn.name} on the ${key} failure queue`).toEqual(
              fn.consumer === key ? ["sqs:SendMessage"] : [],
            );
          }
        });

        it("uses KMS keys only through a data service, never directly", () => {
          const kms = allowed.filter((s) => asArray(s.Action).some((a) => a.startsWith("kms:")));
          for (const s of kms) {
            expect(asArray(s.Action).every((a) => a === "kms:Decrypt" || a === "kms:GenerateDataKey")).toBe(
              true,
            );
            const resource = asArray(s.Resource)[0] as { "Fn::GetAtt": [string, string] };
            expect(keyIds).toContain(resource["Fn::GetAtt"][0]);
            const service = JSON.stringify(s.Condition);
            expect(
              ["dynamodb", "kinesis", "sqs", "sns", "secretsmanager", "s3"].some(
                (svc) => JSON.stringify(viaService(svc)) === service,
              ),
              service,
            ).toBe(true);
          }
        });

        it("writes only to its own log group, and uses Resource '*' only where AWS allows nothing narrower", () => {
          const logStatements = allowed.filter((s) => asArray(s.Action).some((a) => a.startsWith("logs:")));
          expect(logStatements.flatMap((s) => asArray(s.Resource))).toEqual([getAtt(fn.logGroupId)]);
          const unscoped = allowed
            .filter((s) => asArray(s.Resource).includes("*"))
            .flatMap((s) => asArray(s.Action))
            .sort();
          expect(unscoped).toEqual(
            [
              "xray:PutTelemetryRecords",
              "xray:PutTraceSegments",
              ...(fn.inVpc ? VPC_ACCESS_ACTIONS : []),
            ].sort(),
          );
        });

        it("calls OpenSearch only with the verbs and paths its code uses", () => {
          const es = allowed.filter((s) => asArray(s.Action).some((a) => a.startsWith("es:")));
          const granted = es.flatMap((s) =>
            asArray(s.Action).flatMap((action) =>
              asArray(s.Resource).map((r) => `${action} ${pathOf(stack, r)}`),
            ),
          );
          expect(granted.sort()).toEqual(
            (fn.permissions.auditDomain ?? []).map((r) => `${r.action} ${r.path}`).sort(),
          );
        });
      });
    }

    describe("the distributed backtest", () => {
      const bucketId = logicalIdOf(stack, stack.archive.bucket);
      const objects = (prefix: string) =>
        JSON.stringify({ "Fn::Join": ["", [getAtt(bucketId), `/${prefix}*`]] });
      const byResource = (statements: readonly Statement[]) => {
        const out = new Map<string, string[]>();
        for (const s of statements.filter((x) => x.Effect === "Allow"))
          for (const r of asArray(s.Resource))
            for (const a of asArray(s.Action)) {
              const key = JSON.stringify(r);
              out.set(key, [...(out.get(key) ?? []), a].sort());
            }
        return out;
      };

      it("lets the worker read only events/ and backtests/ objects of the archive bucket", () => {
        const granted = byResource(
          statementsOfRole(resources, logicalIdOf(stack, stack.backtest.worker.role)),
        );
        const s3 = [...granted].filter(([, actions]) => actions.some((a) => a.startsWith("s3:")));
        expect(new Map(s3)).toEqual(
          new Map([
            [objects("events/"), ["s3:GetObject"]],
            [objects("backtests/"), ["s3:GetObject"]],
          ]),
        );
      });

      it("lets the state machine invoke the worker, use backtests/ objects and run its own children only", () => {
        const roleId = logicalIdOf(stack, stack.backtest.stateMachine.role);
        const statements = statementsOfRole(resources, roleId).filter((s) => s.Effect === "Allow");
        const granted = byResource(statements);
        const workerArn = JSON.stringify(getAtt(logicalIdOf(stack, stack.backtest.worker.fn)));
        expect(granted.get(workerArn)).toEqual(["lambda:InvokeFunction"]);
        expect(granted.get(objects("backtests/"))).toEqual([...BACKTEST_MAP_S3_ACTIONS].sort());
        const stateMachine = JSON.stringify({ Ref: logicalIdOf(stack, stack.backtest.stateMachine) });
        expect(granted.get(stateMachine)).toEqual(["states:StartExecution"]);
        const dataPlane = statements
          .flatMap((s) => asArray(s.Action))
          .filter((a) => /^(s3|lambda|states|dynamodb|kinesis|sns|sqs|es|secretsmanager):/.test(a));
        expect(new Set(dataPlane)).toEqual(
          new Set([
            "lambda:InvokeFunction",
            ...BACKTEST_MAP_S3_ACTIONS,
            "states:StartExecution",
            "states:DescribeExecution",
            "states:StopExecution",
          ]),
        );
        // Only log delivery and X-Ray, which have no resource-level permissions, are on '*'.
        const unscoped = statements
          .filter((s) => asArray(s.Resource).includes("*"))
          .flatMap((s) => asArray(s.Action));
        for (const action of unscoped) expect(action).toMatch(/^(logs|xray):/);
      });

      it("lets the operator start and describe backtest executions and use backtests/ objects", () => {
        const granted = byResource(statementsOfRole(resources, logicalIdOf(stack, stack.access.operator)));
        const stateMachine = JSON.stringify({ Ref: logicalIdOf(stack, stack.backtest.stateMachine) });
        expect(granted.get(stateMachine)).toEqual(["states:StartExecution"]);
        expect(granted.get(objects("backtests/"))).toEqual(["s3:GetObject", "s3:PutObject"]);
        expect(granted.get(objects("events/"))).toEqual(["s3:GetObject"]);
        const states = [...granted.values()].flat().filter((a) => a.startsWith("states:"));
        expect(states.sort()).toEqual(["states:DescribeExecution", "states:StartExecution"]);
      });

      it("logs every event of the state machine to a log group encrypted with the operations key", () => {
        const properties = propertiesOf(resources, logicalIdOf(stack, stack.backtest.stateMachine));
        expect(properties.TracingConfiguration).toEqual({ Enabled: true });
        expect(properties.LoggingConfiguration).toMatchObject({ Level: "ALL", IncludeExecutionData: true });
        const logGroup = propertiesOf(resources, logicalIdOf(stack, stack.backtest.logGroup));
        expect(logGroup.KmsKeyId).toEqual(getAtt(logicalIdOf(stack, stack.data.keys.operations)));
      });
    });

    it("lets the domain's access policy grant each principal only its own verbs and paths", () => {
      const domain = stack.auditDomain;
      if (!domain) throw new Error("this variant has an audit domain");
      const policy = resources[logicalIdOf(stack, domain.domain)]?.Properties.AccessPolicies as {
        Statement: Statement[];
      };
      const byPrincipal = new Map<string, string[]>();
      for (const s of policy.Statement) {
        expect(s.Effect).toBe("Allow");
        for (const principal of asArray((s.Principal as { AWS: unknown }).AWS)) {
          const who = JSON.stringify(principal);
          for (const action of asArray(s.Action))
            for (const r of asArray(s.Resource))
              byPrincipal.set(who, [...(byPrincipal.get(who) ?? []), `${action} ${pathOf(stack, r)}`]);
        }
      }
      const role = (r: { roleArn: string }) => JSON.stringify(Stack.of(stack).resolve(r.roleArn));
      expect(byPrincipal.get(role(domain.setup.role))?.sort()).toEqual(
        setupRequests(domain.indexPrefix)
          .map((r) => `${r.action} ${r.path}`)
          .sort(),
      );
      if (!stack.audit) throw new Error("this variant has an audit function");
      expect(byPrincipal.get(role(stack.audit.lambda.role))).toEqual(["es:ESHttpPost _bulk"]);
      const readers = [stack.access.operator, stack.access.auditReader].map((r) => {
        if (!r) throw new Error("this variant has an audit reader role");
        return byPrincipal.get(role(r))?.sort();
      });
      for (const granted of readers)
        expect(granted).toEqual([
          `es:ESHttpGet ${domain.indexPrefix}-*`,
          `es:ESHttpPost ${domain.indexPrefix}-*`,
        ]);
      expect(byPrincipal.size).toBe(4);
    });
  });
}

describe("docs/infra.md", () => {
  const docs = readFileSync(new URL("../../docs/infra.md", import.meta.url), "utf8");

  it("lists every function's DynamoDB, Kinesis, SNS, Secrets Manager and OpenSearch actions as granted", () => {
    const rows: string[] = [];
    const functions: Array<[string, CodePermissions]> = [
      ...Object.entries(CONSUMER_PERMISSIONS),
      ["configSeed", CONFIG_SEED_PERMISSIONS],
      ["backtestWorker", BACKTEST_WORKER_PERMISSIONS],
      ["auditSetup", { auditDomain: setupRequests("vigil-decisions") }],
    ];
    for (const [name, p] of functions) {
      for (const [table, actions] of Object.entries(p.tables ?? {}))
        rows.push(`| ${name} | ${table} table | ${[...(actions as string[])].join(", ")} |`);
      for (const [stream, actions] of Object.entries(p.streams ?? {}))
        rows.push(`| ${name} | ${stream} stream | ${[...(actions as string[])].join(", ")} |`);
      if (p.pseudonymKey)
        rows.push(`| ${name} | pseudonymization key secret | ${p.pseudonymKey.join(", ")} |`);
      if (p.alertTopic) rows.push(`| ${name} | alert topic | ${p.alertTopic.join(", ")} |`);
      if (p.archiveBucket)
        rows.push(`| ${name} | archive bucket \`events/*\` | ${p.archiveBucket.join(", ")} |`);
      if (p.archiveRead)
        rows.push(`| ${name} | archive bucket \`events/*\`, \`backtests/*\` | ${p.archiveRead.join(", ")} |`);
      for (const r of p.auditDomain ?? [])
        rows.push(`| ${name} | audit domain \`${r.path}\` | ${r.action} |`);
    }
    for (const row of rows) expect(docs, row).toContain(row);
  });

  it("explains every action granted on a function's behalf", () => {
    for (const action of Object.keys(ON_BEHALF_ACTIONS)) expect(docs, action).toContain(`\`${action}\``);
  });
});

/** The domain path of an `arn:...:domain/<name>/<path>` resource (joined or literal). */
function pathOf(stack: Stack, resource: unknown): string {
  const flat = flatten(Stack.of(stack).resolve(resource));
  const match = /:domain\/[^/]+\/(.+)$/.exec(flat);
  if (!match?.[1]) throw new Error(`not a domain path: ${flat}`);
  return match[1];
}

function flatten(value: unknown): string {
  if (typeof value === "string") return value;
  const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  if (join) return join[1].map(flatten).join(join[0]);
  return `<${JSON.stringify(value)}>`;
}
