import type { CloudFormationCustomResourceResponse } from "aws-lambda";

/**
 * Sends a custom resource's response document to CloudFormation's pre-signed S3 URL, as
 * CloudFormation expects: an HTTP PUT with an empty content type. Throws when the URL refuses it,
 * so the provider's invocation fails visibly instead of leaving the stack waiting for an hour.
 */
export async function respondToCloudFormation(
  url: string,
  response: CloudFormationCustomResourceResponse,
): Promise<void> {
  const body = JSON.stringify(response);
  const res = await fetch(url, { method: "PUT", body, headers: { "content-type": "" } });
  if (!res.ok) throw new Error(`CloudFormation response not accepted: HTTP ${res.status}`);
}
