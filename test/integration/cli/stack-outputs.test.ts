import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { forgetStack, resolveTarget, useStack } from "#cli/env";
import { CliError } from "#cli/output";
import { loadStackOutputs } from "#cli/stack-outputs";
import { type LocalStack, startLocalStack } from "#local/local-stack";
import { SHIPPED_DEFAULTS } from "#shared/domain/decision/shipped-defaults";
import { STREAMS, TABLES } from "#shared/resources";
import { STACK_ENV_VAR, STACK_OUTPUTS } from "#shared/stack-outputs";
import { type FakeCloudFormation, startFakeCloudFormation } from "../../support/fake-cloudformation.ts";
import { VIGIL_BIN } from "../../support/processes.ts";

/**
 * The CLI finds a deployment's resource names from its stack name: DescribeStacks on a local
 * server speaking CloudFormation's Query protocol, and the whole `vigil --stack` path against
 * DynamoDB Local with the names those outputs give.
 */
let cloudformation: FakeCloudFormation;
const cfnEnv = () => ({
  AWS_ENDPOINT_URL_CLOUDFORMATION: cloudformation.endpoint,
  AWS_REGION: "eu-central-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
});

/** Every output of a deployed stack, with made-up names. */
const OUTPUTS: Record<string, string> = Object.fromEntries(
  Object.keys(STACK_OUTPUTS).map((key) => [key, `value-of-${key}`]),
);

beforeAll(async () => {
  cloudformation = await startFakeCloudFormation();
  cloudformation.putStack("Vigil-prod", OUTPUTS);
  cloudformation.putStack("NotVigil", { BucketName: "some-bucket" });
});
afterAll(() => cloudformation?.close());
afterEach(() => forgetStack());

describe("loadStackOutputs on the CloudFormation Query protocol", () => {
  it("asks DescribeStacks for the stack, signed and form-encoded, and maps the outputs to the CLI's variables", async () => {
    const before = cloudformation.requests.length;
    const loaded = await loadStackOutputs("Vigil-prod", { env: cfnEnv() });
    expect(cloudformation.requests.slice(before)).toEqual([
      {
        action: "DescribeStacks",
        // date-safe: the CloudFormation API version, not a time
        version: "2010-05-15",
        stackName: "Vigil-prod",
        contentType: "application/x-www-form-urlencoded",
        signed: true,
      },
    ]);
    expect(loaded.outputs).toEqual(OUTPUTS);
    expect(loaded.env).toEqual({
      [STREAMS.events.envVar]: "value-of-EventsStreamName",
      [STREAMS.decisions.envVar]: "value-of-DecisionsStreamName",
      [TABLES.state.envVar]: "value-of-StateTableName",
      [TABLES.config.envVar]: "value-of-ConfigTableName",
      [TABLES.decisions.envVar]: "value-of-DecisionsTableName",
      [TABLES.quarantine.envVar]: "value-of-QuarantineTableName",
      [TABLES.alerts.envVar]: "value-of-AlertsTableName",
      [TABLES.labels.envVar]: "value-of-LabelsTableName",
      [TABLES.cases.envVar]: "value-of-CasesTableName",
      VIGIL_ARCHIVE_BUCKET: "value-of-ArchiveBucketName",
      VIGIL_BACKTEST_STATE_MACHINE_ARN: "value-of-BacktestStateMachineArn",
      VIGIL_ALERT_TOPIC_ARN: "value-of-AlertTopicArn",
      VIGIL_OPENSEARCH_ENDPOINT: "value-of-AuditEndpoint",
      VIGIL_AUDIT_INDEX_PREFIX: "value-of-AuditIndexPrefix",
    });
  });

  it("says a stack does not exist when CloudFormation answers ValidationError", async () => {
    const attempt = loadStackOutputs("Vigil-missing", { env: cfnEnv() });
    await expect(attempt).rejects.toBeInstanceOf(CliError);
    await expect(loadStackOutputs("Vigil-missing", { env: cfnEnv() })).rejects.toThrow(
      /stack Vigil-missing does not exist in this account and region/,
    );
  });

  it("refuses a stack that has none of Vigil's outputs", async () => {
    await expect(loadStackOutputs("NotVigil", { env: cfnEnv() })).rejects.toThrow(/none of Vigil's outputs/);
  });
});

describe("resolveTarget with a stack", () => {
  const saved: Record<string, string | undefined> = {};
  const setEnv = (name: string, value: string | undefined) => {
    if (!(name in saved)) saved[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("takes the names from the stack's outputs, except a variable this shell sets", async () => {
    for (const t of Object.values(TABLES)) setEnv(t.envVar, undefined);
    setEnv(TABLES.decisions.envVar, "my-own-decisions");
    await useStack("Vigil-prod", cfnEnv());
    const target = resolveTarget(mkdtempSync(join(tmpdir(), "vigil-no-local-")));
    expect(target.table("config")).toBe("value-of-ConfigTableName");
    expect(target.stream("events")).toBe("value-of-EventsStreamName");
    expect(target.table("decisions")).toBe("my-own-decisions");
  });

  it("refuses to guess when VIGIL_STACK names a stack whose outputs were not loaded", () => {
    setEnv(STACK_ENV_VAR, "Vigil-prod");
    expect(() => resolveTarget()).toThrow(CliError);
  });
});

describe("vigil --stack against DynamoDB Local", () => {
  let local: LocalStack;
  beforeAll(async () => {
    local = await startLocalStack({ stateDir: mkdtempSync(join(tmpdir(), "vigil-stack-cli-")) });
    cloudformation.putStack("Vigil-local", {
      EventsStreamName: local.names.streams.events,
      DecisionsStreamName: local.names.streams.decisions,
      StateTableName: local.names.tables.state,
      ConfigTableName: local.names.tables.config,
      DecisionsTableName: local.names.tables.decisions,
      QuarantineTableName: local.names.tables.quarantine,
      AlertsTableName: local.names.tables.alerts,
    });
  });
  afterAll(async () => {
    await local?.stop();
  });

  /** Runs the CLI with the SDK pointed at the engines and the fake CloudFormation, and no VIGIL_* names. */
  function vigil(args: string[], extra: Record<string, string> = {}) {
    const env: Record<string, string | undefined> = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith("VIGIL_")),
    );
    Object.assign(env, {
      AWS_ENDPOINT_URL_DYNAMODB: local.env.AWS_ENDPOINT_URL_DYNAMODB,
      AWS_ENDPOINT_URL_KINESIS: local.env.AWS_ENDPOINT_URL_KINESIS,
      ...cfnEnv(),
      ...extra,
    });
    // Async: the fake CloudFormation answers from this process's event loop.
    return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, [VIGIL_BIN, ...args], {
        env,
        cwd: mkdtempSync(join(tmpdir(), "vigil-cwd-")),
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
      });
      child.on("close", (code) => resolve({ code, out, err }));
    });
  }

  it("lists the rules in force of the stack named by --stack, without a single name exported", async () => {
    const run = await vigil(["rules", "list", "--stack", "Vigil-local"]);
    expect(run.err).toContain("(using the outputs of stack Vigil-local)");
    expect(run.code).toBe(0);
    const shipped = (SHIPPED_DEFAULTS.rules as { rules: Array<{ id: string }> }).rules;
    for (const rule of shipped) expect(run.out).toContain(rule.id);
  });

  it("reads VIGIL_STACK the same way, and fails with exit code 1 naming a stack that does not exist", async () => {
    const ok = await vigil(["rules", "list"], { [STACK_ENV_VAR]: "Vigil-local" });
    expect(ok.code).toBe(0);
    const missing = await vigil(["rules", "list"], { [STACK_ENV_VAR]: "Vigil-gone" });
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/vigil: stack Vigil-gone does not exist/);
  });
});
