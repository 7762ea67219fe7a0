/**
 * The traffic simulator: a seeded generator of realistic traffic with labelled attacks, its send
 * schedule, and the detection-quality evaluation. Pure: no clock, no I/O. See docs/simulator.md.
 */
export * from "#shared/domain/simulation/ground-truth";
export * from "#shared/domain/simulation/outcomes";
export * from "#shared/domain/simulation/quality";
export * from "#shared/domain/simulation/send-schedule";
export * from "#shared/domain/simulation/simulate";
export * from "#shared/domain/simulation/simulation-config";
