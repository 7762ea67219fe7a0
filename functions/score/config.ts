import * as z from "zod";
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from "#shared/domain/event/index";
import { ENV, STREAMS, TABLES } from "#shared/resources";

const seconds = (ms: number) => ms / 1000;

const schema = z.object({
  [TABLES.decisions.envVar]: z.string().min(1),
  [TABLES.quarantine.envVar]: z.string().min(1),
  [TABLES.state.envVar]: z.string().min(1),
  [TABLES.config.envVar]: z.string().min(1),
  [TABLES.labels.envVar]: z.string().min(1),
  [STREAMS.decisions.envVar]: z.string().min(1),
  [ENV.configRefreshSeconds]: z.coerce.number().min(1).max(300).default(30),
  [ENV.decisionRetentionDays]: z.coerce.number().int().positive().max(3650).default(90),
  [ENV.quarantineRetentionDays]: z.coerce.number().int().positive().max(365).default(14),
  [ENV.maxFutureSkewSeconds]: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(seconds(DEFAULT_DECODE_LIMITS.maxFutureSkewMs)),
  [ENV.maxLatenessSeconds]: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .default(seconds(DEFAULT_DECODE_LIMITS.maxLatenessMs)),
});

/** What the score function needs from its environment, validated once at cold start. */
export interface ScoreConfig {
  readonly decisionsTable: string;
  readonly quarantineTable: string;
  readonly stateTable: string;
  readonly configTable: string;
  /** Where challenge outcomes' labels go. */
  readonly labelsTable: string;
  readonly decisionsStream: string;
  /** How stale the rules, lists and model in force may be. */
  readonly configRefreshMs: number;
  readonly decisionRetentionSeconds: number;
  readonly quarantineRetentionSeconds: number;
  readonly limits: Pick<DecodeLimits, "maxFutureSkewMs" | "maxLatenessMs">;
}

/** Reads and validates the score function's configuration; throws naming every bad variable. */
export function loadScoreConfig(env: Readonly<Record<string, string | undefined>>): ScoreConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`score function configuration is invalid: ${problems}`);
  }
  const c = parsed.data;
  return {
    decisionsTable: c[TABLES.decisions.envVar],
    quarantineTable: c[TABLES.quarantine.envVar],
    stateTable: c[TABLES.state.envVar],
    configTable: c[TABLES.config.envVar],
    labelsTable: c[TABLES.labels.envVar],
    decisionsStream: c[STREAMS.decisions.envVar],
    configRefreshMs: c[ENV.configRefreshSeconds] * 1000,
    decisionRetentionSeconds: c[ENV.decisionRetentionDays] * 86_400,
    quarantineRetentionSeconds: c[ENV.quarantineRetentionDays] * 86_400,
    limits: {
      maxFutureSkewMs: c[ENV.maxFutureSkewSeconds] * 1000,
      maxLatenessMs: c[ENV.maxLatenessSeconds] * 1000,
    },
  };
}
