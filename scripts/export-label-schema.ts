/**
 * Writes docs/label.schema.json from the zod label contract. Run after changing
 * shared/domain/labels/label-schema.ts: `npx tsx scripts/export-label-schema.ts`. A unit test fails
 * while the committed file differs from the contract.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LABEL_JSON_SCHEMA_PATH, labelJsonSchema } from "#shared/domain/labels/index";

const root = fileURLToPath(new URL("..", import.meta.url));
writeFileSync(
  new URL(`../${LABEL_JSON_SCHEMA_PATH}`, import.meta.url),
  `${JSON.stringify(labelJsonSchema(), null, 2)}\n`,
);
execFileSync("npx", ["biome", "format", "--write", LABEL_JSON_SCHEMA_PATH], { cwd: root, stdio: "inherit" });
console.log(`wrote ${LABEL_JSON_SCHEMA_PATH}`);
