/**
 * The decisions-stream contract (`#shared/domain/decision-message/index`): the message score puts
 * on the decisions stream and alert and audit read, and the keyed pseudonyms it carries instead of
 * identifiers. See docs/decisions-stream.md.
 */
export * from "#shared/domain/decision-message/decision-message";
export * from "#shared/domain/decision-message/pseudonymize";
export * from "#shared/domain/decision-message/stored-decision";
