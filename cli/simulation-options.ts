import { CliError } from "#cli/output";
import type { Pacing } from "#shared/domain/simulation/index";

/** Options every traffic-sending command shares. */
export interface PacingOptions {
  readonly speedup?: string;
  readonly rate?: string;
  readonly maxRate?: boolean;
}

/** A positive integer option, or a CliError naming it. */
export function positiveInteger(value: string, name: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new CliError(`${name} must be an integer of at least ${min}`);
  return n;
}

/** A non-negative number option, or a CliError naming it. */
export function nonNegative(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new CliError(`${name} must be a number of at least 0`);
  return n;
}

/** `--speedup`, `--rate` and `--max-rate` as a Pacing (at most one of them; `fallback` when none). */
export function pacingFrom(opts: PacingOptions, fallback: Pacing): Pacing {
  const given = [opts.speedup !== undefined, opts.rate !== undefined, opts.maxRate === true].filter(Boolean);
  if (given.length > 1) throw new CliError("give at most one of --speedup, --rate and --max-rate");
  if (opts.maxRate) return { kind: "max" };
  if (opts.speedup !== undefined) {
    const factor = Number(opts.speedup);
    if (!(factor > 0) || !Number.isFinite(factor)) throw new CliError("--speedup must be a positive number");
    return { kind: "speedup", factor };
  }
  if (opts.rate !== undefined) {
    const perSecond = Number(opts.rate);
    if (!(perSecond > 0) || !Number.isFinite(perSecond))
      throw new CliError("--rate must be a positive number");
    return { kind: "rate", perSecond };
  }
  return fallback;
}

/** How a pacing reads in a summary. */
export function describePacing(pacing: Pacing): string {
  switch (pacing.kind) {
    case "max":
      return "as fast as the stream takes it";
    case "rate":
      return `${pacing.perSecond} events/s`;
    case "speedup": {
      const minutesPerDay = 1440 / pacing.factor;
      return `event time ${pacing.factor}x the wall clock (a simulated day in ${minutesPerDay < 1 ? `${(minutesPerDay * 60).toFixed(0)} s` : `${minutesPerDay.toFixed(minutesPerDay < 10 ? 1 : 0)} min`})`;
    }
  }
}

/** Milliseconds as `812 ms` or `1.93 s`. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return "–";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
