/**
 * `npm run cost:backtest`: what a stored-vector backtest over one million archived events costs on
 * AWS, distributed (Lambda, Step Functions) and run on one machine outside AWS, from
 * `scripts/cost/pricing.ts` (docs/backtest.md, "What a backtest costs").
 */
import { formatBacktestCosts } from "./cost/backtest-cost.ts";

process.stdout.write(formatBacktestCosts());
