import { type ConfigIssue, ConfigValidationError, zodIssues } from "#shared/domain/decision/issues";
import {
  type ListEntry,
  type ListKind,
  type ListsDocument,
  listsDocumentSchema,
  MAX_LIST_ENTRIES,
  normalizeListValue,
} from "#shared/domain/decision/lists/list-schema";

/**
 * Checks a lists document: its shape, every value in canonical form (so lookups can be exact),
 * and the total size. Throws ConfigValidationError naming every problem.
 */
export function validateListsDocument(input: unknown): ListsDocument {
  const parsed = listsDocumentSchema.safeParse(input);
  if (!parsed.success) throw new ConfigValidationError("lists", zodIssues(parsed.error.issues));
  const issues: ConfigIssue[] = [];
  let total = 0;
  for (const [name, entries] of Object.entries(parsed.data.lists)) {
    const seen = new Set<string>();
    entries.forEach((entry, i) => {
      total++;
      const path = `lists.${name}[${i}].value`;
      const normalized = normalizeListValue(entry.kind, entry.value);
      if (!normalized.ok) issues.push({ path, message: `not ${normalized.message}` });
      else if (normalized.value !== entry.value) {
        issues.push({ path, message: `not in canonical form; write it as ${normalized.value}` });
      }
      const key = `${entry.kind} ${entry.value}`;
      if (seen.has(key)) issues.push({ path, message: `duplicate ${entry.kind} entry ${entry.value}` });
      seen.add(key);
    });
  }
  if (total > MAX_LIST_ENTRIES) {
    issues.push({
      path: "lists",
      message: `${total} entries; at most ${MAX_LIST_ENTRIES} fit in one version`,
    });
  }
  if (issues.length > 0) throw new ConfigValidationError("lists", issues);
  return parsed.data;
}

/** What `addListEntry` takes: the value as an operator typed it. */
export interface ListEntryInput {
  readonly list: string;
  readonly kind: ListKind;
  readonly value: string;
  readonly expiresAt?: string;
  readonly comment?: string;
}

/** The result of an edit: the new document and the entry concerned. */
export interface ListEdit {
  readonly document: ListsDocument;
  readonly entry: ListEntry;
  /** `add`: an entry with the same kind and value was replaced. */
  readonly replaced: boolean;
}

/**
 * Adds an entry (normalizing its value), replacing an entry of the same list, kind and value: a
 * second `add` renews an expiry or a comment instead of creating a duplicate.
 */
export function addListEntry(
  document: ListsDocument,
  input: ListEntryInput,
  stamp: { readonly author: string; readonly now: string },
): ListEdit {
  const normalized = normalizeListValue(input.kind, input.value);
  if (!normalized.ok) {
    throw new ConfigValidationError("lists", [
      { path: `lists.${input.list}`, message: `value is not ${normalized.message}` },
    ]);
  }
  const entry: ListEntry = {
    kind: input.kind,
    value: normalized.value,
    ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
    ...(input.comment === undefined ? {} : { comment: input.comment }),
    addedBy: stamp.author,
    addedAt: stamp.now,
  };
  const current = document.lists[input.list] ?? [];
  const kept = current.filter((e) => !(e.kind === entry.kind && e.value === entry.value));
  const next = { lists: { ...document.lists, [input.list]: [...kept, entry] } };
  return { document: validateListsDocument(next), entry, replaced: kept.length !== current.length };
}

/** `remove` named an entry the list does not have. */
export class ListEntryNotFoundError extends Error {
  override readonly name = "ListEntryNotFoundError";
}

/** Removes the entry of a list with this kind and value; throws ListEntryNotFoundError when there is none. */
export function removeListEntry(
  document: ListsDocument,
  input: Omit<ListEntryInput, "expiresAt" | "comment">,
): ListEdit {
  const normalized = normalizeListValue(input.kind, input.value);
  const value = normalized.ok ? normalized.value : input.value;
  const current = document.lists[input.list] ?? [];
  const entry = current.find((e) => e.kind === input.kind && e.value === value);
  if (entry === undefined)
    throw new ListEntryNotFoundError(`list ${input.list} has no ${input.kind} entry ${value}`);
  const rest = current.filter((e) => e !== entry);
  const lists = { ...document.lists };
  if (rest.length === 0) delete lists[input.list];
  else lists[input.list] = rest;
  return { document: { lists }, entry, replaced: false };
}

/** True when the entry no longer matches at `now` (epoch ms). */
export function isExpired(entry: ListEntry, now: number): boolean {
  return entry.expiresAt !== undefined && Date.parse(entry.expiresAt) <= now;
}
