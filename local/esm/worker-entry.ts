/**
 * Runs inside a worker thread: one local Lambda execution environment. Imports the bundle once
 * (module scope = cold start), then runs the handler for each invoke message, one at a time.
 * The function host builds this file with esbuild, so it runs without a TypeScript loader.
 */
import { pathToFileURL } from "node:url";
import { format } from "node:util";
import { parentPort, workerData } from "node:worker_threads";
import type { Context } from "aws-lambda";
import type { InvokeMessage, SerializedError, WorkerData, WorkerMessage } from "#local/esm/worker-protocol";

type Handler = (
  event: unknown,
  context: Context,
  callback: (error?: unknown, result?: unknown) => void,
) => unknown;

const port = parentPort;
if (!port) throw new Error("worker-entry runs only as a worker thread");
const data = workerData as WorkerData;
const post = (message: WorkerMessage) => port.postMessage(message);

// Stack traces point into the TypeScript sources, as with NODE_OPTIONS=--enable-source-maps on Lambda.
process.setSourceMapsEnabled(true);

function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    return {
      errorType: error.name,
      errorMessage: error.message,
      ...(error.stack ? { stack: error.stack } : {}),
    };
  }
  return { errorType: typeof error, errorMessage: String(error) };
}

// Lambda's Node.js runtime prefixes console output with time, request id and level.
let currentRequestId = "";
for (const level of ["log", "info", "warn", "error", "debug", "trace"] as const) {
  const label = level === "log" ? "INFO" : level.toUpperCase();
  console[level] = (...args: unknown[]) => {
    const line = `${new Date().toISOString()}\t${currentRequestId || "undefined"}\t${label}\t${format(...args)}\n`;
    (level === "error" || level === "warn" ? process.stderr : process.stdout).write(line);
  };
}

async function loadHandler(): Promise<Handler> {
  const module = (await import(pathToFileURL(data.bundlePath).href)) as Record<string, unknown>;
  const handler = module[data.handler];
  if (typeof handler !== "function") {
    const error = new Error(`index.${data.handler} is undefined or not exported`);
    error.name = "Runtime.HandlerNotFound";
    throw error;
  }
  return handler as Handler;
}

function invoke(handler: Handler, message: InvokeMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error: unknown, result?: unknown) => {
      if (settled) return;
      settled = true;
      if (error !== undefined && error !== null) reject(error);
      else resolve(result);
    };
    const context: Context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: data.functionName,
      functionVersion: "$LATEST",
      invokedFunctionArn: data.invokedFunctionArn,
      memoryLimitInMB: String(data.memoryMiB),
      awsRequestId: message.requestId,
      logGroupName: data.logGroupName,
      logStreamName: data.logStreamName,
      getRemainingTimeInMillis: () => Math.max(0, message.deadlineMs - Date.now()),
      done: (error, result) => settle(error, result),
      fail: (error) => settle(error ?? new Error("context.fail called")),
      succeed: (result: unknown) => settle(undefined, result),
    };
    try {
      const returned = handler(message.event, context, (error, result) => settle(error, result));
      if (
        returned instanceof Promise ||
        (typeof returned === "object" && returned !== null && "then" in returned)
      ) {
        (returned as Promise<unknown>).then(
          (result) => settle(undefined, result),
          (error: unknown) => settle(error ?? new Error("handler rejected without a reason")),
        );
      } else if (handler.length < 3) {
        settle(undefined, returned);
      }
    } catch (error) {
      settle(error);
    }
  });
}

const handler = await loadHandler().catch((error: unknown) => {
  post({ type: "initError", error: serializeError(error) });
  return undefined;
});

if (handler) {
  post({ type: "ready" });
  port.on("message", async (message: InvokeMessage) => {
    currentRequestId = message.requestId;
    try {
      const result = await invoke(handler, message);
      // Lambda returns the handler's result as JSON; undefined becomes null.
      const json = result === undefined ? "null" : JSON.stringify(result);
      post({ type: "result", requestId: message.requestId, json: json ?? "null" });
    } catch (error) {
      post({ type: "error", requestId: message.requestId, error: serializeError(error) });
    } finally {
      currentRequestId = "";
    }
  });
} else {
  // Stay alive until the host, having read the init error, discards this environment.
  port.on("message", () => {});
}
