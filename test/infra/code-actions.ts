import { readFileSync } from "node:fs";
import * as path from "node:path";
import { build } from "esbuild";
import { REPO_ROOT } from "#infra/paths";
import { BUNDLING } from "#shared/bundling";

/**
 * The IAM actions each SDK command (lib-dynamodb's and the clients' own) needs. A command found in a
 * function's sources that is missing here fails the test that uses this map, so a new call cannot
 * slip past the least-privilege check. `TransactWriteItems` needs the actions of its items, which
 * {@link codeCalls} reads from the `Put:`, `Update:`, `Delete:` and `ConditionCheck:` entries of the
 * file that builds the transaction.
 */
export const COMMAND_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  GetCommand: ["dynamodb:GetItem"],
  PutObjectCommand: ["s3:PutObject"],
  GetObjectCommand: ["s3:GetObject"],
  ListObjectsV2Command: ["s3:ListBucket"],
  GetItemCommand: ["dynamodb:GetItem"],
  BatchGetCommand: ["dynamodb:BatchGetItem"],
  BatchGetItemCommand: ["dynamodb:BatchGetItem"],
  PutCommand: ["dynamodb:PutItem"],
  PutItemCommand: ["dynamodb:PutItem"],
  UpdateCommand: ["dynamodb:UpdateItem"],
  UpdateItemCommand: ["dynamodb:UpdateItem"],
  DeleteCommand: ["dynamodb:DeleteItem"],
  DeleteItemCommand: ["dynamodb:DeleteItem"],
  QueryCommand: ["dynamodb:Query"],
  ScanCommand: ["dynamodb:Scan"],
  BatchWriteCommand: ["dynamodb:BatchWriteItem"],
  BatchWriteItemCommand: ["dynamodb:BatchWriteItem"],
  // The item operations of a transaction are read from the file itself (see codeCalls).
  TransactWriteCommand: [],
  TransactWriteItemsCommand: [],
  TransactGetCommand: ["dynamodb:GetItem"],
  PutRecordCommand: ["kinesis:PutRecord"],
  PutRecordsCommand: ["kinesis:PutRecords"],
  PublishCommand: ["sns:Publish"],
  PublishBatchCommand: ["sns:Publish"],
  GetSecretValueCommand: ["secretsmanager:GetSecretValue"],
};

/** What the code of one function can call, found in the sources esbuild puts into its bundle. */
export interface CodeCalls {
  /** Repository source files (not node_modules) that contribute code to the bundle. */
  readonly sources: readonly string[];
  /** SDK command classes constructed in those files. */
  readonly commands: ReadonlySet<string>;
  /** IAM actions those commands and OpenSearch requests need. */
  readonly actions: ReadonlySet<string>;
}

/**
 * Bundles a function entry with the options of `shared/bundling.ts` (in memory, with a metafile),
 * keeps the repository's own source files that contribute bytes to the output (tree-shaken files
 * do not), and collects the SDK commands they construct (`new XCommand(`) and the OpenSearch
 * requests they make (`.bulk(` is a POST; `request("VERB", ...)` and `method: "VERB"`). Throws on a command missing
 * from {@link COMMAND_ACTIONS}. The granularity is the file: a method of an adapter the function
 * never calls still counts when the adapter's file is bundled (e.g. the quarantine store's Scan in
 * score), so the declared lists in `infra/function-permissions.ts` are the finer statement.
 */
export async function codeCalls(entry: string): Promise<CodeCalls> {
  const result = await build({
    entryPoints: [path.join(REPO_ROOT, entry)],
    bundle: true,
    platform: BUNDLING.platform,
    format: BUNDLING.format,
    target: BUNDLING.target,
    mainFields: [...BUNDLING.mainFields],
    external: [...BUNDLING.externalModules],
    write: false,
    metafile: true,
    outfile: path.join(REPO_ROOT, "code-calls.mjs"),
    logLevel: "silent",
  });
  const [output] = Object.values(result.metafile.outputs);
  if (!output) throw new Error(`esbuild produced no output for ${entry}`);
  const sources = Object.entries(output.inputs)
    .filter(([file, input]) => input.bytesInOutput > 0 && !file.includes("node_modules"))
    .map(([file]) => path.resolve(REPO_ROOT, file));
  const commands = new Set<string>();
  const actions = new Set<string>();
  for (const file of sources) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/new\s+([A-Z]\w*Command)\s*\(/g)) {
      const command = match[1] as string;
      const needs = COMMAND_ACTIONS[command];
      if (!needs)
        throw new Error(`${file}: ${command} is not in COMMAND_ACTIONS; add the IAM actions it needs`);
      commands.add(command);
      for (const action of needs) actions.add(action);
      if (command.startsWith("TransactWrite"))
        for (const item of text.matchAll(/\b(Put|Update|Delete|ConditionCheck)\s*:\s*\{/g))
          actions.add(`dynamodb:${item[1]}Item`);
    }
    if (/\.bulk\(/.test(text)) actions.add("es:ESHttpPost");
    for (const match of text.matchAll(/(?:request\(\s*|method:\s*)"(GET|PUT|POST|DELETE|HEAD)"/g)) {
      const verb = match[1] as string;
      actions.add(`es:ESHttp${verb[0]}${verb.slice(1).toLowerCase()}`);
    }
  }
  return { sources, commands, actions };
}
