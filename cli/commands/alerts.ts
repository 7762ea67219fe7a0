import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { CliError, say } from "#cli/output";
import { localSinkPaths } from "#local/local-sinks";
import { DEFAULT_STATE_DIR } from "#local/local-stack";
import { readStatus } from "#local/supervisor";
import { OUTBOX_FILE_PATTERN } from "#shared/adapters/outbox-alert-publisher";
import type { SnsPublishInput } from "#shared/adapters/sns-publish-input";
import { ENV } from "#shared/resources";

/** Options of {@link tailOutbox}. */
export interface TailOptions {
  /** Print what is there and return, instead of following. */
  readonly once?: boolean;
  /** One raw SNS Publish input per line instead of the readable line. */
  readonly json?: boolean;
  /** The whole message (email bodies included) under each line. */
  readonly full?: boolean;
  readonly pollMs?: number;
  readonly write?: (text: string) => void;
  /** Stops following. */
  readonly signal?: AbortSignal;
}

/** `20261122T033000123Z-<id>.json` → `2026-11-22T03:30:00.123Z`. */
function fileTime(name: string): string {
  const s = name.slice(0, 19);
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}.${s.slice(15, 18)}Z`;
}

/** One readable line per alert: time, severity, channel, action, scenario, then the SMS text or email subject. */
export function formatOutboxEntry(name: string, input: SnsPublishInput, full = false): string {
  const attr = (k: string) => input.MessageAttributes[k]?.StringValue ?? "-";
  const head = `${fileTime(name)}  ${attr("severity").toUpperCase().padEnd(8)} ${attr("channel").padEnd(5)} ${attr("action")} ${attr("scenario")}`;
  const summary = input.Subject ?? input.Message;
  return full ? `${head}  ${summary}\n${input.Message.replace(/^/gm, "    ")}\n` : `${head}  ${summary}\n`;
}

/**
 * Prints the outbox's alerts in the order they were published, then (unless `once`) keeps
 * printing new ones as they appear, until the signal aborts. Returns how many it printed.
 */
export async function tailOutbox(dir: string, options: TailOptions = {}): Promise<number> {
  const write = options.write ?? ((t: string) => process.stdout.write(t));
  const seen = new Set<string>();
  let printed = 0;
  for (;;) {
    const names = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => OUTBOX_FILE_PATTERN.test(f))
          .sort()
      : [];
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      const input = JSON.parse(readFileSync(join(dir, name), "utf8")) as SnsPublishInput;
      write(options.json ? `${JSON.stringify(input)}\n` : formatOutboxEntry(name, input, options.full));
      printed++;
    }
    if (options.once || options.signal?.aborted) return printed;
    await new Promise<void>((done) => {
      const timer = setTimeout(done, options.pollMs ?? 500);
      options.signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        done();
      });
    });
    if (options.signal?.aborted) return printed;
  }
}

/** The outbox directory: `--dir`, else this shell's or the running local stack's env, else the default. */
function outboxDir(explicit: string | undefined, stateDir: string): string {
  if (explicit) return resolve(explicit);
  const fromEnv = process.env[ENV.alertOutboxDir] ?? readStatus(stateDir)?.env[ENV.alertOutboxDir];
  return fromEnv ?? localSinkPaths(resolve(stateDir)).alertOutboxDir;
}

/** `vigil alerts tail`: follow the local alert outbox. */
export function registerAlertsCommands(program: Command): void {
  const alerts = program.command("alerts").description("Alerts the alert function raised (local outbox)");
  alerts
    .command("tail")
    .description("Print the alerts in the local outbox and follow new ones as they are published")
    .option("--once", "print what is there and exit")
    .option("--json", "one SNS Publish input (JSON) per line")
    .option("--full", "print whole messages (email bodies) too")
    .option("--dir <dir>", "outbox directory (default: the local stack's)")
    .option("--state-dir <dir>", "the local stack's state directory", DEFAULT_STATE_DIR)
    .action(
      async (opts: { once?: boolean; json?: boolean; full?: boolean; dir?: string; stateDir: string }) => {
        const dir = outboxDir(opts.dir, opts.stateDir);
        if (!existsSync(dir) && opts.once)
          throw new CliError(`no outbox at ${dir} (start a local stack: vigil local up)`, 3);
        say(`(outbox ${dir}${opts.once ? "" : "; following, Ctrl-C to stop"})`);
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        const printed = await tailOutbox(dir, {
          once: opts.once ?? false,
          json: opts.json ?? false,
          full: opts.full ?? false,
          signal: controller.signal,
        });
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        if (opts.once && printed === 0) say("No alerts yet.");
      },
    );
}
