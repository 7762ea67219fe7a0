import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Comparison } from "#cli/model-operations";
import { DEFAULT_SEED } from "#shared/domain/simulation/index";
import { VIGIL_BIN } from "../../support/processes.ts";

function vigil(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [VIGIL_BIN, ...args], {
    encoding: "utf8",
    cwd,
    timeout: 170_000,
  });
  if (result.status !== 0)
    throw new Error(`vigil ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/**
 * Issue 14's acceptance: a model trained by `vigil model train` on the simulator's labelled
 * history beats the default that was shipped when the learning loop did not exist (the model
 * fitted by a script to simulated truth, kept as local/training/previous-champion-model.json) on a
 * holdout from another seed. Since issue 16 the shipped default is itself this loop's output on a
 * third seed (local/training/default-model.ts, reproduced exactly by a unit test), so it is the
 * loop's result, not its baseline: a model trained here on one seed's history is not expected to
 * beat it, and on the figures seen (seed 7 holdout) it does not (AUC 0.90 against 0.94).
 */
describe("a model trained on the simulator's labelled history (acceptance)", () => {
  it("beats the pre-loop default on a holdout from another seed: higher recall at that default's false-positive rate", () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-train-"));
    // Files only (no tables, no TTL): fixed dates keep the run identical on any day.
    // date-safe: a cutoff for labels read from files (no table, no TTL)
    const cutoff = "2030-01-01T00:00:00Z";
    vigil(
      [
        "simulate",
        "--seed",
        String(DEFAULT_SEED),
        "--start",
        // date-safe: a simulation written to a file (no table, no TTL)
        "2026-03-03T00:00:00Z",
        "--out",
        "train.ndjson",
        "--outcomes",
        "train.labels.ndjson",
      ],
      dir,
    );
    vigil(
      [
        "dataset",
        "export",
        "--replay",
        "train.ndjson",
        "--labels",
        "train.labels.ndjson",
        "--labels-as-of",
        cutoff,
        "--unlabelled",
        "assume-legit",
        "--out",
        "train-set",
      ],
      dir,
    );
    vigil(
      [
        "model",
        "train",
        "--dataset",
        "train-set.ndjson",
        "--algorithm",
        "lr",
        "--version",
        "test-1",
        "--out",
        "lr.json",
      ],
      dir,
    );
    // date-safe: a simulation written to a file (no table, no TTL)
    vigil(["simulate", "--seed", "7", "--start", "2026-03-10T00:00:00Z", "--out", "hold.ndjson"], dir);
    vigil(
      [
        "dataset",
        "export",
        "--replay",
        "hold.ndjson",
        "--truth",
        "hold.truth.ndjson",
        "--labels-as-of",
        cutoff,
        "--out",
        "hold-set",
      ],
      dir,
    );

    const preLoop = join(process.cwd(), "local/training/previous-champion-model.json");
    const printed = vigil(["model", "compare", preLoop, "lr.json", "--dataset", "hold-set.ndjson"], dir);
    const line =
      /At A's false-positive rate \(([\d.]+)%\): recall A ([\d.]+)%, B ([\d.]+)% \(B's threshold [\d.]+, FPR ([\d.]+)%\)/.exec(
        printed,
      );
    expect(line, printed).not.toBeNull();
    const [, fprA, recallA, recallB, fprB] = (line as RegExpExecArray).map(Number);
    expect(fprB).toBeLessThanOrEqual(fprA as number);
    expect(recallB).toBeGreaterThan((recallA as number) + 10);

    const c = JSON.parse(
      vigil(["model", "compare", preLoop, "lr.json", "--dataset", "hold-set.ndjson", "--json"], dir),
    ) as Comparison;
    expect(c.a.examples).toBe(c.b.examples);
    expect(c.atFprOfA.b.fpr).toBeLessThanOrEqual(c.atFprOfA.fpr);
    expect(c.atFprOfA.b.recall).toBeGreaterThan(c.atFprOfA.a.recall);
    expect(c.b.auc).toBeGreaterThan(c.a.auc);
  });
});
