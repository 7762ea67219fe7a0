import { describe, expect, it } from "vitest";
import { configFromOptions } from "#cli/commands/simulate";
import { CliError } from "#cli/output";
import { describePacing, formatMs, pacingFrom } from "#cli/simulation-options";
import { DEFAULT_ATTACKS } from "#shared/domain/simulation/index";

const base = {
  seed: "7",
  users: "100",
  hours: "24",
  historyDays: "5",
  newUsers: "0.04",
  attackScale: "1",
  attack: [] as string[],
  out: "-",
  to: "file",
};

describe("vigil simulate options", () => {
  it("builds the config, with --attack replacing one attack's count", () => {
    const config = configFromOptions(
      { ...base, attack: ["card_testing:slow=3", "coupon_farming:burst=0"] },
      1_000_000_000_000,
    );
    expect(config).toMatchObject({
      seed: 7,
      users: 100,
      liveHours: 24,
      historyDays: 5,
      startMs: 1_000_000_000_000,
    });
    expect(config.attacks.find((a) => a.type === "card_testing" && a.variant === "slow")?.instances).toBe(3);
    expect(config.attacks.find((a) => a.type === "coupon_farming" && a.variant === "burst")?.instances).toBe(
      0,
    );
    expect(config.attacks).toHaveLength(DEFAULT_ATTACKS.length);
  });

  it("scales every attack, and --attack-scale 0 stages none", () => {
    const none = configFromOptions({ ...base, attackScale: "0" }, 1_000_000_000_000);
    expect(none.attacks.every((a) => a.instances === 0)).toBe(true);
    const double = configFromOptions({ ...base, attackScale: "2" }, 1_000_000_000_000);
    expect(double.attacks.map((a) => a.instances)).toEqual(DEFAULT_ATTACKS.map((a) => a.instances * 2));
  });

  it("refuses unknown attacks, bad numbers and timelines past the lateness bound, with the option's name", () => {
    expect(() => configFromOptions({ ...base, attack: ["phishing:burst=1"] }, 0)).toThrow(
      /--attack phishing:burst=1/,
    );
    expect(() => configFromOptions({ ...base, users: "ten" }, 1_000_000_000_000)).toThrow(/--users/);
    expect(() => configFromOptions({ ...base, historyDays: "6", hours: "48" }, 1_000_000_000_000)).toThrow(
      /invalid simulation: .*7-day lateness bound/,
    );
    expect(() => configFromOptions({ ...base, users: "5" }, 1_000_000_000_000)).toThrow(CliError);
  });
});

describe("pacing options", () => {
  it("takes at most one of --speedup, --rate and --max-rate", () => {
    expect(pacingFrom({}, { kind: "max" })).toEqual({ kind: "max" });
    expect(pacingFrom({ speedup: "720" }, { kind: "max" })).toEqual({ kind: "speedup", factor: 720 });
    expect(pacingFrom({ rate: "50" }, { kind: "max" })).toEqual({ kind: "rate", perSecond: 50 });
    expect(pacingFrom({ maxRate: true }, { kind: "rate", perSecond: 1 })).toEqual({ kind: "max" });
    expect(() => pacingFrom({ speedup: "10", rate: "5" }, { kind: "max" })).toThrow(/at most one/);
    expect(() => pacingFrom({ speedup: "0" }, { kind: "max" })).toThrow(/--speedup/);
    expect(() => pacingFrom({ rate: "x" }, { kind: "max" })).toThrow(/--rate/);
  });

  it("describes a pace and a duration the way the summary prints them", () => {
    expect(describePacing({ kind: "speedup", factor: 1440 })).toBe(
      "event time 1440x the wall clock (a simulated day in 1.0 min)",
    );
    expect(describePacing({ kind: "speedup", factor: 86_400 })).toBe(
      "event time 86400x the wall clock (a simulated day in 1 s)",
    );
    expect(describePacing({ kind: "rate", perSecond: 40 })).toBe("40 events/s");
    expect([formatMs(812.4), formatMs(1930), formatMs(undefined)]).toEqual(["812 ms", "1.93 s", "–"]);
  });
});
