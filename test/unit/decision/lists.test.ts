import { describe, expect, it } from "vitest";
import {
  addListEntry,
  ConfigValidationError,
  EMPTY_LISTS,
  formatIssue,
  isExpired,
  ListEntryNotFoundError,
  ListIndex,
  type ListsDocument,
  listSubject,
  normalizeListValue,
  removeListEntry,
  validateListsDocument,
} from "#shared/domain/decision/index";
import { cleanEvent, T0 } from "./helpers.ts";

const stamp = { addedBy: "ops", addedAt: "2026-05-01T00:00:00.000Z" };
const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

function indexOf(entries: ListsDocument["lists"][string], name = "block"): ListIndex {
  return new ListIndex(validateListsDocument({ lists: { [name]: entries } }));
}

describe("list values", () => {
  it.each([
    ["ip", " 203.0.113.7 ", "203.0.113.7"],
    ["ip", "203.0.113.77/24", "203.0.113.0/24"],
    ["ip", "::ffff:192.0.2.1", "192.0.2.1"],
    ["ip", "2001:DB8:0:0:0:0:0:1/48", "2001:db8::/48"],
    ["ip", "10.0.0.1/32", "10.0.0.1"],
    ["ip", "0.0.0.0/0", "0.0.0.0/0"],
    ["phone", "+1 (201) 555-0123", "+12015550123"],
    ["emailDomain", "@Mailinator.COM", "mailinator.com"],
    ["user", "user-1", "user-1"],
  ] as const)("%s %j is stored as %j", (kind, value, expected) => {
    expect(normalizeListValue(kind, value)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ["ip", "1.2.3", "an IPv4 or IPv6 address, or a CIDR range such as 203.0.113.0/24"],
    ["ip", "1.2.3.4/33", "a prefix length from 0 to 32 after '/'"],
    ["ip", "2001:db8::/129", "a prefix length from 0 to 128 after '/'"],
    ["ip", "010.0.0.1", "an IPv4 or IPv6 address, or a CIDR range such as 203.0.113.0/24"],
    ["phone", "2015550123", "a phone number in international format (+ country code)"],
    ["emailDomain", "localhost", "an email domain such as example.com"],
    ["device", "has space", "a device identifier: printable ASCII letters, digits and ._:=+/- (at most 128)"],
  ] as const)("%s %j is refused", (kind, value, message) => {
    expect(normalizeListValue(kind, value)).toEqual({ ok: false, message });
  });

  it("refuses documents with values not in canonical form, duplicates, or unknown fields", () => {
    const doc = {
      lists: {
        block: [
          { kind: "ip", value: "203.0.113.7/24", ...stamp },
          { kind: "user", value: "u1", ...stamp },
          { kind: "user", value: "u1", ...stamp },
        ],
        allow: [{ kind: "user", value: "u2", ...stamp, why: "x" }],
      },
    };
    try {
      validateListsDocument(doc);
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigValidationError).issues.map(formatIssue)).toEqual([
        'lists.allow[0]: Unrecognized key: "why"',
      ]);
    }
    try {
      validateListsDocument({ lists: { block: doc.lists.block } });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigValidationError).issues.map(formatIssue)).toEqual([
        "lists.block[0].value: not in canonical form; write it as 203.0.113.0/24",
        "lists.block[2].value: duplicate user entry u1",
      ]);
    }
  });
});

describe("list lookups", () => {
  const subject = (over: Record<string, unknown> = {}) => listSubject(cleanEvent("payment", over));

  it("matches exact values per kind, and nothing of another kind or list", () => {
    const index = indexOf([
      { kind: "user", value: "user-1", ...stamp },
      { kind: "card", value: "card-1", ...stamp },
    ]);
    expect(index.match("block", "user", subject(), T0)).toBe("user-1");
    expect(index.match("block", "card", subject(), T0)).toBe("card-1");
    expect(index.match("block", "device", subject(), T0)).toBeUndefined();
    expect(index.match("allow", "user", subject(), T0)).toBeUndefined();
    expect(index.match("block", "user", subject({ userId: "user-10" }), T0)).toBeUndefined();
    expect(index.match("block", "card", listSubject(cleanEvent("login")), T0)).toBeUndefined();
  });

  it("matches IPv4 and IPv6 addresses inside CIDR ranges, most specific range first", () => {
    const index = indexOf([
      { kind: "ip", value: "198.51.100.0/24", ...stamp },
      { kind: "ip", value: "198.51.0.0/16", ...stamp },
      { kind: "ip", value: "2001:db8::/32", ...stamp },
      { kind: "ip", value: "2001:db8:1::7", ...stamp },
    ]);
    expect(index.match("block", "ip", subject({ ip: "198.51.100.7" }), T0)).toBe("198.51.100.0/24");
    expect(index.match("block", "ip", subject({ ip: "198.51.7.7" }), T0)).toBe("198.51.0.0/16");
    expect(index.match("block", "ip", subject({ ip: "198.52.0.1" }), T0)).toBeUndefined();
    expect(index.match("block", "ip", subject({ ip: "2001:db8:ffff::1" }), T0)).toBe("2001:db8::/32");
    expect(index.match("block", "ip", subject({ ip: "2001:db8:1::7" }), T0)).toBe("2001:db8:1::7");
    expect(index.match("block", "ip", subject({ ip: "2001:db9::1" }), T0)).toBeUndefined();
    // IPv4 ranges never match IPv6 addresses whose bits happen to agree, and vice versa.
    expect(index.match("block", "ip", subject({ ip: "c633::1" }), T0)).toBeUndefined();
  });

  it("matches the whole address space with /0 and range edges exactly", () => {
    const all = indexOf([{ kind: "ip", value: "0.0.0.0/0", ...stamp }]);
    expect(all.match("block", "ip", subject({ ip: "255.255.255.255" }), T0)).toBe("0.0.0.0/0");
    expect(all.match("block", "ip", subject({ ip: "::1" }), T0)).toBeUndefined();
    const edge = indexOf([{ kind: "ip", value: "10.0.0.0/31", ...stamp }]);
    expect(edge.match("block", "ip", subject({ ip: "10.0.0.1" }), T0)).toBe("10.0.0.0/31");
    expect(edge.match("block", "ip", subject({ ip: "10.0.0.2" }), T0)).toBeUndefined();
  });

  it("stops matching at expiry (an entry expiring exactly now no longer matches)", () => {
    const index = indexOf([
      { kind: "device", value: "device-1", expiresAt: at(60_000), ...stamp },
      { kind: "ip", value: "198.51.100.0/24", expiresAt: at(1), ...stamp },
    ]);
    expect(index.match("block", "device", subject(), T0 + 59_999)).toBe("device-1");
    expect(index.match("block", "device", subject(), T0 + 60_000)).toBeUndefined();
    expect(index.match("block", "ip", subject(), T0)).toBe("198.51.100.0/24");
    expect(index.match("block", "ip", subject(), T0 + 1)).toBeUndefined();
  });

  it("finds an unexpired wider range behind an expired narrower one", () => {
    const index = indexOf([
      { kind: "ip", value: "198.51.100.0/24", expiresAt: at(1_000), ...stamp },
      { kind: "ip", value: "198.51.0.0/16", ...stamp },
    ]);
    expect(index.match("block", "ip", subject(), T0)).toBe("198.51.100.0/24");
    expect(index.match("block", "ip", subject(), T0 + 1_000)).toBe("198.51.0.0/16");
  });

  it("matches an email domain and its subdomains, not look-alikes", () => {
    const index = indexOf([{ kind: "emailDomain", value: "mailinator.com", ...stamp }]);
    expect(index.match("block", "emailDomain", subject({ email: "a@mailinator.com" }), T0)).toBe(
      "mailinator.com",
    );
    expect(index.match("block", "emailDomain", subject({ email: "a@eu.mailinator.com" }), T0)).toBe(
      "mailinator.com",
    );
    expect(
      index.match("block", "emailDomain", subject({ email: "a@notmailinator.com" }), T0),
    ).toBeUndefined();
    expect(index.match("block", "emailDomain", subject({ email: undefined }), T0)).toBeUndefined();
  });
});

describe("list edits", () => {
  const who = { author: "ops", now: "2026-05-01T00:00:00.000Z" };

  it("adds normalized entries and renews an existing one instead of duplicating it", () => {
    const first = addListEntry(EMPTY_LISTS, { list: "block", kind: "ip", value: "203.0.113.9/24" }, who);
    expect(first.entry).toEqual({ kind: "ip", value: "203.0.113.0/24", addedBy: "ops", addedAt: who.now });
    expect(first.replaced).toBe(false);
    const renewed = addListEntry(
      first.document,
      {
        list: "block",
        kind: "ip",
        value: "203.0.113.0/24",
        expiresAt: "2026-06-01T00:00:00.000Z",
        comment: "again",
      },
      { author: "bob", now: "2026-05-02T00:00:00.000Z" },
    );
    expect(renewed.replaced).toBe(true);
    expect(renewed.document.lists.block).toEqual([
      {
        kind: "ip",
        value: "203.0.113.0/24",
        expiresAt: "2026-06-01T00:00:00.000Z",
        comment: "again",
        addedBy: "bob",
        addedAt: "2026-05-02T00:00:00.000Z",
      },
    ]);
  });

  it("refuses invalid values and removes by normalized value", () => {
    expect(() => addListEntry(EMPTY_LISTS, { list: "block", kind: "phone", value: "12" }, who)).toThrow(
      ConfigValidationError,
    );
    const doc = addListEntry(
      EMPTY_LISTS,
      { list: "block", kind: "phone", value: "+12015550123" },
      who,
    ).document;
    const removed = removeListEntry(doc, { list: "block", kind: "phone", value: "+1 201 555 0123" });
    expect(removed.document).toEqual({ lists: {} });
    expect(() =>
      removeListEntry(removed.document, { list: "block", kind: "phone", value: "+12015550123" }),
    ).toThrow(new ListEntryNotFoundError("list block has no phone entry +12015550123"));
  });

  it("says whether an entry has expired at a time", () => {
    const entry = { kind: "user" as const, value: "u", expiresAt: at(0), ...stamp };
    expect(isExpired(entry, T0 - 1)).toBe(false);
    expect(isExpired(entry, T0)).toBe(true);
    expect(isExpired({ kind: "user", value: "u", ...stamp }, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});
