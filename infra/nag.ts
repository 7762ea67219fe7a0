import { Stack, Validations } from "aws-cdk-lib";
import { flattenCfnReference } from "cdk-nag/lib/utils/flatten-cfn-reference.js";
import type { IConstruct } from "constructs";

/**
 * The id of the `AwsSolutions-IAM5` finding cdk-nag reports for a wildcard resource, computed the
 * way the rule computes it: the resource as the template will hold it (`Stack.resolve`), flattened
 * with cdk-nag's own function. In an environment-agnostic stack the region and account appear as
 * `<AWS::Region>` and `<AWS::AccountId>`; with a concrete environment they are the literal values,
 * so an id written by hand only matches one of the two.
 */
export function wildcardResourceFinding(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(resource))}]`;
}

/**
 * Acknowledges the IAM5 findings of wildcard resources on `scope`, whatever the stack's environment.
 */
export function acknowledgeWildcardResources(
  scope: IConstruct,
  resources: readonly string[],
  reason: string,
): void {
  Validations.of(scope).acknowledge(
    ...resources.map((resource) => ({ id: wildcardResourceFinding(scope, resource), reason })),
  );
}
