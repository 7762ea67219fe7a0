/**
 * esbuild options for Lambda bundles, the one source for both CDK's `NodejsFunction`
 * (`infra/`) and the local runtime (`local/`), so a bundling mistake fails locally too.
 * Mirrors what `NodejsFunction` passes to esbuild for an ESM bundle on a Node.js 22 runtime.
 */
export const LAMBDA_NODE_TARGET = "node22";

/** Modules the Lambda Node.js runtime provides, left out of the bundle as CDK does by default. */
export const EXTERNAL_MODULES = ["@aws-sdk/*"] as const;

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
