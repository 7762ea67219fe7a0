import type { Label, LabelSource } from "#shared/domain/labels/label-schema";

/**
 * Point-in-time label resolution: what was known about a subject at a cutoff. Training sets and
 * backtests call this with their cutoff so that no label observed after it leaks into a row.
 */

/**
 * When two labels of one subject were observed at the same instant, the more authoritative source
 * wins: a chargeback (the bank's verdict) over a person's call over an automated signal.
 */
export const SOURCE_PRECEDENCE: readonly LabelSource[] = [
  "chargeback",
  "manual",
  "review",
  "challenge",
  "import",
];

const rank = (source: LabelSource) => SOURCE_PRECEDENCE.length - SOURCE_PRECEDENCE.indexOf(source);

/**
 * The label in force at `cutoffMs` among one subject's labels: the latest observed at or before
 * the cutoff; ties by source precedence, then by the larger labelId (any fixed rule, so the
 * answer never depends on input order). Undefined when none was known yet.
 */
export function labelAsOf(labels: readonly Label[], cutoffMs: number): Label | undefined {
  let best: Label | undefined;
  let bestMs = Number.NEGATIVE_INFINITY;
  for (const label of labels) {
    const ms = Date.parse(label.observedAt);
    if (ms > cutoffMs) continue;
    if (
      best === undefined ||
      ms > bestMs ||
      (ms === bestMs &&
        (rank(label.source) > rank(best.source) ||
          (rank(label.source) === rank(best.source) && label.labelId > best.labelId)))
    ) {
      best = label;
      bestMs = ms;
    }
  }
  return best;
}
