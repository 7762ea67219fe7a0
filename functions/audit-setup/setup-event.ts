import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from "aws-lambda";
import * as z from "zod";
import type { AuditAccess } from "#shared/adapters/opensearch-audit-setup";
import { AUDIT_INDEX_PREFIX_PATTERN } from "#shared/domain/audit/audit-document";
import type { AuditIndexSettings } from "#shared/domain/audit/audit-index";

/** CloudFormation passes every property as a string (numbers too). */
const count = z.coerce.number().int().min(0);
const roleArns = z.array(z.string().startsWith("arn:")).default([]);

/** Properties of the `Custom::VigilAuditIndex` resource. */
export const setupPropertiesSchema = z.object({
  Endpoint: z.url({ protocol: /^https?$/ }),
  Prefix: z.string().regex(AUDIT_INDEX_PREFIX_PATTERN),
  RetentionDays: count.min(1),
  Replicas: count,
  Shards: count.min(1),
  Writers: roleArns,
  Readers: roleArns,
});

/** What one setup event asks for. */
export interface SetupRequest {
  readonly endpoint: string;
  readonly settings: AuditIndexSettings;
  readonly access: AuditAccess;
}

/** The setup handler's I/O, injected so it can be tested against local servers. */
export interface SetupDependencies {
  /** Installs template, ISM policy and roles (installAuditIndex with a client for the endpoint). */
  install(request: SetupRequest): Promise<void>;
  /** Sends the response document to CloudFormation's pre-signed URL. */
  respond(url: string, response: CloudFormationCustomResourceResponse): Promise<void>;
  readonly logger: { error(message: string, extra: Record<string, unknown>): void };
}

/**
 * Handles one custom resource event: Create and Update install (every step is an idempotent PUT,
 * so an update re-applies everything); Delete leaves the indices, template and policy in place
 * (the audit trail outlives the stack, as the domain does). Always answers CloudFormation, with
 * FAILED and the error when installing failed, so a deployment never hangs for an hour.
 */
export async function handleSetupEvent(
  event: CloudFormationCustomResourceEvent,
  deps: SetupDependencies,
): Promise<void> {
  const physicalId = event.RequestType === "Create" ? `vigil-audit-index` : event.PhysicalResourceId;
  let status: "SUCCESS" | "FAILED" = "SUCCESS";
  let reason = "installed";
  if (event.RequestType !== "Delete") {
    try {
      const p = setupPropertiesSchema.parse(event.ResourceProperties);
      await deps.install({
        endpoint: p.Endpoint,
        settings: {
          prefix: p.Prefix,
          retentionDays: p.RetentionDays,
          replicas: p.Replicas,
          shards: p.Shards,
        },
        access: { writers: p.Writers, readers: p.Readers },
      });
    } catch (error) {
      status = "FAILED";
      reason = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 1000) : String(error);
      deps.logger.error("audit index setup failed", { reason });
    }
  } else reason = "kept: the audit indices outlive the stack";
  await deps.respond(event.ResponseURL, {
    Status: status,
    Reason: reason,
    PhysicalResourceId: physicalId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
}

/** PUTs the response document to the pre-signed S3 URL, as CloudFormation expects (no content type). */
export async function respondToCloudFormation(
  url: string,
  response: CloudFormationCustomResourceResponse,
): Promise<void> {
  const body = JSON.stringify(response);
  const res = await fetch(url, { method: "PUT", body, headers: { "content-type": "" } });
  if (!res.ok) throw new Error(`CloudFormation response not accepted: HTTP ${res.status}`);
}
