/**
 * `npm run cost -- --events-per-day 1000000 --profile prod [-c key=value ...]`: the monthly cost of a
 * deployment, itemised by service, fixed and variable, computed from the template `cdk synth` would
 * produce for that profile (and context) and the per-event figures and prices of
 * `scripts/cost/pricing.ts`.
 */
import { parseArgs } from "node:util";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { CDK_APP_MODE_CONTEXT } from "aws-cdk-lib/cx-api";
import { PROFILE_NAMES } from "#infra/profiles";
import { buildVigilApp } from "#infra/vigil-app";
import { estimateCost, formatEstimate, type TemplateResource } from "./cost/cost-model.ts";
import { PRICES_AS_OF } from "./cost/pricing.ts";

const USAGE =
  "usage: npm run cost -- --events-per-day <n> [--profile dev|prod] [-c key=value ...]\n" +
  "  n: a number such as 1000000, 1e6, 1M or 100M";

function parseCount(text: string): number {
  const match = /^(\d+(?:\.\d+)?(?:e\d+)?)([kKmM]?)$/.exec(text.replaceAll("_", "").replaceAll(",", ""));
  if (!match) throw new Error(`not a number of events: ${text}`);
  const factor = { "": 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6 }[match[2] ?? ""] ?? 1;
  return Number(match[1]) * factor;
}

const { values } = parseArgs({
  options: {
    "events-per-day": { type: "string" },
    profile: { type: "string", default: "dev" },
    context: { type: "string", short: "c", multiple: true, default: [] },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help || values["events-per-day"] === undefined) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(values.help ? 0 : 2);
}
if (!(PROFILE_NAMES as readonly string[]).includes(values.profile)) {
  process.stderr.write(`unknown profile ${values.profile} (${PROFILE_NAMES.join(", ")})\n${USAGE}\n`);
  process.exit(2);
}
const eventsPerDay = parseCount(values["events-per-day"]);
const context: Record<string, string> = {};
for (const pair of values.context) {
  const at = pair.indexOf("=");
  if (at <= 0) throw new Error(`-c takes key=value, got ${pair}`);
  context[pair.slice(0, at)] = pair.slice(at + 1);
}

const cdkJson = (await import("../cdk.json", { with: { type: "json" } })).default as {
  context: Record<string, unknown>;
};
const app = new App({
  context: {
    ...cdkJson.context,
    [CDK_APP_MODE_CONTEXT]: "inmemory",
    // No bundling: the estimate reads the template only.
    "aws:cdk:bundling-stacks": [],
    "vigil:profile": values.profile,
    ...context,
  },
});
const stack = buildVigilApp(app);
const resources = Template.fromStack(stack).toJSON().Resources as Record<string, TemplateResource>;
const estimate = estimateCost(resources, eventsPerDay);
process.stdout.write(
  `${formatEstimate(
    estimate,
    `Vigil, profile ${values.profile}, ${eventsPerDay.toLocaleString("en-US")} events a day ` +
      `(${(estimate.eventsPerMonth / 1e6).toLocaleString("en-US", { maximumFractionDigits: 1 })} M a month); ` +
      `us-east-1 list prices as of ${PRICES_AS_OF} (scripts/cost/pricing.ts)`,
  )}\n`,
);
