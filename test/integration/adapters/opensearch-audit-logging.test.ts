import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUDIT_LOGGING_PATH,
  auditLoggingConfig,
  enableAuditLogging,
} from "#shared/adapters/opensearch-audit-logging";
import { createOpenSearchClient } from "#shared/adapters/opensearch-client";
import { type FakeOpenSearch, startFakeOpenSearch } from "../../support/fake-opensearch.ts";

/** The audit log configuration the setup function installs, on the local OpenSearch server. */
describe("enableAuditLogging", () => {
  let fake: FakeOpenSearch;
  beforeAll(async () => {
    fake = await startFakeOpenSearch();
  });
  afterAll(() => fake.close());

  it("PUTs the security plugin's audit configuration, signed, and can do it again", async () => {
    const client = createOpenSearchClient({
      endpoint: fake.endpoint,
      region: "us-east-1",
      getCredentials: async () => ({ accessKeyId: "test", secretAccessKey: "test" }),
    });
    try {
      await enableAuditLogging(client);
      await enableAuditLogging(client);
    } finally {
      await client.close();
    }
    expect(fake.requests).toEqual([`PUT /${AUDIT_LOGGING_PATH}`, `PUT /${AUDIT_LOGGING_PATH}`]);
    expect(fake.signedRequests).toBe(2);
    expect(fake.auditConfig).toEqual(auditLoggingConfig());
  });

  it("records failures and security changes, never request bodies or every granted request", () => {
    const config = auditLoggingConfig();
    expect(config.enabled).toBe(true);
    expect(config.audit.log_request_body).toBe(false);
    expect(config.audit.exclude_sensitive_headers).toBe(true);
    for (const categories of [
      config.audit.disabled_rest_categories,
      config.audit.disabled_transport_categories,
    ])
      expect(categories).toEqual(["AUTHENTICATED", "GRANTED_PRIVILEGES"]);
    expect(config.compliance).toMatchObject({ enabled: true, internal_config: true, write_log_diffs: false });
  });
});
