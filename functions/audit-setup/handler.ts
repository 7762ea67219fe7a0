import { Logger } from "@aws-lambda-powertools/logger";
import type { CloudFormationCustomResourceEvent } from "aws-lambda";
import { handleSetupEvent, respondToCloudFormation } from "#functions/audit-setup/setup-event";
import { enableAuditLogging } from "#shared/adapters/opensearch-audit-logging";
import { installAuditIndex } from "#shared/adapters/opensearch-audit-setup";
import { createOpenSearchClient } from "#shared/adapters/opensearch-client";

const logger = new Logger({ serviceName: "vigil-audit-setup" });
const region = process.env.AWS_REGION ?? "";

/**
 * Provider of the `Custom::VigilAuditIndex` CloudFormation resource: installs the audit index
 * template, the ISM retention policy, the fine-grained access control roles and the audit log
 * configuration. Its role is the domain's master user, the only principal allowed to manage them.
 */
export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  await handleSetupEvent(event, {
    install: async ({ endpoint, settings, access }) => {
      // Transport retries help while a freshly created domain finishes coming up.
      const client = createOpenSearchClient({ endpoint, region, maxRetries: 5 });
      try {
        await installAuditIndex(client, settings, access);
        await enableAuditLogging(client);
      } finally {
        await client.close();
      }
    },
    respond: respondToCloudFormation,
    logger,
  });
}
