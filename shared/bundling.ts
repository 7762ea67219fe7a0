/**
 * esbuild options for Lambda bundles, the one source for both CDK's `NodejsFunction`
 * (`infra/`) and the local runtime (`local/`), so a bundling mistake fails locally too.
 * Mirrors what `NodejsFunction` passes to esbuild for an ESM bundle on a Node.js 22 runtime.
 */
export const LAMBDA_NODE_TARGET = "node22";

/**
 * Modules left out of the bundle: none. CDK's default leaves `@aws-sdk/*` to the runtime's copy,
 * but then the `@smithy/*` packages we bundle meet whatever SDK version Lambda ships that day.
 * Bundling the SDK pins the exact versions of the lockfile, which the tests ran against.
 */
export const EXTERNAL_MODULES: readonly string[] = [];

/**
 * ESM bundles that contain CommonJS dependencies need a `require`; CDK users add the same banner
 * through `bundling.banner`.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __vigilCreateRequire } from 'node:module';const require = __vigilCreateRequire(import.meta.url);";

export const BUNDLING = {
  target: LAMBDA_NODE_TARGET,
  platform: "node",
  format: "esm",
  mainFields: ["module", "main"],
  minify: true,
  sourceMap: true,
  externalModules: EXTERNAL_MODULES,
  banner: ESM_REQUIRE_BANNER,
  /** File name CDK gives an ESM bundle inside the asset directory. */
  outFile: "index.mjs",
} as const;
