import { Command, CommanderError } from "commander";
import { registerAlertsCommands } from "#cli/commands/alerts";
import { registerAuditCommands } from "#cli/commands/audit";
import { registerBacktestCommand } from "#cli/commands/backtest";
import { registerDemoCommand } from "#cli/commands/demo";
import { registerEvaluateCommand } from "#cli/commands/evaluate";
import { registerEventCommands } from "#cli/commands/events";
import { registerFeatureCommands } from "#cli/commands/features";
import { registerListsCommands } from "#cli/commands/lists";
import { registerLocalCommands } from "#cli/commands/local";
import { registerQuarantineCommands } from "#cli/commands/quarantine";
import { registerReportCommands } from "#cli/commands/report";
import { registerRulesCommands } from "#cli/commands/rules";
import { registerSimulateCommand } from "#cli/commands/simulate";
import { CliError } from "#cli/output";

const program = new Command()
  .name("vigil")
  .description("Vigil: real-time risk control on AWS. Operator CLI and local stack.")
  .showHelpAfterError()
  .exitOverride();

registerLocalCommands(program);
registerDemoCommand(program);
registerEventCommands(program);
registerQuarantineCommands(program);
registerFeatureCommands(program);
registerRulesCommands(program);
registerListsCommands(program);
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
