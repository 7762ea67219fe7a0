import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { describe, expect, it } from "vitest";
import { demoSimulation } from "#local/demo";
import { DEFAULT_SEED } from "#shared/domain/simulation/index";
import { leftoverEngines, VIGIL_BIN } from "../support/processes.ts";

function vigil(args: string[], timeoutMs = 150_000) {
  const result = spawnSync(process.execPath, [VIGIL_BIN, ...args], { encoding: "utf8", timeout: timeoutMs });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

const endpointIn = (text: string) => /Kinesis Mock on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];

describe("npm start (vigil demo)", () => {
  it("decides every simulated event, prints the measured summary and quality table, exits 0 and leaves no engine behind", () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), "vigil-demo-")), "demo");
    const run = vigil(
      ["demo", "--users", "60", "--attack-scale", "0.5", "--max-rate", "--state-dir", stateDir],
      170_000,
    );
    expect(run.err).not.toMatch(/vigil: /);
    expect(run.code).toBe(0);
    // The simulation does not depend on when it runs (only its timestamps move), so the count is exact.
    const events = demoSimulation({ seed: DEFAULT_SEED, users: 60, attackScale: 0.5 }, Date.now()).events
      .length;
    expect(run.out).toMatch(
      new RegExp(`events put\\s+${events} \\(0 rejected by the producer, 0 refused by Kinesis\\)`),
    );
    expect(run.out).toMatch(new RegExp(`decisions stored\\s+${events} of ${events}\\n`));
    expect(run.out).toMatch(/quarantined\s+0\n/);
    expect(run.out).toMatch(/put -> decidedAt\s+p50\s+\S+ m?s\s+p95/);
    expect(run.out).toMatch(/Detection quality/);
    expect(run.out).toMatch(/all attacks\s+\d+\s+\d+\.\d/);
    expect(run.out).toMatch(/all legitimate\s+\d+\s+\d+\.\d/);
    // The learning loop ran after the live day: outcomes came back, a challenger was trained.
    expect(run.out).toMatch(/The learning loop \(after the live day/);
    const results = /challenge results\s+(\d+) put on the events stream, (\d+) decided/.exec(run.out);
    expect(results?.[1]).toBe(results?.[2]);
    expect(run.out).toMatch(/published\s+as challenger, model version 2|trained\s+nothing: too few/);
    // Every decision reached the audit trail (the audit function's NDJSON stand-in for OpenSearch):
    // the simulated events' and the challenge results'.
    expect(run.out).toMatch(
      new RegExp(
        `Audit\\s+${events + Number(results?.[2])} document\\(s\\) .*; ${events} events and ${results?.[2]} challenge results`,
      ),
    );
    const reportPath = /Report\s+(\S+)/.exec(run.out)?.[1] ?? "";
    expect(
      readFileSync(isAbsolute(reportPath) ? reportPath : join(process.cwd(), reportPath), "utf8"),
    ).toMatch(/<canvas/);
    expect(leftoverEngines(endpointIn(run.err), join(stateDir, "data"))).toEqual([]);
  });
});

describe("vigil local up / status / down", () => {
  it("runs the stack in the background, reports it, and stops it with nothing left behind", () => {
    const stateDir = mkdtempSync(join(tmpdir(), "vigil-up-"));
    const up = vigil(["local", "up", "--state-dir", stateDir]);
    expect(up.code).toBe(0);
    expect(up.err).toMatch(/AWS_ENDPOINT_URL_KINESIS=http:\/\/127\.0\.0\.1:\d+/);
    const envFile = join(stateDir, "local.env");
    expect(readFileSync(envFile, "utf8")).toMatch(
      /export AWS_ENDPOINT_URL_DYNAMODB='http:\/\/127\.0\.0\.1:\d+'/,
    );
    const kinesisEndpoint = /AWS_ENDPOINT_URL_KINESIS=(\S+)/.exec(up.err)?.[1];

    const again = vigil(["local", "up", "--state-dir", stateDir]);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/already running/);
    expect(vigil(["local", "status", "--state-dir", stateDir]).code).toBe(0);

    const down = vigil(["local", "down", "--state-dir", stateDir]);
    expect(down.code).toBe(0);
    expect(down.err).toMatch(/Local stack stopped/);
    expect(leftoverEngines(kinesisEndpoint, join(stateDir, "data"))).toEqual([]);
    expect(vigil(["local", "status", "--state-dir", stateDir]).code).toBe(3);
  });

  it("stops cleanly on Ctrl-C in the foreground", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "vigil-fg-"));
    const child = spawn(
      process.execPath,
      [VIGIL_BIN, "local", "up", "--foreground", "--state-dir", stateDir],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    const deadline = Date.now() + 120_000;
    while (!err.includes("Press Ctrl-C to stop.") && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(err).toContain("Press Ctrl-C to stop.");
    expect(existsSync(join(stateDir, "local.json"))).toBe(true);
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(err).toContain("Stopped.");
    expect(existsSync(join(stateDir, "local.json"))).toBe(false);
    expect(leftoverEngines(endpointIn(err), join(stateDir, "data"))).toEqual([]);
  });
});
