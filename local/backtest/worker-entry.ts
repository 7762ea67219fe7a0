/**
 * A backtest worker thread: runs the tasks its parent posts (`runBacktestTask`) one at a time and
 * posts each result, or the error's name and message, back. Bundled by worker-pool.ts.
 */
import { parentPort } from "node:worker_threads";
import { type BacktestTask, runBacktestTask } from "#local/backtest/backtest-task";

const port = parentPort;
if (!port) throw new Error("the backtest worker runs in a worker thread");
port.on("message", (message: { readonly id: number; readonly task: BacktestTask }) => {
  runBacktestTask(message.task).then(
    (result) => port.postMessage({ id: message.id, ok: true, result }),
    (error: unknown) =>
      port.postMessage({
        id: message.id,
        ok: false,
        error:
          error instanceof Error
            ? { name: error.name, message: error.message }
            : { name: "Error", message: String(error) },
      }),
  );
});
