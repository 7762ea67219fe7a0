/**
 * Writes local/training/previous-champion-model.json: the default model before the issue-16 pack
 * (2026.03.1-sim), refit from its spec on simulated traffic (see test/support/default-model.ts for
 * the terms, seeds and sizes). It is the champion that decides the traffic today's default model
 * is trained on (scripts/train-default-model.ts). Deterministic; a unit test fails while the
 * committed artifact differs from a refit:
 *
 *   npx tsx scripts/fit-default-model.ts
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defaultModelDocument } from "../test/support/default-model.ts";

const document = defaultModelDocument();
const path = new URL("../local/training/previous-champion-model.json", import.meta.url);
writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`);
// Formatted the way `npm run lint` expects, so a refit leaves no lint diff.
execFileSync("npx", ["biome", "format", "--write", fileURLToPath(path)], { stdio: "inherit" });
const m = document.active.provenance.metrics ?? {};
console.log(
  `wrote local/training/previous-champion-model.json: ${document.active.version}, holdout AUC ${m.holdoutAuc}, log loss ${m.holdoutLogLoss}`,
);
