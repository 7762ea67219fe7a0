import type { Decide } from "#functions/score/score-records";

/** The decision while no rules engine is configured: pass, and say so. */
export const passWithoutRules: Decide = () => ({ action: "pass", reasons: ["NO_RULES_CONFIGURED"] });
