import { readFileSync } from "node:fs";
import { DEFAULT_CONFIG_DIR } from "#shared/adapters/config-files";

/**
 * A candidate rule change for backtest tests, made from the shipped rules: card testing from 3
 * payments per card in 10 minutes instead of 5 (more blocks), and an established account on a
 * device and network both new to it reviewed instead of challenged by SMS (less friction).
 */
export function candidateRulesYaml(): string {
  const shipped = readFileSync(`${DEFAULT_CONFIG_DIR}rules.yaml`, "utf8");
  const stricterCardTesting = shipped.replace(
    "features.payments_per_card_10m >= 5",
    "features.payments_per_card_10m >= 3",
  );
  const start = stricterCardTesting.indexOf("- id: unfamiliar_device_and_network");
  const action = stricterCardTesting.indexOf("action: challenge_sms", start);
  if (stricterCardTesting === shipped || start < 0 || action < 0)
    throw new Error("the shipped rules changed: update the backtest candidate");
  return `${stricterCardTesting.slice(0, action)}action: review${stricterCardTesting.slice(action + "action: challenge_sms".length)}`;
}
