import { readFileSync } from "node:fs";
import { CliError } from "#cli/output";
import { type Outcome, outcomesAsOf, parseOutcomeFile } from "#shared/domain/backtest/outcomes";
import type { Label } from "#shared/domain/labels/index";

/** `--labels <file>` (repeatable): collects the paths. */
export const collectPaths = (value: string, all: string[]) => [...all, value];

/** Reads label files (label contract NDJSON or ground truth); exit code 2 naming the bad line. */
export function readLabelFiles(paths: readonly string[]): Label[] {
  const labels: Label[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new CliError(`cannot read labels ${path}: ${(error as Error).message}`);
    }
    try {
      labels.push(...parseOutcomeFile(text, path));
    } catch (error) {
      throw new CliError((error as Error).message, 2);
    }
  }
  return labels;
}

/** The outcomes of the labels in `paths` known at `asOf` (ISO; default now), or undefined without files. */
export function outcomesFromFiles(
  paths: readonly string[],
  asOf?: string,
): ReadonlyMap<string, Outcome> | undefined {
  if (paths.length === 0) return undefined;
  const cutoff = asOf === undefined ? Date.now() : Date.parse(asOf);
  if (!Number.isFinite(cutoff)) throw new CliError(`--labels-as-of ${asOf}: not a time (ISO-8601)`, 2);
  return outcomesAsOf(readLabelFiles(paths), cutoff).outcomes;
}
