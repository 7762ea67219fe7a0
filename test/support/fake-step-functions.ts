import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ObjectStore } from "#shared/ports/object-store";

/**
 * A local HTTP server speaking the Step Functions JSON protocol (`application/x-amz-json-1.0`,
 * `X-Amz-Target: AWSStepFunctions.<Operation>`) for the two operations `vigil backtest
 * --distributed` calls, StartExecution and DescribeExecution, with Step Functions' error documents
 * (`ExecutionAlreadyExists`, `ExecutionDoesNotExist`, `StateMachineDoesNotExist`,
 * `InvalidName`). An execution runs the one distributed map state of the definition it was given,
 * the way Step Functions would: reads the item list from S3 (`ItemReader`, `Key.$` with
 * `States.Format`), cuts it into batches (`ItemBatcher`: `MaxItemsPerBatch`, `BatchInput`),
 * invokes the Lambda task once per batch with `{ Items, BatchInput }` (`Payload.$: "$"`,
 * `OutputPath: "$.Payload"`) at most `MaxConcurrency` at once, and writes the children's results
 * as the result writer does (`<Prefix>/<map run id>/SUCCEEDED_0.json`, `FAILED_0.json`,
 * `manifest.json`). With `ToleratedFailurePercentage` 0 one failed child fails the execution
 * (`States.ExceedToleratedFailureThreshold`).
 */

/** One execution as the fake keeps it. */
export interface FakeExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: number;
  status: "RUNNING" | "SUCCEEDED" | "FAILED";
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  /** Batches the map handed to the Lambda task. */
  batches: number;
  /** Resolves when the execution has ended. */
  readonly done: Promise<void>;
}

/** Options of {@link startFakeStepFunctions}. */
export interface FakeStepFunctionsOptions {
  readonly stateMachineArn: string;
  /** The state machine's Amazon States Language (one distributed Map state). */
  readonly definition: Record<string, unknown>;
  /** The bucket the item reader and result writer use (its name must match the definition's). */
  readonly bucket: string;
  readonly store: ObjectStore;
  /** Lambda: invokes the function named by the task with a payload, returns its result (or throws). */
  readonly invoke: (functionArn: string, payload: unknown) => Promise<unknown>;
}

export interface FakeStepFunctions {
  /** `http://127.0.0.1:<port>`: give it to the SDK as `AWS_ENDPOINT_URL_SFN`. */
  readonly endpoint: string;
  /** Executions by ARN. */
  readonly executions: Map<string, FakeExecution>;
  /** Operations received, in order (`StartExecution`, `DescribeExecution`). */
  readonly requests: string[];
  close(): Promise<void>;
}

interface MapState {
  readonly ItemReader: { readonly Parameters: Record<string, string> };
  readonly ItemBatcher: { readonly MaxItemsPerBatch: number; readonly BatchInput: Record<string, string> };
  readonly ItemProcessor: {
    readonly StartAt: string;
    readonly States: Record<
      string,
      { readonly Parameters: Record<string, string>; readonly OutputPath: string }
    >;
  };
  readonly ResultWriter: { readonly Parameters: Record<string, string> };
  readonly MaxConcurrency: number;
  readonly ToleratedFailurePercentage: number;
}

/** Evaluates the JSONPath subset the definition uses: `$.field` and `States.Format('…{}…', $.field)`. */
function evaluate(expression: string, input: Record<string, unknown>): string {
  const path = /^\$\.(\w+)$/.exec(expression);
  if (path?.[1]) return String(input[path[1]]);
  const format = /^States\.Format\('([^']*)',\s*\$\.(\w+)\)$/.exec(expression);
  if (format?.[1] !== undefined && format[2]) return format[1].replace("{}", String(input[format[2]]));
  throw new Error(`the fake does not evaluate ${expression}`);
}

/** A parameter that is literal (`Name`) or a path (`Name.$`). */
function parameter(params: Record<string, string>, name: string, input: Record<string, unknown>): string {
  const path = params[`${name}.$`];
  if (path !== undefined) return evaluate(path, input);
  const literal = params[name];
  if (literal === undefined) throw new Error(`no ${name} parameter`);
  return literal;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeStepFunctions(options: FakeStepFunctionsOptions): Promise<FakeStepFunctions> {
  const executions = new Map<string, FakeExecution>();
  const requests: string[] = [];
  const states = options.definition.States as Record<string, MapState>;
  const start = options.definition.StartAt as string;
  const startState = states[start];
  if (!startState) throw new Error("the definition has no start state");
  const map: MapState = startState;
  const stateMachineName = options.stateMachineArn.split(":stateMachine:")[1] ?? "";
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  async function runMap(execution: FakeExecution): Promise<void> {
    const input = JSON.parse(execution.input) as Record<string, unknown>;
    const mapRunId = randomUUID();
    const mapRunArn = `${options.stateMachineArn.replace(":stateMachine:", ":mapRun:")}/${execution.name}:${mapRunId}`;
    const readerBucket = parameter(map.ItemReader.Parameters, "Bucket", input);
    if (readerBucket !== options.bucket) throw new Error(`item reader bucket ${readerBucket}`);
    const itemsKey = parameter(map.ItemReader.Parameters, "Key", input);
    const body = await options.store.get(itemsKey);
    if (body === undefined) {
      execution.error = "States.ItemReaderFailed";
      execution.cause = `the item reader found no object ${itemsKey}`;
      return;
    }
    const items = JSON.parse(new TextDecoder().decode(body)) as unknown[];
    const batchInput = Object.fromEntries(
      Object.entries(map.ItemBatcher.BatchInput).map(([k, v]) => [
        k.replace(/\.\$$/, ""),
        evaluate(v, input),
      ]),
    );
    const batches: unknown[][] = [];
    for (let i = 0; i < items.length; i += map.ItemBatcher.MaxItemsPerBatch)
      batches.push(items.slice(i, i + map.ItemBatcher.MaxItemsPerBatch));
    execution.batches = batches.length;
    const task = map.ItemProcessor.States[map.ItemProcessor.StartAt];
    if (task?.OutputPath !== "$.Payload")
      throw new Error("the fake runs one Lambda task with OutputPath $.Payload");
    const functionArn = parameter(task.Parameters, "FunctionName", {});

    type Child = Record<string, unknown>;
    const succeeded: Child[] = [];
    const failed: Child[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < batches.length; i = next++) {
        const childInput = { Items: batches[i], BatchInput: batchInput };
        const name = randomUUID();
        const common = {
          ExecutionArn: `${options.stateMachineArn.replace(":stateMachine:", ":express:")}/${mapRunId}:${name}`,
          Input: JSON.stringify(childInput),
          InputDetails: { Included: true },
          Name: name,
          StartDate: new Date().toISOString(),
          StateMachineArn: `${options.stateMachineArn}/${mapRunId}`,
        };
        try {
          const result = await options.invoke(functionArn, childInput);
          succeeded.push({
            ...common,
            Output: JSON.stringify(result),
            OutputDetails: { Included: true },
            Status: "SUCCEEDED",
            StopDate: new Date().toISOString(),
          });
        } catch (error) {
          const e = error instanceof Error ? error : new Error(String(error));
          failed.push({
            ...common,
            Error: e.name,
            Cause: JSON.stringify({ errorType: e.name, errorMessage: e.message }),
            Status: "FAILED",
            StopDate: new Date().toISOString(),
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(map.MaxConcurrency, 4)) }, worker));

    const writerBucket = parameter(map.ResultWriter.Parameters, "Bucket", input);
    if (writerBucket !== options.bucket) throw new Error(`result writer bucket ${writerBucket}`);
    const prefix = `${parameter(map.ResultWriter.Parameters, "Prefix", input)}/${mapRunId}`;
    const files: Record<"SUCCEEDED" | "FAILED" | "PENDING", Array<{ Key: string; Size: number }>> = {
      SUCCEEDED: [],
      FAILED: [],
      PENDING: [],
    };
    for (const [status, children] of [
      ["SUCCEEDED", succeeded],
      ["FAILED", failed],
    ] as const) {
      if (children.length === 0) continue;
      const key = `${prefix}/${status}_0.json`;
      const bytes = json(children);
      await options.store.put(key, bytes, { contentType: "application/json" });
      files[status].push({ Key: key, Size: bytes.length });
    }
    const manifestKey = `${prefix}/manifest.json`;
    await options.store.put(
      manifestKey,
      json({ DestinationBucket: options.bucket, MapRunArn: mapRunArn, ResultFiles: files }),
    );
    const failedPercent = batches.length === 0 ? 0 : (100 * failed.length) / batches.length;
    if (failedPercent > map.ToleratedFailurePercentage) {
      execution.error = "States.ExceedToleratedFailureThreshold";
      execution.cause = "The specified tolerated failure threshold was exceeded";
      return;
    }
    execution.output = JSON.stringify({
      MapRunArn: mapRunArn,
      ResultWriterDetails: { Bucket: options.bucket, Key: manifestKey },
    });
  }

  const error = (res: ServerResponse, status: number, type: string, message: string) => {
    res.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
    res.end(JSON.stringify({ __type: `com.amazonaws.sfn#${type}`, message }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.replace(/^AWSStepFunctions\./, "");
    requests.push(operation);
    const body = JSON.parse((await readBody(req)) || "{}") as Record<string, string>;
    const ok = (value: unknown) => {
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      res.end(JSON.stringify(value));
    };
    if (operation === "StartExecution") {
      if (body.stateMachineArn !== options.stateMachineArn)
        return error(
          res,
          400,
          "StateMachineDoesNotExist",
          `State Machine Does Not Exist: '${body.stateMachineArn}'`,
        );
      const name = body.name ?? randomUUID();
      if (!/^[A-Za-z0-9_-]{1,80}$/.test(name))
        return error(res, 400, "InvalidName", `Invalid Name: '${name}'`);
      const executionArn = `${options.stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
      const existing = executions.get(executionArn);
      if (existing) {
        // Step Functions: the same name and input while running is the same execution; otherwise refused.
        if (existing.status === "RUNNING" && existing.input === (body.input ?? "{}"))
          return ok({ executionArn, startDate: existing.startDate });
        return error(res, 400, "ExecutionAlreadyExists", `Execution Already Exists: '${executionArn}'`);
      }
      let finish: () => void = () => {};
      const execution: FakeExecution = {
        executionArn,
        name,
        input: body.input ?? "{}",
        startDate: Date.now() / 1000,
        status: "RUNNING",
        batches: 0,
        done: new Promise<void>((resolve) => {
          finish = resolve;
        }),
      };
      executions.set(executionArn, execution);
      setImmediate(() => {
        runMap(execution)
          .catch((e: unknown) => {
            execution.error = "States.Runtime";
            execution.cause = e instanceof Error ? e.message : String(e);
          })
          .finally(() => {
            execution.status = execution.error === undefined ? "SUCCEEDED" : "FAILED";
            execution.stopDate = Date.now() / 1000;
            finish();
          });
      });
      return ok({ executionArn, startDate: execution.startDate });
    }
    if (operation === "DescribeExecution") {
      const execution = executions.get(body.executionArn ?? "");
      if (!execution)
        return error(res, 400, "ExecutionDoesNotExist", `Execution Does Not Exist: '${body.executionArn}'`);
      return ok({
        executionArn: execution.executionArn,
        stateMachineArn: options.stateMachineArn,
        name: execution.name,
        status: execution.status,
        startDate: execution.startDate,
        input: execution.input,
        inputDetails: { included: true },
        ...(execution.stopDate !== undefined ? { stopDate: execution.stopDate } : {}),
        ...(execution.output !== undefined
          ? { output: execution.output, outputDetails: { included: true } }
          : {}),
        ...(execution.error !== undefined ? { error: execution.error, cause: execution.cause } : {}),
      });
    }
    return error(
      res,
      400,
      "UnknownOperationException",
      `the fake does not implement ${operation} (${stateMachineName})`,
    );
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => error(res, 500, "InternalFailure", String(e)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    executions,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
