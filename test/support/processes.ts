import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path of the `vigil` CLI entry. */
export const VIGIL_BIN = fileURLToPath(new URL("../../bin/vigil.js", import.meta.url));

/**
 * Pids of live processes whose environment contains `needle` (e.g. `KINESIS_MOCK_PLAIN_PORT=41321`)
 * or whose working directory starts with `cwdPrefix`: how the tests find engines left behind.
 */
export function findProcesses(match: { envEntry?: string; cwdPrefix?: string }): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (
        match.envEntry &&
        readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(match.envEntry)
      ) {
        found.push(Number(entry));
        continue;
      }
      if (match.cwdPrefix && readlinkSync(`/proc/${entry}/cwd`).startsWith(match.cwdPrefix))
        found.push(Number(entry));
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return found;
}

/** Pids of engine processes started for the given Kinesis endpoint or data directory. */
export function leftoverEngines(kinesisEndpoint: string | undefined, dataDir: string): number[] {
  const port = kinesisEndpoint ? new URL(kinesisEndpoint).port : undefined;
  return [
    ...(port ? findProcesses({ envEntry: `KINESIS_MOCK_PLAIN_PORT=${port}` }) : []),
    ...findProcesses({ cwdPrefix: dataDir }),
  ];
}
