import type { Command } from "commander";
import {
  CONFIG_EXIT,
  configStore,
  defaultAuthor,
  runConfigCommand,
  versionOption,
} from "#cli/config-command";
import { addToList, listsInForce, removeFromList } from "#cli/config-operations";
import { CliError, say } from "#cli/output";
import { isExpired, isListName, LIST_KINDS, type ListKind } from "#shared/domain/decision/index";

const DURATION = /^([1-9][0-9]{0,5})([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function listName(name: string): string {
  if (!isListName(name))
    throw new CliError(`list name ${name}: lower snake case, at most 32 characters`, CONFIG_EXIT.invalid);
  return name;
}

function listKind(kind: string): ListKind {
  if (!(LIST_KINDS as readonly string[]).includes(kind)) {
    throw new CliError(`kind ${kind}: one of ${LIST_KINDS.join(", ")}`, CONFIG_EXIT.invalid);
  }
  return kind as ListKind;
}

/** `--expires`: an ISO-8601 instant, or a duration from now such as 30m, 12h, 7d. */
export function expiryOption(text: string | undefined, now: number): string | undefined {
  if (text === undefined) return undefined;
  const m = DURATION.exec(text);
  if (m) return new Date(now + Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]).toISOString();
  const at = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(at)) {
    throw new CliError(
      `--expires ${text}: an ISO-8601 time (2026-12-31T00:00:00Z) or a duration (30m, 12h, 7d)`,
      CONFIG_EXIT.invalid,
    );
  }
  if (at <= now) throw new CliError(`--expires ${text} is in the past`, CONFIG_EXIT.invalid);
  return new Date(at).toISOString();
}

/**
 * `vigil lists add|remove|show`: block, allow and named lists. Each change is a new version of
 * the lists document; concurrent edits are re-applied on top of each other, never lost.
 */
export function registerListsCommands(program: Command): void {
  const lists = program
    .command("lists")
    .description("Block, allow and other lists used by the policy and rules");

  lists
    .command("add")
    .description("Add an entry to a list (or renew it: same list, kind and value)")
    .argument("<list>", "list name: block, allow, or any other name rules refer to as lists.<name>")
    .argument("<kind>", `what the value is: ${LIST_KINDS.join(", ")}`)
    .argument("<value>", "the value; IPs may be CIDR ranges (203.0.113.0/24, 2001:db8::/32)")
    .option("--expires <when>", "ISO-8601 time or duration from now (30m, 12h, 7d); default: never")
    .option("--comment <text>", "why (kept with the entry)")
    .option("--author <name>", "who adds it", defaultAuthor())
    .action(
      async (
        list: string,
        kind: string,
        value: string,
        opts: { expires?: string; comment?: string; author: string },
      ) => {
        const now = Date.now();
        const expiresAt = expiryOption(opts.expires, now);
        await runConfigCommand(async () => {
          const { info, edit } = await addToList(
            configStore(),
            {
              list: listName(list),
              kind: listKind(kind),
              value,
              ...(expiresAt ? { expiresAt } : {}),
              ...(opts.comment ? { comment: opts.comment } : {}),
            },
            {
              author: opts.author,
              now: new Date(now).toISOString(),
              comment: `add ${kind} ${shortValue(value)} to ${list}`,
            },
          );
          say(
            `${edit.replaced ? "Renewed" : "Added"} ${edit.entry.kind} ${edit.entry.value} on ${list}: lists version ${info.version}.`,
          );
          process.stdout.write(
            `${JSON.stringify({ version: info.version, list, entry: edit.entry, replaced: edit.replaced })}\n`,
          );
        });
      },
    );

  lists
    .command("remove")
    .description("Remove an entry from a list")
    .argument("<list>", "list name")
    .argument("<kind>", `one of ${LIST_KINDS.join(", ")}`)
    .argument("<value>", "the value as added (it is normalized the same way)")
    .option("--author <name>", "who removes it", defaultAuthor())
    .action(async (list: string, kind: string, value: string, opts: { author: string }) => {
      await runConfigCommand(async () => {
        const { info, edit } = await removeFromList(
          configStore(),
          { list: listName(list), kind: listKind(kind), value },
          {
            author: opts.author,
            now: new Date().toISOString(),
            comment: `remove ${kind} ${shortValue(value)} from ${list}`,
          },
        );
        say(`Removed ${edit.entry.kind} ${edit.entry.value} from ${list}: lists version ${info.version}.`);
        process.stdout.write(`${JSON.stringify({ version: info.version, list, removed: edit.entry })}\n`);
      });
    });

  lists
    .command("show")
    .description("Show list entries, marking expired ones")
    .argument("[list]", "only this list")
    .option("--kind <kind>", "only this kind")
    .option("--version <n>", "a stored version instead of the one in force")
    .option("--json", "one JSON object per line")
    .action(async (list: string | undefined, opts: { kind?: string; version?: string; json?: boolean }) => {
      const kind = opts.kind === undefined ? undefined : listKind(opts.kind);
      await runConfigCommand(async () => {
        const current = await listsInForce(configStore(), versionOption(opts.version, "--version"));
        const now = Date.now();
        say(`Lists version ${current.version}${current.version === 0 ? " (none applied yet)" : ""}:`);
        let shown = 0;
        for (const [name, entries] of Object.entries(current.document.lists)) {
          if (list !== undefined && name !== list) continue;
          for (const e of entries) {
            if (kind !== undefined && e.kind !== kind) continue;
            shown++;
            const expired = isExpired(e, now);
            if (opts.json) {
              process.stdout.write(`${JSON.stringify({ list: name, ...e, expired })}\n`);
              continue;
            }
            const until = e.expiresAt ? `${expired ? "expired" : "until"} ${e.expiresAt}` : "no expiry";
            process.stdout.write(
              `${name.padEnd(10)} ${e.kind.padEnd(12)} ${e.value.padEnd(40)} ${until}  (${e.addedBy}, ${e.addedAt})${e.comment ? `\n${" ".repeat(11)}${e.comment}` : ""}\n`,
            );
          }
        }
        if (shown === 0) say("No entries.");
      });
    });
}

/** A value for the version comment: shown as typed, cut short so a comment stays one line. */
function shortValue(value: string): string {
  return value.length > 64 ? `${value.slice(0, 61)}...` : value;
}
