import type { Command } from "commander";
import { CliError, say } from "#cli/output";
import { runDemo } from "#local/demo";

/** `vigil demo` (what `npm start` runs): the whole pipeline on a fresh local stack, with a summary. */
export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description("Run the pipeline end to end on a fresh local stack and print a summary (npm start)")
    .option("--events <n>", "how many sample events to put", "1000")
    .option("--state-dir <dir>", "where the demo's stack keeps its files (wiped first)", ".vigil/demo")
    .option("--timeout <seconds>", "give up when not every event is decided by then", "180")
    .action(async (opts: { events: string; stateDir: string; timeout: string }) => {
      const events = Number(opts.events);
      if (!Number.isInteger(events) || events < 1) throw new CliError("--events must be a positive integer");
      const started = Date.now();
      let summary: Awaited<ReturnType<typeof runDemo>>;
      try {
        summary = await runDemo({
          events,
          stateDir: opts.stateDir,
          timeoutSeconds: Number(opts.timeout),
          log: say,
        });
      } catch (error) {
        throw new CliError((error as Error).message);
      }
      const lines = [
        "",
        "Vigil demo summary",
        `  events put                ${summary.eventsPut} (${summary.putFailures} rejected by Kinesis)`,
        `  decisions stored          ${summary.decisionsStored}`,
        `  actions                   ${Object.entries(summary.actions)
          .map(([a, n]) => `${a}=${n}`)
          .join(" ")}`,
        `  score invocations         ${summary.invocations}`,
        `  put to all decided        ${summary.secondsToAllDecided.toFixed(2)} s (${summary.eventsPerSecond.toFixed(0)} events/s)`,
        `  total run time            ${((Date.now() - started) / 1000).toFixed(1)} s`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
