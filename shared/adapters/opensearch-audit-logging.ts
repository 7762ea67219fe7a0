import type { Client } from "@opensearch-project/opensearch";

/** Path of the security plugin's audit log configuration (the FGAC master user sets it). */
export const AUDIT_LOGGING_PATH = "_plugins/_security/api/audit/config";

/**
 * The audit log configuration Vigil installs: REST and transport events recorded, except the two
 * categories that would log every successful request (AUTHENTICATED, GRANTED_PRIVILEGES) and drown
 * the rest; no request bodies (documents are pseudonymous, but bodies would copy the trail into
 * the logs); sensitive headers left out; security configuration changes recorded (compliance,
 * internal config). What remains: failed logins, missing privileges, index events, security
 * changes. OpenSearch Service publishes them to the domain's AUDIT_LOGS log group.
 */
export function auditLoggingConfig() {
  return {
    enabled: true,
    audit: {
      enable_rest: true,
      disabled_rest_categories: ["AUTHENTICATED", "GRANTED_PRIVILEGES"],
      enable_transport: true,
      disabled_transport_categories: ["AUTHENTICATED", "GRANTED_PRIVILEGES"],
      resolve_bulk_requests: false,
      log_request_body: false,
      resolve_indices: true,
      exclude_sensitive_headers: true,
      ignore_users: [],
      ignore_requests: [],
    },
    compliance: {
      enabled: true,
      internal_config: true,
      external_config: false,
      read_metadata_only: true,
      read_watched_fields: {},
      read_ignore_users: [],
      write_metadata_only: true,
      write_log_diffs: false,
      write_watched_indices: [],
      write_ignore_users: [],
    },
  };
}

/** Turns the domain's audit logging on with {@link auditLoggingConfig} (an idempotent PUT). */
export async function enableAuditLogging(client: Pick<Client, "transport">): Promise<void> {
  await client.transport.request({
    method: "PUT",
    path: `/${AUDIT_LOGGING_PATH}`,
    body: auditLoggingConfig(),
  });
}
