import { describe, expect, it } from "vitest";
import {
  canonicalEmail,
  DEFAULT_DERIVED_KEY_RULES,
  emailDomain,
  ipPrefix,
  phoneBlock,
  resolveDerivedKeyRules,
} from "#shared/domain/enrichment/derived-keys";

const email = DEFAULT_DERIVED_KEY_RULES.email;

describe("derived keys", () => {
  it("folds Gmail dots, +tags and googlemail.com, and only +tags elsewhere", () => {
    expect(canonicalEmail("j.doe+promo@gmail.com", email)).toBe("jdoe@gmail.com");
    expect(canonicalEmail("j.d.o.e@googlemail.com", email)).toBe("jdoe@gmail.com");
    expect(canonicalEmail("j.doe+promo@outlook.com", email)).toBe("j.doe@outlook.com");
    expect(canonicalEmail("j-doe@yahoo.com", email)).toBe("j-doe@yahoo.com");
    // A local part that would become empty is kept.
    expect(canonicalEmail("+news@example.org", email)).toBe("+news@example.org");
    expect(canonicalEmail("...@gmail.com", email)).toBe("...@gmail.com");
  });

  it("applies provider rules given as data", () => {
    const rules = resolveDerivedKeyRules({
      email: {
        providers: [{ domains: ["yahoo.com"], ignoreDots: false, tagSeparator: "-" }],
        otherTagSeparator: null,
      },
    }).email;
    expect(canonicalEmail("jane-shop@yahoo.com", rules)).toBe("jane@yahoo.com");
    expect(canonicalEmail("jane+shop@example.org", rules)).toBe("jane+shop@example.org");
    expect(canonicalEmail("j.ane+x@gmail.com", rules)).toBe("j.ane+x@gmail.com");
  });

  it("takes the domain, the phone block and the network prefix", () => {
    expect(emailDomain("a@b.example")).toBe("b.example");
    expect(phoneBlock("+12015550123", 4)).toBe("+1201555");
    expect(phoneBlock("+123", 4)).toBeUndefined();
    const rules = { ipv4PrefixBits: 24, ipv6PrefixBits: 48 };
    expect(ipPrefix("203.0.113.77", rules)).toBe("203.0.113.0/24");
    expect(ipPrefix("2001:db8:abcd:12::1", rules)).toBe("2001:db8:abcd::/48");
    expect(ipPrefix("2001:db8:abcd:12::1", { ipv4PrefixBits: 20, ipv6PrefixBits: 64 })).toBe(
      "2001:db8:abcd:12::/64",
    );
    expect(ipPrefix("203.0.113.77", { ipv4PrefixBits: 20, ipv6PrefixBits: 64 })).toBe("203.0.112.0/20");
    expect(ipPrefix("not an ip", rules)).toBeUndefined();
  });
});
