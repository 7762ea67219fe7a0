/**
 * Writes docs/event.schema.json from the zod event contract, formatted the way `npm run lint`
 * expects. Run after changing shared/domain/event/schema.ts:
 *
 *   npx tsx scripts/export-event-schema.ts
 *
 * A unit test fails while the committed file differs from the contract.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EVENT_JSON_SCHEMA_PATH, eventJsonSchemaText } from "#shared/domain/event/json-schema";

const root = fileURLToPath(new URL("..", import.meta.url));
writeFileSync(new URL(`../${EVENT_JSON_SCHEMA_PATH}`, import.meta.url), eventJsonSchemaText());
execFileSync("npx", ["biome", "format", "--write", EVENT_JSON_SCHEMA_PATH], { cwd: root, stdio: "inherit" });
console.log(`wrote ${EVENT_JSON_SCHEMA_PATH}`);
