import type { SeededKind } from "#shared/domain/decision/documents";
import {
  SHIPPED_LISTS,
  SHIPPED_MODEL,
  SHIPPED_RULES,
} from "#shared/domain/decision/shipped-defaults.generated";
import { DEFAULT_FEATURE_SET } from "#shared/domain/features/index";

/**
 * The shipped default documents of every kind, as plain data embedded in the code: what a fresh
 * deployment is seeded with and what the score function falls back to when no configured version
 * compiles. Generated from `config/defaults/` (rules, lists, model); the feature set is
 * `DEFAULT_FEATURE_SET`. Bundles carry it without file access or a YAML parser.
 */
export const SHIPPED_DEFAULTS: Readonly<Record<SeededKind, unknown>> = {
  rules: SHIPPED_RULES,
  lists: SHIPPED_LISTS,
  model: SHIPPED_MODEL,
  features: DEFAULT_FEATURE_SET,
};
