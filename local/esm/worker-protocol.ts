/**
 * Messages between the function host (main thread) and a function's worker thread, the local
 * stand-in for one Lambda execution environment. Types only: the worker bundle imports nothing.
 */

/** What a worker needs to start: its bundle, handler and identity (read once, at cold start). */
export interface WorkerData {
  readonly bundlePath: string;
  readonly handler: string;
  readonly functionName: string;
  readonly memoryMiB: number;
  readonly invokedFunctionArn: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
}

/** An error as Lambda reports it (`errorType`, `errorMessage`, `trace`). */
export interface SerializedError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly stack?: string;
}

/** Host to worker: run the handler once. */
export interface InvokeMessage {
  readonly type: "invoke";
  readonly requestId: string;
  readonly event: unknown;
  /** Epoch milliseconds at which the invocation times out (for `getRemainingTimeInMillis`). */
  readonly deadlineMs: number;
}

/** Worker to host. */
export type WorkerMessage =
  /** Module scope ran and the handler export exists. */
  | { readonly type: "ready" }
  /** Importing the bundle threw, or the handler is not an exported function. */
  | { readonly type: "initError"; readonly error: SerializedError }
  /** The handler returned; `json` is its result serialized as Lambda serializes it. */
  | { readonly type: "result"; readonly requestId: string; readonly json: string }
  /** The handler threw or rejected, or its result could not be serialized. */
  | { readonly type: "error"; readonly requestId: string; readonly error: SerializedError };
