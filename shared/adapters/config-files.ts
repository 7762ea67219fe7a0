import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isNode, LineCounter, parseDocument } from "yaml";
import {
  type ConfigIssue,
  type ConfigValidationError,
  prepareDocument,
  type SeededKind,
} from "#shared/domain/decision/index";
import { SHIPPED_DEFAULTS } from "#shared/domain/decision/shipped-defaults";
import { DEFAULT_FEATURE_SET } from "#shared/domain/features/index";
import type { ConfigStore, ConfigVersionInfo } from "#shared/ports/config-store";

/** Largest configuration file read, in bytes (the store's limit applies after compression). */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

/** Where the shipped defaults live (rules.yaml, lists.json, model.json). */
export const DEFAULT_CONFIG_DIR = fileURLToPath(new URL("../../config/defaults/", import.meta.url));

/** A file that could not be read or parsed; the message starts with `file:line:column`. */
export class ConfigFileError extends Error {
  override readonly name = "ConfigFileError";
}

/** A parsed configuration file that can say where a document path is in the source. */
export interface ConfigFile {
  readonly path: string;
  readonly document: unknown;
  /** 1-based line and column of the value at a document path, if the file has it. */
  locate(path: readonly (string | number)[]): { line: number; column: number } | undefined;
}

/**
 * Reads a YAML or JSON configuration file (JSON is YAML, so one parser serves both). Duplicate
 * keys are errors, not "last one wins", because a duplicated `when:` would silently drop a
 * condition.
 */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_FILE_BYTES)
      throw new ConfigFileError(`${path}: larger than ${MAX_FILE_BYTES} bytes`);
    text = bytes.toString("utf8");
  } catch (error) {
    if (error instanceof ConfigFileError) throw error;
    throw new ConfigFileError(
      `${path}: cannot read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    uniqueKeys: true,
    prettyErrors: false,
    version: "1.2",
  });
  const [first] = doc.errors;
  if (first) {
    const pos = lines.linePos(first.pos[0]);
    throw new ConfigFileError(`${path}:${pos.line}:${pos.col}: ${first.message.split("\n")[0]}`);
  }
  return {
    path,
    document: doc.toJS({ maxAliasCount: 100 }),
    locate(at) {
      const node = doc.getIn(at, true);
      if (!isNode(node) || !node.range) return undefined;
      const pos = lines.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    },
  };
}

/** Issues of a ConfigValidationError prefixed with where each is in the file. */
export function describeIssuesInFile(file: ConfigFile, error: ConfigValidationError): string[] {
  return error.issues.map((issue) => {
    const where = file.locate(documentPath(issue));
    const prefix = where ? `${file.path}:${where.line}: ` : `${file.path}: `;
    return `${prefix}${issueText(issue)}`;
  });
}

function issueText(issue: ConfigIssue): string {
  const rule =
    issue.ruleId !== undefined
      ? `rule ${issue.ruleId}: `
      : issue.featureId !== undefined
        ? `feature ${issue.featureId}: `
        : "";
  const at = issue.line === undefined ? "" : `expression line ${issue.line}, column ${issue.column ?? 1}: `;
  return `${rule}${issue.path}: ${at}${issue.message}`;
}

/** `rules[3].when` → ["rules", 3, "when"]. */
function documentPath(issue: ConfigIssue): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of issue.path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

/**
 * The default documents in `dir`: rules, lists and model from its files, and the default feature set
 * (`DEFAULT_FEATURE_SET`, kept in code because the pure domain and its tests use it;
 * `vigil features get --default` prints it as YAML to start from). Without `dir`, the shipped
 * defaults as embedded in the code ({@link SHIPPED_DEFAULTS}, generated from `config/defaults/`).
 */
export function defaultDocuments(dir?: string): Record<SeededKind, unknown> {
  if (dir === undefined) return { ...SHIPPED_DEFAULTS };
  return {
    rules: readConfigFile(`${dir}rules.yaml`).document,
    lists: readConfigFile(`${dir}lists.json`).document,
    model: readConfigFile(`${dir}model.json`).document,
    features: DEFAULT_FEATURE_SET,
  };
}

/**
 * The TypeScript source of `shared/domain/decision/shipped-defaults.generated.ts`: the documents of
 * `config/defaults/` as JSON literals (`npm run defaults:embed` writes it).
 */
export function embeddedDefaultsSource(dir: string = DEFAULT_CONFIG_DIR): string {
  const { rules, lists, model } = defaultDocuments(dir);
  const literal = (value: unknown) => JSON.stringify(value, null, 2);
  return [
    "// Generated by `npm run defaults:embed` from config/defaults/: edit those files, not this one.",
    "",
    "/** config/defaults/rules.yaml as data. */",
    `export const SHIPPED_RULES: unknown = ${literal(rules)};`,
    "",
    "/** config/defaults/lists.json as data. */",
    `export const SHIPPED_LISTS: unknown = ${literal(lists)};`,
    "",
    "/** config/defaults/model.json as data. */",
    `export const SHIPPED_MODEL: unknown = ${literal(model)};`,
    "",
  ].join("\n");
}

/**
 * Applies the shipped defaults for every kind that has never been applied (a fresh table), as
 * version 1 by `author`; kinds that already have versions are left alone. Returns what it wrote.
 */
export async function seedDefaultConfig(
  store: ConfigStore,
  options: { readonly author: string; readonly now: string; readonly dir?: string },
): Promise<ConfigVersionInfo[]> {
  const documents = defaultDocuments(options.dir);
  const written: ConfigVersionInfo[] = [];
  const heads = await store.heads(Object.keys(documents));
  for (const [kind, document] of Object.entries(documents) as [SeededKind, unknown][]) {
    if (heads.has(kind)) continue;
    const stamp = { author: options.author, now: options.now };
    written.push(
      await store.apply({
        kind,
        document: prepareDocument(kind, undefined, document, stamp),
        expectedVersion: 0,
        author: options.author,
        comment: "shipped defaults",
        now: options.now,
      }),
    );
  }
  return written;
}
