import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { Client } from "@opensearch-project/opensearch";
import { AwsSigv4Signer } from "@opensearch-project/opensearch/aws-v3";

/** Credentials for SigV4 signing. */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Options of {@link createOpenSearchClient}. */
export interface OpenSearchClientOptions {
  /** Domain endpoint, `https://host` (or `http://127.0.0.1:port` for a test server). */
  readonly endpoint: string;
  /** Region to sign for. */
  readonly region: string;
  /** Default: the SDK's default provider chain (env, web identity, container, instance...), memoized. */
  readonly getCredentials?: () => Promise<SigningCredentials>;
  /** Transport-level retries on connection errors and 502/503/504. Default 0: callers own the retry policy. */
  readonly maxRetries?: number;
  /** Per-request timeout. Default 30 s. */
  readonly requestTimeoutMs?: number;
}

/**
 * The official OpenSearch client, every request SigV4-signed for the `es` service (Amazon
 * OpenSearch Service; LocalStack accepts the same). Fine-grained access control then maps the
 * signing IAM role to an OpenSearch role.
 */
export function createOpenSearchClient(options: OpenSearchClientOptions): Client {
  return new Client({
    ...AwsSigv4Signer({
      region: options.region,
      service: "es",
      getCredentials: options.getCredentials ?? defaultProvider(),
    }),
    node: options.endpoint,
    maxRetries: options.maxRetries ?? 0,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
  });
}
