import type { RuleDefinition, RulesDocument, StampedRule } from "#shared/domain/decision/rules/rule-schema";

/**
 * Lifecycle metadata for the rules of a document about to be stored. A rule keeps its version,
 * author and timestamps while its content (everything an operator writes) is unchanged, and gets
 * version + 1, this author and this time when anything in it changes, its mode included. New
 * rules start at version 1. Metadata present in the input is ignored: it is recomputed, so a
 * file produced by `vigil rules show` can be edited and applied as it is.
 */
export function stampRules(
  previous: RulesDocument | undefined,
  next: RulesDocument,
  stamp: { readonly author: string; readonly now: string },
): RulesDocument & { readonly rules: readonly StampedRule[] } {
  const before = new Map((previous?.rules ?? []).map((r) => [r.id, r]));
  const rules = next.rules.map((rule): StampedRule => {
    const content = ruleContent(rule);
    const old = before.get(rule.id);
    if (
      old &&
      sameContent(ruleContent(old), content) &&
      old.version &&
      old.author &&
      old.createdAt &&
      old.updatedAt
    ) {
      return {
        ...content,
        version: old.version,
        author: old.author,
        createdAt: old.createdAt,
        updatedAt: old.updatedAt,
      };
    }
    return {
      ...content,
      version: (old?.version ?? 0) + 1,
      author: stamp.author,
      createdAt: old?.createdAt ?? stamp.now,
      updatedAt: stamp.now,
    };
  });
  return { ...(next.policy === undefined ? {} : { policy: next.policy }), rules };
}

/** The fields an operator writes, without lifecycle metadata. */
export function ruleContent(rule: RuleDefinition): RuleDefinition {
  const { version: _v, author: _a, createdAt: _c, updatedAt: _u, ...content } = rule;
  return content;
}

function sameContent(a: RuleDefinition, b: RuleDefinition): boolean {
  return canonical(a) === canonical(b);
}

/** JSON with sorted keys, so key order in a file does not count as a change. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
