import type { Client } from "@opensearch-project/opensearch";
import { createOpenSearchClient } from "#shared/adapters/opensearch-client";
import { DEFAULT_AUDIT_INDEX_PREFIX } from "#shared/domain/audit/audit-document";
import { ENV } from "#shared/resources";

/**
 * The audit trail's OpenSearch domain as the environment names it (`VIGIL_OPENSEARCH_ENDPOINT`,
 * the index prefix, the SDK's region and credentials), with a signing client; undefined when no
 * endpoint is set (the local stack's audit files are used instead).
 */
export function openSearchFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): { readonly client: Client; readonly prefix: string; readonly endpoint: string } | undefined {
  const endpoint = env[ENV.openSearchEndpoint];
  if (!endpoint) return undefined;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new Error(`AWS_REGION is needed to sign requests to ${endpoint}`);
  const prefix = env[ENV.auditIndexPrefix] ?? DEFAULT_AUDIT_INDEX_PREFIX;
  const explicit =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && env !== process.env
      ? {
          getCredentials: async () => ({
            accessKeyId: env.AWS_ACCESS_KEY_ID as string,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          }),
        }
      : {};
  return {
    client: createOpenSearchClient({ endpoint, region, maxRetries: 3, ...explicit }),
    prefix,
    endpoint,
  };
}
