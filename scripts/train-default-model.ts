/**
 * Writes config/defaults/model.json: the default model trained by the learning loop's code on
 * simulated traffic of another seed than the evaluation's (local/training/default-model.ts).
 * Deterministic; a unit test fails while the committed artifact differs from a refit. Run after
 * changing the simulator, the default features or rules, then `npm run defaults:embed`:
 *
 *   npx tsx scripts/train-default-model.ts
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { trainDefaultModel } from "#local/training/default-model";

const document = await trainDefaultModel();
const path = new URL("../config/defaults/model.json", import.meta.url);
writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`);
// Formatted the way `npm run lint` expects, so a refit leaves no lint diff.
execFileSync("npx", ["biome", "format", "--write", fileURLToPath(path)], { stdio: "inherit" });
const m = document.active.provenance?.metrics ?? {};
console.log(`wrote config/defaults/model.json: ${document.active.version}, holdout AUC ${m.holdoutAuc}`);
