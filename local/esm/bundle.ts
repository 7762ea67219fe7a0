import { mkdir, rm, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildResult, build, type Message } from "esbuild";
import { BundleError } from "#local/esm/errors";
import { BUNDLING } from "#shared/bundling";
import type { FunctionDefinition } from "#shared/resources";

/** A function bundle on disk, as CDK would upload it. */
export interface FunctionBundle {
  readonly functionId: string;
  /** Absolute path of `index.mjs`. */
  readonly outFile: string;
  /** esbuild's warnings, formatted. */
  readonly warnings: readonly string[];
}

const require = createRequire(import.meta.url);

/** The repository root: entries in `shared/resources.ts` are relative to it. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The directory holding the `@aws-sdk/*` packages. Lambda's Node.js runtime provides the SDK, so
 * a bundle that leaves it external (CDK's default) resolves it there; locally, from this project.
 */
function awsSdkDirectory(): string {
  return dirname(dirname(require.resolve("@aws-sdk/client-kinesis/package.json")));
}

/** One diagnostic as `file:line:column: KIND: text`, with the offending line and esbuild's notes. */
function format(messages: readonly Message[], kind: "error" | "warning"): string[] {
  return messages.map((message) => {
    const { location } = message;
    const where = location ? `${location.file}:${location.line}:${location.column + 1}: ` : "";
    const lines = [`${where}${kind.toUpperCase()}: ${message.text}`];
    if (location?.lineText) lines.push(`    ${location.line} | ${location.lineText}`);
    for (const note of message.notes) lines.push(`    note: ${note.text}`);
    return lines.join("\n");
  });
}

/**
 * Bundles a function's entry with exactly the esbuild options of `shared/bundling.ts` (the ones
 * CDK's `NodejsFunction` uses) to `<buildDir>/<functionId>/index.mjs` plus its source map, and
 * checks that the bundle exports the handler. Throws a {@link BundleError} listing esbuild's
 * diagnostics when the entry does not bundle.
 */
export async function bundleFunction(options: {
  readonly definition: FunctionDefinition;
  readonly buildDir: string;
  /** Directory the entry path is relative to. Default: the repository root. */
  readonly projectRoot?: string;
}): Promise<FunctionBundle> {
  const { definition } = options;
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const outDir = join(options.buildDir, definition.id);
  const outFile = join(outDir, BUNDLING.outFile);
  const entry = resolve(projectRoot, definition.entry);
  const what = `function ${definition.id} (${definition.entry})`;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  let result: BuildResult<{ metafile: true }>;
  try {
    result = await build({
      entryPoints: [entry],
      absWorkingDir: projectRoot,
      outfile: outFile,
      bundle: true,
      platform: BUNDLING.platform,
      target: BUNDLING.target,
      format: BUNDLING.format,
      mainFields: [...BUNDLING.mainFields],
      minify: BUNDLING.minify,
      sourcemap: BUNDLING.sourceMap,
      external: [...BUNDLING.externalModules],
      banner: { js: BUNDLING.banner },
      metafile: true,
      write: true,
      logLevel: "silent",
    });
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    if (!errors?.length) throw new BundleError(`Bundling ${what} failed: ${String(error)}`, []);
    const diagnostics = format(errors, "error");
    throw new BundleError(`Bundling ${what} failed:\n${diagnostics.join("\n")}`, diagnostics);
  }
  const output = result.metafile.outputs[relative(projectRoot, outFile)];
  if (output && !output.exports.includes(definition.handler)) {
    const message = `Bundling ${what}: the bundle does not export "${definition.handler}" (it exports: ${output.exports.join(", ") || "nothing"})`;
    throw new BundleError(message, [message]);
  }
  if (BUNDLING.externalModules.some((pattern) => pattern.startsWith("@aws-sdk"))) {
    await linkAwsSdk(options.buildDir);
  }
  return { functionId: definition.id, outFile, warnings: format(result.warnings, "warning") };
}

/**
 * Makes `@aws-sdk/*` resolvable from every bundle under `buildDir`, and nothing else: Node looks
 * for `node_modules` in the bundle's parent directories, and the Lambda runtime provides only the
 * SDK, so only the SDK is linked. Any other external module fails to load, as it would on Lambda.
 */
async function linkAwsSdk(buildDir: string): Promise<void> {
  const link = join(buildDir, "node_modules", "@aws-sdk");
  await mkdir(dirname(link), { recursive: true });
  try {
    await symlink(awsSdkDirectory(), link, "junction");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
}
