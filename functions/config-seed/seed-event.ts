import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from "aws-lambda";
import { seedDefaultConfig } from "#shared/adapters/config-files";
import { ConfigConflictError, type ConfigStore, type ConfigVersionInfo } from "#shared/ports/config-store";

/** Physical id of the seeding resource: one per stack, stable across updates. */
export const SEED_PHYSICAL_ID = "vigil-config-seed";

/** Author recorded on the versions the seeding writes. */
export const SEED_AUTHOR = "vigil-deploy";

/** How often a seed is retried after another writer applied a kind in between (a conflict). */
const CONFLICT_ATTEMPTS = 3;

/** The seeding handler's I/O, injected so it can run against DynamoDB Local and a local HTTP server. */
export interface SeedDependencies {
  /** The config table's store. */
  readonly store: ConfigStore;
  readonly now: () => Date;
  /** Sends the response document to CloudFormation's pre-signed URL. */
  respond(url: string, response: CloudFormationCustomResourceResponse): Promise<void>;
  readonly logger: {
    info(message: string, extra: Record<string, unknown>): void;
    error(message: string, extra: Record<string, unknown>): void;
  };
}

/**
 * Handles one event of the `Custom::VigilConfigSeed` resource. Create and Update write the shipped
 * defaults of every kind that has no version yet (version 1, author `vigil-deploy`) and leave every
 * kind that has one alone, so an operator's configuration is never overwritten and running it again
 * writes nothing. If an operator applies a kind between the check and the write, the write loses
 * the conditional race (ConfigConflictError) and the seed runs again, leaving that kind alone.
 * Delete writes and removes nothing: the configuration outlives the resource (and, in profiles that
 * keep data, the stack). Always answers CloudFormation, FAILED with the error's name when seeding
 * failed, so a deployment never waits for a timeout and never completes without rules in force.
 */
export async function handleSeedEvent(
  event: CloudFormationCustomResourceEvent,
  deps: SeedDependencies,
): Promise<void> {
  const physicalId = event.RequestType === "Create" ? SEED_PHYSICAL_ID : event.PhysicalResourceId;
  let status: "SUCCESS" | "FAILED" = "SUCCESS";
  let reason: string;
  const written: ConfigVersionInfo[] = [];
  if (event.RequestType === "Delete") {
    reason = "kept: the configuration outlives the seeding resource";
  } else {
    try {
      await seedUntilSettled(deps, written);
      reason =
        written.length > 0
          ? `seeded ${written.map((w) => w.kind).join(", ")}`
          : "every kind already had a version; nothing written";
      deps.logger.info("config seed", { seeded: written.map((w) => w.kind) });
    } catch (error) {
      status = "FAILED";
      const name = error instanceof Error ? error.name : "Error";
      const message = error instanceof Error ? error.message : String(error);
      reason = `${name}: ${message}`.slice(0, 1000);
      deps.logger.error("config seed failed", { error: name });
    }
  }
  await deps.respond(event.ResponseURL, {
    Status: status,
    Reason: reason,
    PhysicalResourceId: physicalId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: { Seeded: written.map((w) => w.kind).join(",") },
  });
}

/** Seeds, and seeds again after a conflict; records every version written in `written`. */
async function seedUntilSettled(deps: SeedDependencies, written: ConfigVersionInfo[]): Promise<void> {
  const recording: ConfigStore = {
    head: (kind) => deps.store.head(kind),
    heads: (kinds) => deps.store.heads(kinds),
    get: (kind, version) => deps.store.get(kind, version),
    list: (kind, options) => deps.store.list(kind, options),
    apply: async (request) => {
      const info = await deps.store.apply(request);
      written.push(info);
      return info;
    },
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await seedDefaultConfig(recording, { author: SEED_AUTHOR, now: deps.now().toISOString() });
      return;
    } catch (error) {
      if (!(error instanceof ConfigConflictError) || attempt >= CONFLICT_ATTEMPTS) throw error;
    }
  }
}
