import { Command, CommanderError } from "commander";
import { registerAlertsCommands } from "#cli/commands/alerts";
import { registerAuditCommands } from "#cli/commands/audit";
import { registerBacktestCommand } from "#cli/commands/backtest";
import { registerCasesCommands } from "#cli/commands/cases";
import { registerDatasetCommands } from "#cli/commands/dataset";
import { registerDemoCommand } from "#cli/commands/demo";
import { registerEvaluateCommand } from "#cli/commands/evaluate";
import { registerEventCommands } from "#cli/commands/events";
import { registerFeatureCommands } from "#cli/commands/features";
import { registerLabelsCommands } from "#cli/commands/labels";
import { registerListsCommands } from "#cli/commands/lists";
import { registerLocalCommands } from "#cli/commands/local";
import { registerModelCommands } from "#cli/commands/model";
import { registerQuarantineCommands } from "#cli/commands/quarantine";
import { registerRatesCommands } from "#cli/commands/rates";
import { registerReportCommands } from "#cli/commands/report";
import { registerRulesCommands } from "#cli/commands/rules";
import { registerSimulateCommand } from "#cli/commands/simulate";
import { useStack } from "#cli/env";
import { CliError } from "#cli/output";
import { STACK_ENV_VAR } from "#shared/stack-outputs";

const program = new Command()
  .name("vigil")
  .description("Vigil: real-time risk control on AWS. Operator CLI and local stack.")
  .showHelpAfterError()
  .exitOverride()
  .option("--stack <name>", `read resource names from a deployed stack's Outputs (or set ${STACK_ENV_VAR})`)
  .hook("preAction", async () => {
    const stackName = (program.opts() as { stack?: string }).stack ?? process.env[STACK_ENV_VAR];
    if (stackName) await useStack(stackName);
  });

registerLocalCommands(program);
registerDemoCommand(program);
registerEventCommands(program);
registerQuarantineCommands(program);
registerFeatureCommands(program);
registerRulesCommands(program);
registerListsCommands(program);
registerLabelsCommands(program);
registerCasesCommands(program);
registerDatasetCommands(program);
registerModelCommands(program);
registerRatesCommands(program);
registerAlertsCommands(program);
registerAuditCommands(program);
registerReportCommands(program);
registerSimulateCommand(program);
registerEvaluateCommand(program);
registerBacktestCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof CliError) {
    process.stderr.write(`vigil: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  throw error;
}
