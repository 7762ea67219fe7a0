import type { Client } from "@opensearch-project/opensearch";
import {
  type AuditIndexSettings,
  auditIndexTemplate,
  auditIsmPolicy,
  auditReaderRole,
  auditWriterRole,
  ismPolicyId,
  readerRoleName,
  templateName,
  writerRoleName,
} from "#shared/domain/audit/audit-index";

/** IAM role ARNs mapped to the audit roles of fine-grained access control. */
export interface AuditAccess {
  /** Roles allowed to write audit documents (the audit function). */
  readonly writers: readonly string[];
  /** Roles allowed to search the audit indices (reports, analysts). */
  readonly readers: readonly string[];
}

type Transport = Pick<Client, "transport">;

const statusOf = (error: unknown) => (error as { meta?: { statusCode?: number } }).meta?.statusCode;

/**
 * Installs (or updates: every step is an idempotent PUT) what the audit trail needs in a domain:
 * the index template with its explicit mappings, the ISM retention policy (updated with the
 * sequence number optimistic lock when it exists), and, with fine-grained access control, the
 * writer and reader roles mapped to IAM roles as backend roles. Run by the CDK custom resource's
 * provider on every deployment, and by tests against any OpenSearch.
 */
export async function installAuditIndex(
  client: Transport,
  settings: AuditIndexSettings,
  access?: AuditAccess,
): Promise<void> {
  const request = (method: string, path: string, body?: unknown, querystring?: Record<string, unknown>) =>
    client.transport.request({
      method,
      path,
      ...(body ? { body } : {}),
      ...(querystring ? { querystring } : {}),
    });

  await request("PUT", `/_index_template/${templateName(settings.prefix)}`, auditIndexTemplate(settings));

  const policyPath = `/_plugins/_ism/policies/${ismPolicyId(settings.prefix)}`;
  let current: { _seq_no?: number; _primary_term?: number } | undefined;
  try {
    current = (await request("GET", policyPath)).body as typeof current;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  await request(
    "PUT",
    policyPath,
    auditIsmPolicy(settings),
    current?._seq_no !== undefined
      ? { if_seq_no: current._seq_no, if_primary_term: current._primary_term }
      : undefined,
  );

  if (!access) return;
  const roles: Array<[string, unknown, readonly string[]]> = [
    [writerRoleName(settings.prefix), auditWriterRole(settings.prefix), access.writers],
    [readerRoleName(settings.prefix), auditReaderRole(settings.prefix), access.readers],
  ];
  for (const [name, role, backendRoles] of roles) {
    await request("PUT", `/_plugins/_security/api/roles/${name}`, role);
    await request("PUT", `/_plugins/_security/api/rolesmapping/${name}`, {
      backend_roles: [...backendRoles],
    });
  }
}
