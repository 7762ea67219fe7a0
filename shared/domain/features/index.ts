/**
 * Windowed behaviour features: definitions as data, window semantics, the state transition, the
 * batch fold with its exactly-once filter, and the reference implementation. Pure: no SDK, no
 * environment, no clock. See docs/features.md.
 */
export * from "#shared/domain/features/batch";
export * from "#shared/domain/features/default-features";
export * from "#shared/domain/features/definition";
export * from "#shared/domain/features/duration";
export * from "#shared/domain/features/entity-key";
export * from "#shared/domain/features/entity-snapshot";
export * from "#shared/domain/features/entity-state";
export * from "#shared/domain/features/example-features";
export * from "#shared/domain/features/feature-vector";
export * from "#shared/domain/features/fields";
export * from "#shared/domain/features/link-counts";
export * from "#shared/domain/features/reference-features";
export * from "#shared/domain/features/sequence-number";
export * from "#shared/domain/features/window";
