import { z } from "zod";
import { ENV, TABLES } from "#shared/resources";

const schema = z.object({
  [TABLES.decisions.envVar]: z.string().min(1),
  [ENV.decisionRetentionDays]: z.coerce.number().int().positive().max(3650).default(90),
});

/** What the score function needs from its environment, validated once at cold start. */
export interface ScoreConfig {
  readonly decisionsTable: string;
  readonly decisionRetentionSeconds: number;
}

/** Reads and validates the score function's configuration; throws naming every bad variable. */
export function loadScoreConfig(env: Readonly<Record<string, string | undefined>>): ScoreConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`score function configuration is invalid: ${problems}`);
  }
  return {
    decisionsTable: parsed.data[TABLES.decisions.envVar],
    decisionRetentionSeconds: parsed.data[ENV.decisionRetentionDays] * 86_400,
  };
}
