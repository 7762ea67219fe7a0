export * from "#shared/domain/labels/challenge-outcome-label";
export * from "#shared/domain/labels/label-file";
export * from "#shared/domain/labels/label-schema";
export * from "#shared/domain/labels/labels-as-of";
