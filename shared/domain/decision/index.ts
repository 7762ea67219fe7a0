/**
 * The decision engine: CEL rules, block/allow lists, logistic-regression scoring and the
 * per-scenario policy. Pure: no SDK, no environment, no clock (callers pass `now`). See
 * docs/decision-engine.md.
 */
export * from "#shared/domain/decision/action";
export * from "#shared/domain/decision/decision";
export * from "#shared/domain/decision/documents";
export * from "#shared/domain/decision/engine";
export * from "#shared/domain/decision/issues";
export * from "#shared/domain/decision/lists/list-index";
export * from "#shared/domain/decision/lists/list-schema";
export * from "#shared/domain/decision/lists/validate-lists";
export * from "#shared/domain/decision/model/compile-model";
export * from "#shared/domain/decision/model/model-schema";
export * from "#shared/domain/decision/policy/policy-schema";
export * from "#shared/domain/decision/policy/resolve-action";
export * from "#shared/domain/decision/rules/compile-rule";
export * from "#shared/domain/decision/rules/compile-ruleset";
export * from "#shared/domain/decision/rules/feature-condition";
export * from "#shared/domain/decision/rules/rule-metrics";
export * from "#shared/domain/decision/rules/rule-schema";
export * from "#shared/domain/decision/rules/stamp-rules";
export * from "#shared/domain/decision/safety-metrics";
