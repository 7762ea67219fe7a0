/**
 * Writes `shared/domain/decision/shipped-defaults.generated.ts` from `config/defaults/` (rules.yaml,
 * lists.json, model.json): the shipped defaults as plain data, so a Lambda bundle (the score
 * function's fallback, the deploy-time seeding custom resource) carries them without reading files
 * or parsing YAML. `npm run defaults:embed` after editing a default; a unit test fails while the
 * generated module and the files disagree.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { embeddedDefaultsSource } from "#shared/adapters/config-files";

const target = fileURLToPath(
  new URL("../shared/domain/decision/shipped-defaults.generated.ts", import.meta.url),
);
writeFileSync(target, embeddedDefaultsSource());
process.stdout.write(`wrote ${target}\n`);
